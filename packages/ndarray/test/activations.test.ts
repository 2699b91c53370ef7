/**
 * The smooth activations (erf, gelu, silu, elu, softplus, mish) and their
 * backward passes against torch 1.13 (tools/torch-fixtures/ndarray.py), on a
 * grid, on values near softplus's threshold, and on NaN, ±0, ±∞, subnormals
 * and huge values; erf against glibc's to the last bit; the backward passes
 * against central finite differences.
 */
import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  type NDArray,
  ShapeError,
  ValueError,
  array,
  elu,
  eluBackward,
  erf,
  gelu,
  geluBackward,
  mish,
  mishBackward,
  mul,
  silu,
  siluBackward,
  softplus,
  softplusBackward,
  sum,
  zeros,
} from '../src/index';
import { assertClose, numericGradient } from '../src/testing/index';
import { loadFixture, randomArray, testRandom } from './helpers';

/** A fixture tensor whose non-finite values are the strings "NaN", "Infinity", "-Infinity". */
interface LooseTensor {
  shape: number[];
  dtype: 'float32' | 'float64';
  data: (number | string)[];
}

interface ActivationCase {
  name: string;
  part: 'values' | 'special';
  dtype: 'float32' | 'float64';
  options: { approximate?: 'none' | 'tanh'; alpha?: number; beta?: number; threshold?: number };
  input: LooseTensor;
  output: LooseTensor;
  outputGrad?: LooseTensor;
  inputGrad?: LooseTensor;
}

interface ActivationFixture {
  cases: ActivationCase[];
  erfLibm: { x: number[]; erf: number[] };
}

const fixture = loadFixture<ActivationFixture>('activations');

function loose(t: LooseTensor): NDArray {
  return array(
    t.data.map((v) => Number(v)),
    { shape: t.shape, dtype: t.dtype },
  );
}

type Forward = (x: NDArray, o: ActivationCase['options']) => NDArray;
type Backward = (g: NDArray, x: NDArray, o: ActivationCase['options']) => NDArray;

const OPS: Record<string, [Forward, Backward | undefined]> = {
  erf: [(x) => erf(x), undefined],
  gelu: [(x) => gelu(x), (g, x) => geluBackward(g, x)],
  gelu_tanh: [(x, o) => gelu(x, { approximate: o.approximate }), (g, x, o) => geluBackward(g, x, { approximate: o.approximate })],
  silu: [(x) => silu(x), (g, x) => siluBackward(g, x)],
  elu: [(x, o) => elu(x, o.alpha), (g, x, o) => eluBackward(g, x, o.alpha)],
  elu_alpha: [(x, o) => elu(x, o.alpha), (g, x, o) => eluBackward(g, x, o.alpha)],
  softplus: [(x, o) => softplus(x, o.beta, o.threshold), (g, x, o) => softplusBackward(g, x, o.beta, o.threshold)],
  softplus_beta: [(x, o) => softplus(x, o.beta, o.threshold), (g, x, o) => softplusBackward(g, x, o.beta, o.threshold)],
  mish: [(x) => mish(x), (g, x) => mishBackward(g, x)],
};

function check(actual: NDArray, expected: NDArray, label: string): void {
  const error = assertClose(actual, expected, label);
  if (process.env.REPORT_ERRORS) console.log(`REPORT ${actual.dtype} ${error.toExponential(2)} ${label}`);
}

describe('smooth activations against torch', () => {
  it('the fixture covers every op in both dtypes, with special values', () => {
    const seen = new Set(fixture.cases.map((c) => `${c.name} ${c.dtype} ${c.part}`));
    for (const name of Object.keys(OPS)) {
      for (const dtype of ['float32', 'float64']) {
        for (const part of ['values', 'special']) expect(seen.has(`${name} ${dtype} ${part}`), `${name} ${dtype} ${part}`).toBe(true);
      }
    }
  });

  for (const c of fixture.cases) {
    const label = `${c.name} ${c.dtype} ${c.part}`;
    it(label, () => {
      const [forward, backward] = OPS[c.name];
      const x = loose(c.input);
      const y = forward(x, c.options);
      check(y, loose(c.output), `${label} forward`);
      if (backward !== undefined && c.outputGrad !== undefined && c.inputGrad !== undefined) {
        check(backward(loose(c.outputGrad), x, c.options), loose(c.inputGrad), `${label} backward`);
      }
      // NaN, ±∞ land where torch's do (assertClose counts a NaN or ∞ mismatch as an infinite error),
      // and in float64 the sign of every zero torch gives for ±0 inputs (torch's float32 gelu
      // gives +0 for −0, a detail of its vectorised float32 kernel that we do not copy).
      if (c.part === 'special' && c.dtype === 'float64') {
        const expected = loose(c.output).data;
        for (let i = 0; i < expected.length; i++) {
          if (expected[i] === 0 && x.data[i] === 0) expect(Object.is(y.data[i], expected[i]), `${label} sign of zero at ${i}`).toBe(true);
        }
      }
    });
  }
});

describe('erf', () => {
  it("is within one unit in the last place of glibc's erf (fdlibm's algorithm), and exact at the edges", () => {
    const { x, erf: expected } = fixture.erfLibm;
    const got = erf(array(x, { dtype: 'float64' })).data;
    let worst = 0;
    let differ = 0;
    for (let i = 0; i < x.length; i++) {
      if (got[i] === expected[i]) continue;
      differ++;
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(expected[i]))) - 52);
      worst = Math.max(worst, Math.abs(got[i] - expected[i]) / ulp);
    }
    if (process.env.REPORT_ERRORS) console.log(`REPORT erf vs glibc: ${differ} of ${x.length} differ, worst ${worst} ulp`);
    expect(worst).toBeLessThanOrEqual(1);
    const edges = erf(array([0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 6, -6, 1e-300], { dtype: 'float64' })).data;
    expect(Object.is(edges[0], 0) && Object.is(edges[1], -0)).toBe(true);
    expect([edges[2], edges[3], edges[5], edges[6]]).toEqual([1, -1, 1, -1]);
    expect(edges[4]).toBeNaN();
    expect(edges[7]).toBe(1e-300 + 0.1283791670955126 * 1e-300);
  });

  it('rounds float32 once from double', () => {
    const x = array([0.1, -0.7, 1.1, 2.5, -3.3], { dtype: 'float32' });
    const wide = erf(x.astype('float64')).data;
    expect(Array.from(erf(x).data)).toEqual(Array.from(wide, Math.fround));
  });
});

describe('backward passes against finite differences (float64)', () => {
  const next = testRandom(77);
  const cases: [string, Forward, Backward, ActivationCase['options']][] = [
    ['gelu', OPS.gelu[0], OPS.gelu[1] as Backward, {}],
    ['gelu tanh', OPS.gelu_tanh[0], OPS.gelu_tanh[1] as Backward, { approximate: 'tanh' }],
    ['silu', OPS.silu[0], OPS.silu[1] as Backward, {}],
    ['elu alpha 0.7', OPS.elu[0], OPS.elu[1] as Backward, { alpha: 0.7 }],
    ['softplus beta 2 threshold 3', OPS.softplus[0], OPS.softplus[1] as Backward, { beta: 2, threshold: 3 }],
    ['mish', OPS.mish[0], OPS.mish[1] as Backward, {}],
  ];
  for (const [name, forward, backward, options] of cases) {
    it(name, () => {
      // Values in [−4, 4), moved away from the kinks (0 for elu, beta·x = threshold for softplus).
      const x = randomArray([3, 7], 'float64', next, -4, 4);
      for (let i = 0; i < x.size; i++) {
        if (Math.abs(x.data[i]) < 0.05) x.data[i] += 0.1;
        if (Math.abs(x.data[i] - 1.5) < 0.05) x.data[i] += 0.1;
      }
      const upstream = randomArray([3, 7], 'float64', next);
      const loss = (v: NDArray) => sum(mul(forward(v, options), upstream)).item();
      const numeric = numericGradient(loss, x);
      const analytic = backward(upstream, x, options);
      for (let i = 0; i < x.size; i++) {
        expect(Math.abs(analytic.data[i] - numeric[i]), `${name} element ${i}`).toBeLessThan(1e-7 * (1 + Math.abs(numeric[i])));
      }
    });
  }
});

describe('activation ops refuse bad arguments', () => {
  const x = array([1, -2, 3]);
  it('gelu: approximate must be none or tanh, no unknown options', () => {
    expect(() => gelu(x, { approximate: 'exact' as 'none' })).toThrow(ValueError);
    expect(() => gelu(x, { approximate: 'exact' as 'none' })).toThrow(/approximate must be one of 'none', 'tanh', got 'exact'/);
    expect(() => gelu(x, { approximat: 'tanh' } as object)).toThrow(/unknown option 'approximat'/);
    expect(() => geluBackward(x, x, { approximate: null as unknown as 'none' })).toThrow(/got null/);
  });
  it('int32 inputs, mismatched shapes and dtypes', () => {
    expect(() => silu(array([1, 2], { dtype: 'int32' }))).toThrow(DTypeError);
    expect(() => mishBackward(zeros([2]), x)).toThrow(ShapeError);
    expect(() => siluBackward(zeros([3], { dtype: 'float64' }), x)).toThrow(DTypeError);
    expect(() => erf(array([1], { dtype: 'int32' }))).toThrow(/erf: input is int32, expected float32 or float64/);
  });
  it('elu alpha and softplus beta/threshold are finite numbers; beta is non-zero', () => {
    expect(() => elu(x, Number.NaN)).toThrow(/elu: alpha must be a finite number, got NaN/);
    expect(() => eluBackward(x, x, null as unknown as number)).toThrow(/alpha must be a finite number, got null/);
    expect(() => softplus(x, 0)).toThrow(/beta must be non-zero/);
    expect(() => softplus(x, 1, Number.POSITIVE_INFINITY)).toThrow(/threshold must be a finite number, got Infinity/);
    expect(() => softplusBackward(x, x, '1' as unknown as number)).toThrow(/beta must be a finite number, got '1'/);
  });
  it('writes into out when given one of the right shape and dtype', () => {
    const out = zeros([3]);
    expect(silu(x, out)).toBe(out);
    expect(Array.from(out.data)).toEqual(Array.from(silu(x).data));
    expect(() => gelu(x, {}, zeros([4]))).toThrow(ShapeError);
  });
});
