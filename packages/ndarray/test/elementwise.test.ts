import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  type NDArray,
  ShapeError,
  abs,
  add,
  array,
  clip,
  div,
  exp,
  log,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  reluBackward,
  sigmoid,
  sign,
  sqrt,
  square,
  sub,
  tanh,
  zeros,
} from '../src/index';
import { randomArray, testRandom } from './helpers';

/** Broadcasting by definition: for each output index, read each operand at the index clamped to size 1. */
function referenceBinary(a: NDArray, b: NDArray, f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const nd = Math.max(a.ndim, b.ndim);
  const pad = (s: readonly number[]) => [...new Array(nd - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => (d === 1 ? sb[i] : d));
  const size = shape.reduce((p, d) => p * d, 1);
  const data: number[] = [];
  for (let flat = 0; flat < size; flat++) {
    let rest = flat;
    const idx = new Array(nd);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d] = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
    }
    const offset = (s: number[]) => idx.reduce((o, i, d) => o * s[d] + (s[d] === 1 ? 0 : i), 0);
    data.push(f(a.data[offset(sa)], b.data[offset(sb)]));
  }
  return { shape, data };
}

const binaries = { add, sub, mul, div, maximum, minimum } as const;
const scalarFns: Record<keyof typeof binaries, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: Math.max,
  minimum: Math.min,
};

describe('binary operations broadcast as numpy', () => {
  const next = testRandom(7);
  const shapePairs: [number[], number[]][] = [
    [[3, 4], [3, 4]],
    [[3, 4], [4]],
    [[3, 1], [1, 4]],
    [[2, 3, 4], [3, 1]],
    [[1], [5, 1, 2]],
    [[], [2, 3]],
    [[4, 1, 3, 1], [5, 1, 2]],
    [[0, 3], [1, 3]],
    [[2, 1, 0], [2, 3, 1]],
  ];
  for (const [name, op] of Object.entries(binaries) as [keyof typeof binaries, typeof add][]) {
    it(name, () => {
      for (const [sa, sb] of shapePairs) {
        for (const dtype of ['float64', 'float32'] as const) {
          const a = randomArray(sa, dtype, next);
          const b = randomArray(sb, dtype, next);
          const out = op(a, b);
          const ref = referenceBinary(a, b, scalarFns[name]);
          expect(out.shape).toEqual(ref.shape);
          expect(out.dtype).toBe(dtype);
          const expected = dtype === 'float32' ? ref.data.map(Math.fround) : ref.data;
          // float32 results are the float64 result rounded once: exactly torch's float32 answer.
          expect(Array.from(out.data)).toEqual(expected);
        }
      }
    });
  }

  it('takes numbers on either side, in the array dtype', () => {
    const a = array([1, 2, 3], { dtype: 'float64' });
    expect(add(a, 1).toArray()).toEqual([2, 3, 4]);
    expect(sub(10, a).toArray()).toEqual([9, 8, 7]);
    expect(div(a, 2).dtype).toBe('float64');
    expect(pow(a, 2).toArray()).toEqual([1, 4, 9]);
    expect(() => add(1 as never, 2 as never)).toThrow(/at least one operand must be an NDArray/);
  });

  it('writes into out, which may be an input', () => {
    const a = array([1, 2, 3]);
    const out = add(a, a, a);
    expect(out).toBe(a);
    expect(a.toArray()).toEqual([2, 4, 6]);
    expect(() => add(a, array([[1], [2]]), a)).toThrow(/out has shape \[3\], expected \[2, 3\]/);
  });

  it('names both shapes when they do not broadcast', () => {
    expect(() => add(zeros([8, 3]), zeros([8, 2]))).toThrow(ShapeError);
    expect(() => add(zeros([8, 3]), zeros([8, 2]))).toThrow('add: shapes [8, 3] and [8, 2] cannot be broadcast together');
  });

  it('refuses mixed dtypes', () => {
    expect(() => mul(zeros([2]), zeros([2], { dtype: 'float64' }))).toThrow(DTypeError);
  });

  it('propagates NaN through maximum and minimum, as torch', () => {
    const a = array([Number.NaN, 1, 2]);
    const b = array([0, Number.NaN, 3]);
    expect(Array.from(maximum(a, b).data).map(String)).toEqual(['NaN', 'NaN', '3']);
    expect(Array.from(minimum(a, b).data).map(String)).toEqual(['NaN', 'NaN', '2']);
  });
});

describe('unary operations', () => {
  const x = array([-3, -0.5, 0, 0.5, 2], { dtype: 'float64' });
  const cases: [string, (a: NDArray) => NDArray, (v: number) => number][] = [
    ['neg', neg, (v) => -v],
    ['exp', exp, Math.exp],
    ['abs', abs, Math.abs],
    ['square', square, (v) => v * v],
    ['tanh', tanh, Math.tanh],
    ['sigmoid', sigmoid, (v) => 1 / (1 + Math.exp(-v))],
    ['relu', relu, (v) => (v > 0 ? v : 0)],
    ['sign', sign, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0)],
  ];
  for (const [name, f, ref] of cases) {
    it(name, () => {
      expect(Array.from(f(x).data)).toEqual(Array.from(x.data, ref));
      expect(f(x.astype('float32')).dtype).toBe('float32');
    });
  }
  it('log and sqrt follow IEEE outside their domain, as torch', () => {
    expect(Array.from(log(array([0, -1, Math.E], { dtype: 'float64' })).data)).toEqual([Number.NEGATIVE_INFINITY, Number.NaN, 1]);
    expect(Array.from(sqrt(array([4, -1])).data)).toEqual([2, Number.NaN]);
  });
  it('sigmoid saturates without NaN', () => {
    expect(Array.from(sigmoid(array([-1000, 1000], { dtype: 'float64' })).data)).toEqual([0, 1]);
  });
  it('clip clamps and validates its bounds', () => {
    expect(clip(array([-2, 0.5, 3]), -1, 1).toArray()).toEqual([-1, 0.5, 1]);
    expect(() => clip(array([1]), 2, 1)).toThrow(/min must be <= max, got min=2, max=1/);
  });
});

describe('reluBackward', () => {
  it('passes the gradient where the output is positive, 0 elsewhere (NaN and infinite gradients too)', () => {
    const output = relu(array([[-1, 0, 2], [Number.NaN, 3, -0]]));
    const grad = array([[5, 6, 7], [8, Number.NaN, Number.POSITIVE_INFINITY]]);
    const dx = reluBackward(grad, output);
    expect(dx.shape).toEqual([2, 3]);
    expect(Array.from(dx.data)).toEqual([0, 0, 7, 0, Number.NaN, 0]);
    // In place, into the gradient.
    expect(reluBackward(grad, output, grad)).toBe(grad);
    expect(Array.from(grad.data)).toEqual(Array.from(dx.data));
  });

  it('fails at once on mismatched shapes, dtypes, or a non-array, naming them', () => {
    const y = zeros([2, 3]);
    expect(() => reluBackward(zeros([3, 2]), y)).toThrow(ShapeError);
    expect(() => reluBackward(zeros([3, 2]), y)).toThrow('reluBackward: outputGrad has shape [3, 2] but output has shape [2, 3]');
    expect(() => reluBackward(zeros([2, 3], { dtype: 'float64' }), y)).toThrow(DTypeError);
    expect(() => reluBackward(zeros([2, 3], { dtype: 'float64' }), y)).toThrow('outputGrad is float64 but output is float32');
    expect(() => reluBackward([1, 2] as never, y)).toThrow(/reluBackward: outputGrad/);
    expect(() => reluBackward(zeros([2, 3]), y, zeros([6]))).toThrow(/reluBackward: out/);
  });
});
