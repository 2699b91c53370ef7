/**
 * clipGradNorm and clipGradValue against torch 1.13's clip_grad_norm_ and
 * clip_grad_value_ (tools/torch-fixtures/optimizers.py, `clip-grad.json`),
 * and their edge cases: the always-applied coefficient, non-finite totals,
 * and bad arguments.
 */
import { type FloatDType, Parameter, ValueError, array, copyInto, getBackend, setBackend, toBackend, zeros } from '@backprop/ndarray';
import { type FixtureTensor, assertClose, assertNumberClose, countDataReads, createBoxedBackend, fromFixture, worstSeen } from '@backprop/ndarray/test';
import { afterAll, describe, expect, test } from 'vitest';
import { clipGradNorm, clipGradValue } from '../src/clip-grad';
import { loadFixture } from './helpers';

interface NormCase {
  normType: number | 'inf';
  maxNorm: number;
  params: number[];
  grads: FixtureTensor[];
  float64: { total: number; grads: FixtureTensor[] };
  float32: { total: number; grads: FixtureTensor[] };
}

interface ValueCase {
  clipValue: number;
  grads: FixtureTensor[];
  float64: FixtureTensor[];
  float32: FixtureTensor[];
}

const fixture = loadFixture<{ norm: NormCase[]; value: ValueCase[] }>('clip-grad');
const DTYPES: FloatDType[] = ['float64', 'float32'];

/** Parameters whose grads hold the fixture's gradients in `dtype` (rounded as torch's `.to(float32)`). */
function withGrads(grads: FixtureTensor[], dtype: FloatDType): Parameter[] {
  return grads.map((g, i) => {
    const p = new Parameter(zeros(g.shape, { dtype }), `p${i}`);
    p.grad.data.set(fromFixture(g, dtype).data);
    return p;
  });
}

const worstTotal = { float64: 0, float32: 0 };

describe('clipGradNorm against torch', () => {
  describe.each(fixture.norm.map((c, i) => ({ ...c, label: `case ${i}: normType ${c.normType}, maxNorm ${c.maxNorm}, params [${c.params}]` })))(
    '$label',
    (c) => {
      test.each(DTYPES)('%s', (dtype) => {
        const params = withGrads(c.grads, dtype);
        const total = clipGradNorm(params, c.maxNorm, { normType: c.normType });
        const error = assertNumberClose(total, c[dtype].total, dtype, `${c.label} ${dtype} total norm`);
        worstTotal[dtype] = Math.max(worstTotal[dtype], error);
        params.forEach((p, i) => {
          assertClose(p.grad, c[dtype].grads[i], `${c.label} ${dtype} grad ${i}`);
        });
      });
    },
  );

  test('the fixtures cover every norm type, a clip and no clip, one and several parameters', () => {
    const types = new Set(fixture.norm.map((c) => c.normType));
    expect(types).toEqual(new Set([1, 2, 3.5, 'inf']));
    expect(fixture.norm.some((c) => c.float64.total > c.maxNorm && c.maxNorm > 0)).toBe(true);
    expect(fixture.norm.some((c) => c.float64.total < c.maxNorm)).toBe(true);
    expect(fixture.norm.some((c) => c.params.length === 1)).toBe(true);
  });
});

describe('clipGradValue against torch', () => {
  describe.each(fixture.value)('clipValue $clipValue', (c) => {
    test.each(DTYPES)('%s', (dtype) => {
      const params = withGrads(c.grads, dtype);
      clipGradValue(params, c.clipValue);
      params.forEach((p, i) => {
        assertClose(p.grad, c[dtype][i], `clipValue ${c.clipValue} ${dtype} grad ${i}`);
        expect(Array.from(p.grad.data)).toEqual(c[dtype][i].data);
      });
    });
  });
});

function param(values: number[], dtype: FloatDType = 'float64'): Parameter {
  const p = new Parameter(zeros([values.length], { dtype }), 'w');
  p.grad.data.set(values);
  return p;
}

describe('clipGradNorm rules', () => {
  test('the total is the norm of the per-parameter norms; the coefficient is maxNorm / (total + 1e-6)', () => {
    const a = param([3, 4]);
    const b = param([12]);
    const total = clipGradNorm([a, b], 6.5);
    expect(total).toBe(13);
    const coef = 6.5 * (1 / (13 + 1e-6));
    expect(Array.from(a.grad.data)).toEqual([3 * coef, 4 * coef]);
    expect(Array.from(b.grad.data)).toEqual([12 * coef]);
  });

  test("below maxNorm the grads are multiplied by exactly 1 and unchanged; 'inf' and Infinity agree", () => {
    const a = param([0.1, -0.3, 0.2]);
    expect(clipGradNorm(a, 1, { normType: 'inf' })).toBe(0.3);
    expect(Array.from(a.grad.data)).toEqual([0.1, -0.3, 0.2]);
    expect(clipGradNorm([a], 1, { normType: Number.POSITIVE_INFINITY })).toBe(0.3);
  });

  test('a float32 total and coefficient are computed in float32, as torch does', () => {
    const a = param([0.1, 0.2, 0.3], 'float32');
    const total = clipGradNorm([a], 0.1);
    expect(total).toBe(Math.fround(total));
    const coef = Math.fround(Math.fround(1 / Math.fround(total + Math.fround(1e-6))) * Math.fround(0.1));
    expect(Array.from(a.grad.data)).toEqual([0.1, 0.2, 0.3].map((v) => Math.fround(Math.fround(v) * coef)));
  });

  test('an empty list returns 0; a maxNorm of 0 zeroes the grads', () => {
    expect(clipGradNorm([], 1)).toBe(0);
    const a = param([1, -2]);
    expect(clipGradNorm(a, 0)).toBeCloseTo(Math.sqrt(5), 15);
    expect(Array.from(a.grad.data)).toEqual([0, -0]);
  });

  test('a non-finite total propagates as in torch, or throws with errorIfNonfinite and changes nothing', () => {
    const a = param([Number.POSITIVE_INFINITY, 1]);
    const b = param([2]);
    expect(() => clipGradNorm([a, b], 1, { errorIfNonfinite: true })).toThrow(
      /^clipGradNorm: the total norm of order 2 of the gradients of 2 parameters is Infinity, so it cannot be clipped; no gradient was changed/,
    );
    expect(Array.from(b.grad.data)).toEqual([2]);
    expect(clipGradNorm([a, b], 1)).toBe(Number.POSITIVE_INFINITY);
    // coefficient 1/inf = 0: inf·0 is NaN, the finite entries become 0
    expect(Number.isNaN(a.grad.data[0])).toBe(true);
    expect(Array.from(b.grad.data)).toEqual([0]);
    const c = param([Number.NaN, 1]);
    expect(Number.isNaN(clipGradNorm(c, 1))).toBe(true);
    expect(Number.isNaN(c.grad.data[1])).toBe(true);
  });

  test('mixed float32 and float64 grads: the total in float64, each grad scaled in its own dtype', () => {
    const a = param([3], 'float32');
    const b = param([4], 'float64');
    expect(clipGradNorm([a, b], 1)).toBe(5);
    expect(b.grad.data[0]).toBe(4 * (1 / (5 + 1e-6)));
    expect(a.grad.data[0]).toBe(Math.fround(3 * Math.fround(1 / (5 + 1e-6))));
  });

  test('bad arguments throw naming what was given and what was expected', () => {
    const p = param([1]);
    const cases: [() => unknown, RegExp][] = [
      [() => clipGradNorm([p], -1), /^clipGradNorm: maxNorm must be a number >= 0, got -1$/],
      [() => clipGradNorm([p], Number.NaN), /^clipGradNorm: maxNorm must be a number >= 0, got NaN$/],
      [() => clipGradNorm([p], null as unknown as number), /^clipGradNorm: maxNorm must be a number >= 0, got null$/],
      [() => clipGradNorm([p], 1, { normType: 0 }), /^clipGradNorm: normType must be a number > 0, Infinity or 'inf', got 0$/],
      [() => clipGradNorm([p], 1, { normType: 'two' as unknown as number }), /got 'two'$/],
      [() => clipGradNorm([p], 1, { normType: Number.NaN }), /got NaN$/],
      [() => clipGradNorm([p], 1, { errorIfNonFinite: true } as unknown as object), /clipGradNorm: unknown option 'errorIfNonFinite'/],
      [() => clipGradNorm([p], 1, { errorIfNonfinite: 1 as unknown as boolean }), /^clipGradNorm: errorIfNonfinite must be true or false, got 1$/],
      [() => clipGradNorm(p.value as unknown as Parameter, 1), /^clipGradNorm: parameters must be a Parameter or an iterable of Parameters, got/],
      [() => clipGradNorm([p, 3] as unknown as Parameter[], 1), /^clipGradNorm: parameters\[1\] must be a Parameter, got 3$/],
      [() => clipGradValue([p], -0.5), /^clipGradValue: clipValue must be a number >= 0, got -0\.5$/],
      [() => clipGradValue([p], undefined as unknown as number), /^clipGradValue: clipValue must be a number >= 0, got undefined$/],
      [() => clipGradValue(null as unknown as Parameter[], 1), /^clipGradValue: parameters must be a Parameter or an iterable/],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(ValueError);
      expect(run).toThrow(message);
    }
    expect(Array.from(p.grad.data)).toEqual([1]);
  });

  test('computed through ops: clipGradNorm reads back one value (the total it returns), clipGradValue none', () => {
    const params = withGrads(fixture.norm[0].grads, 'float32');
    expect(countDataReads(() => clipGradNorm(params, 0.5))).toBe(1);
    expect(countDataReads(() => clipGradNorm(params, 0.5, { normType: 'inf' }))).toBe(1);
    expect(countDataReads(() => clipGradValue(params, 0.1))).toBe(0);
  });

  test('clipGradValue clamps in place and keeps NaN', () => {
    const p = new Parameter(array([0, 0, 0, 0], { dtype: 'float32' }), 'w');
    p.grad.data.set([-3, 0.25, Number.NaN, 7]);
    clipGradValue(p, 0.5);
    expect(Array.from(p.grad.data)).toEqual([-0.5, 0.25, Number.NaN, 0.5]);
  });
});

afterAll(() => {
  if (process.env.REPORT_ERRORS) {
    console.log(
      `clip grads vs torch, worst relative error: grads float64 ${worstSeen.float64.error.toExponential(2)}, ` +
        `float32 ${worstSeen.float32.error.toExponential(2)}; totals float64 ${worstTotal.float64.toExponential(2)}, ` +
        `float32 ${worstTotal.float32.toExponential(2)}`,
    );
  }
});

describe('clipGradNorm with { read: false }: the total norm left where the gradients are', () => {
  test.each(DTYPES)('%s: the same total, as a 0-d array, and the same clipped gradients; off the host nothing is read back', (dtype) => {
    const c = fixture.norm[0];
    const reference = withGrads(c.grads, dtype);
    const total = clipGradNorm(reference, c.maxNorm, { normType: c.normType });
    const params = withGrads(c.grads, dtype);
    const norm = clipGradNorm(params, c.maxNorm, { normType: c.normType, read: false });
    expect(norm.shape).toEqual([]);
    expect(norm.item()).toBe(total);
    params.forEach((p, i) => expect(Array.from(p.grad.data)).toEqual(Array.from(reference[i].grad.data)));
    expect(clipGradNorm([], 1, { read: false }).item()).toBe(0);

    const previous = setBackend(createBoxedBackend('boxed-clip'));
    try {
      const onDevice = c.grads.map((g, i) => {
        const p = new Parameter(zeros(g.shape, { dtype }), `p${i}`);
        copyInto(p.grad, toBackend(fromHost(g, dtype)));
        return p;
      });
      const boxed = getBackend() as ReturnType<typeof createBoxedBackend>;
      boxed.readBacks = 0;
      const deviceNorm = clipGradNorm(onDevice, c.maxNorm, { normType: c.normType, read: false });
      expect(boxed.readBacks).toBe(0);
      expect(deviceNorm.item()).toBe(total);
    } finally {
      setBackend(previous);
    }
  });

  test('read must be a boolean', () => {
    expect(() => clipGradNorm(withGrads(fixture.norm[0].grads, 'float32'), 1, { read: 'no' as never })).toThrow(ValueError);
  });
});

/** A fixture tensor as a host array of `dtype`, made with a host backend active. */
function fromHost(g: FixtureTensor, dtype: FloatDType) {
  const previous = setBackend('js');
  try {
    return fromFixture(g, dtype);
  } finally {
    setBackend(previous);
  }
}
