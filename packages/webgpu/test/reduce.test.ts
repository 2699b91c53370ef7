/**
 * The reductions on WebGPU against the TypeScript kernels: every op runs on
 * host copies with `jsBackend` (float64 accumulation) and on uploads with the
 * WGSL kernels, over shapes that cover empty and size-1 axes, reduced axes
 * that are not neighbours, and rows long enough to need partial results.
 */
import {
  type NDArray,
  type TypedArray,
  abs,
  argmax,
  argmin,
  array,
  firstOutside,
  jsBackend,
  logSumExp,
  max,
  min,
  setBackend,
  sum,
  variance,
  vectorNorm,
  zeros,
} from '@backprop/ndarray';
import { describe, expect, test } from 'vitest';
import { scanOutside } from '../src/kernels/reduce';
import type { GpuStorage } from '../src/storage';
import { both, expectWithin, gpu, host, useGpu } from './reference';

useGpu();

/** float32's unit roundoff. */
const EPS = 2 ** -24;

/**
 * A float32 sum of n terms folded 16 in sequence, then in a tree, errs by at
 * most about (16 + log2 n)·eps·Σ|terms|; 64 leaves room for the stages.
 */
function sumBound(absSums: TypedArray): (j: number) => number {
  return (j) => 64 * EPS * absSums[j] + 1e-30;
}

type Axes = number[] | null;

/** Every non-empty subset of x's axes (and null: all of them). */
function axesOf(ndim: number): Axes[] {
  const subsets: Axes[] = [null];
  for (let mask = 1; mask < 1 << ndim; mask++) subsets.push([...Array(ndim).keys()].filter((d) => mask & (1 << d)));
  return subsets;
}

const SHAPES = [[], [1], [7], [0], [3, 0], [3, 5], [4, 1, 6], [2, 3, 4, 5], [1, 1, 3]];
/** Rows longer than one workgroup folds (partial results), and rows side by side in memory. */
const LONG: [number[], Axes][] = [
  [[6000], null],
  [[2, 9000], [1]],
  [[2100, 3], [0]],
  [[60, 70, 4], [0, 2]],
  [[5000, 2, 3], [0, 2]],
];
const CASES: [number[], Axes][] = [...SHAPES.flatMap((shape) => axesOf(shape.length).map((axes): [number[], Axes] => [shape, axes])), ...LONG];

function label([shape, axes]: [number[], Axes]): string {
  return `[${shape}] over ${axes === null ? 'all' : `[${axes}]`}`;
}

describe('sum, max, min, logSumExp, variance', () => {
  test.each(CASES.map((c) => [label(c), c] as const))('%s', async (_, [shape, axes]) => {
    const x = host(shape, shape.length + 7);
    setBackend(jsBackend);
    const absSums = sum(abs(x), axes).data;
    const { expected, actual } = await both([x], (a) => sum(a, axes));
    expectWithin(actual, expected, sumBound(absSums));

    // max and min have no value over an empty axis (the op refuses); the others do.
    const empty = (axes ?? shape.map((_, d) => d)).some((d) => shape[d] === 0);
    if (!empty) {
      for (const op of [max, min]) {
        const r = await both([x], (a) => op(a, axes));
        expect(Array.from(r.actual)).toEqual(Array.from(r.expected));
      }
    }

    // Σ exp(x − max) of terms in (0, 1]: relative error of the sum, plus exp's and log's few ulps.
    const lse = await both([x], (a) => logSumExp(a, axes));
    expectWithin(lse.actual, lse.expected, (j) => 1e-6 * Math.max(1, Math.abs(lse.expected[j])) + 64 * EPS);

    for (const correction of [0, 1]) {
      const v = await both([x], (a) => variance(a, axes, { correction }));
      expectWithin(v.actual, v.expected, (j) => 1e-5 * Math.abs(v.expected[j]) + 1e-7);
    }
  });

  test('a NaN wins max and min, ±Infinity are values, and int32 compares exactly', async () => {
    const x = host([4, 6], 3, (i, r) => (i === 9 || i === 22 ? Number.NaN : i % 5 === 0 ? Number.NEGATIVE_INFINITY : r()));
    for (const op of [max, min]) {
      for (const axes of [null, [0], [1]]) {
        const r = await both([x], (a) => op(a, axes));
        expect(Array.from(r.actual)).toEqual(Array.from(r.expected));
      }
    }
    const big = [2 ** 31 - 1, -(2 ** 31), 5, -7, 0, 123456789];
    const ints = array(Int32Array.from({ length: 24 }, (_, i) => big[(i * 5) % big.length] - i), { shape: [4, 6] });
    for (const op of [max, min]) {
      for (const axes of [null, [0], [1]]) {
        const r = await both([ints], (a) => op(a, axes));
        expect(r.actual).toBeInstanceOf(Int32Array);
        expect(Array.from(r.actual)).toEqual(Array.from(r.expected));
      }
    }
  });

  test('an int32 sum is exact (the kernel, as the op sums int32 in float64)', async () => {
    const values = Int32Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 20001) - 10000);
    setBackend(gpu());
    const x = array(values, { shape: [50, 100] });
    const out = zeros([50, 1], { dtype: 'int32' });
    gpu().kernels.sum!({ x, axes: [1], out });
    const rows = await out.toHost();
    const all = zeros([1, 1], { dtype: 'int32' });
    gpu().kernels.sum!({ x, axes: [0, 1], out: all });
    const expected = Array.from({ length: 50 }, (_, r) => values.slice(r * 100, r * 100 + 100).reduce((s, v) => s + v, 0));
    expect(Array.from(rows)).toEqual(expected);
    expect((await all.toHost())[0]).toBe(values.reduce((s, v) => s + v, 0));
  });

  test('logSumExp: rows of −∞, +∞ and NaN', async () => {
    const inf = Number.POSITIVE_INFINITY;
    const rows = [
      [-inf, -inf, -inf],
      [-inf, 0, 1],
      [inf, 2, -inf],
      [Number.NaN, 1, 2],
      [100, 100, -100],
    ];
    const x = array(Float32Array.from(rows.flat()), { shape: [5, 3] });
    const r = await both([x], (a) => logSumExp(a, 1));
    expectWithin(r.actual, r.expected, (j) => 1e-6 * Math.abs(r.expected[j]) + 1e-6);
    expect([r.actual[0], r.actual[2]]).toEqual([-inf, inf]);
    expect(r.actual[3]).toBeNaN();
  });

  test('variance: a count at or under the correction divides by 0', async () => {
    for (const [shape, correction] of [
      [[2], 2],
      [[1], 1],
      [[3], 5],
      [[0], 1],
    ] as const) {
      const x = host([...shape], 5);
      const r = await both([x], (a) => variance(a, null, { correction }));
      expectWithin(r.actual, r.expected, () => 0);
    }
  });
});

describe('argmax, argmin', () => {
  const axesOfShape = (shape: number[]) => [undefined, ...shape.keys()];
  const tied = (_: number, r: () => number) => Math.floor(r() * 4) - 2;
  const cases: [number[], (i: number, r: () => number) => number][] = [
    [[7], tied],
    [[1], tied],
    [[3, 5], tied],
    [[4, 1, 6], tied],
    [[2, 3, 4, 5], (_, r) => 2 * r() - 1],
    [[9000], tied],
    [[3000, 3], tied],
    [[5, 700], (i) => (i % 700 === 650 || i % 700 === 651 ? 9 : 0)],
  ];
  test.each(cases.map(([shape, values]) => [`[${shape}]`, shape, values] as const))('%s: the first extremum', async (_, shape, values) => {
    const x = host(shape, 11, values);
    for (const axis of axesOfShape(shape)) {
      for (const op of [argmax, argmin]) {
        const r = await both([x], (a) => op(a, axis));
        expect(r.actual, `${op.name} axis ${axis}`).toBeInstanceOf(Int32Array);
        expect(Array.from(r.actual), `${op.name} axis ${axis}`).toEqual(Array.from(r.expected));
      }
    }
  });

  test('a NaN is the extremum (its first occurrence), ±Infinity are values, int32 exact', async () => {
    const nan = Number.NaN;
    const x = array(Float32Array.from([1, nan, 3, nan, -Infinity, Infinity, 2, 2, -Infinity, 0, 0, Infinity]), { shape: [3, 4] });
    for (const axis of [undefined, 0, 1]) {
      for (const op of [argmax, argmin]) {
        const r = await both([x], (a) => op(a, axis));
        expect(Array.from(r.actual)).toEqual(Array.from(r.expected));
      }
    }
    const long = host([9000], 2, (i) => (i === 7777 || i === 8000 ? nan : i === 5 ? 50 : 1));
    for (const op of [argmax, argmin]) expect(Array.from((await both([long], (a) => op(a))).actual)).toEqual([7777]);
    const ints = array(Int32Array.from([5, -(2 ** 31), 2 ** 31 - 1, 2 ** 31 - 1, -(2 ** 31), 0]), { shape: [6] });
    expect(Array.from((await both([ints], (a) => argmax(a))).actual)).toEqual([2]);
    expect(Array.from((await both([ints], (a) => argmin(a))).actual)).toEqual([1]);
  });
});

describe('vectorNorm', () => {
  const shapes = [[0], [1], [7], [3, 4], [6000]];
  test.each(shapes.map((s) => [`[${s}]`, s] as const))('%s, ord 1, 2, 3, 0.5, Infinity', async (_, shape) => {
    const x = host(shape, 4);
    for (const ord of [1, 2, 3, 0.5, Number.POSITIVE_INFINITY]) {
      const r = await both([x], (a) => vectorNorm(a, ord));
      expectWithin(r.actual, r.expected, (j) => 1e-5 * Math.abs(r.expected[j]) + 1e-30);
    }
  });

  test('NaN propagates; ord 0 counts non-zeros (NaN too) and −Infinity is min |x| (the kernel: the op takes ord > 0)', async () => {
    const x = host([6000], 6, (i, r) => (i % 3 === 0 ? 0 : r() - 2));
    const withNaN = host([9], 6, (i) => (i === 4 ? Number.NaN : i - 2));
    const atLeastTwo = host([6000], 6, (i) => 2 + (i % 50));
    const negative = host([5], 6, (i) => i - 7);
    for (const ord of [1, 2, 3, Number.POSITIVE_INFINITY]) expect((await both([withNaN], (a) => vectorNorm(a, ord))).actual[0]).toBeNaN();
    const norm = async (a: NDArray, ord: number) => {
      setBackend(gpu());
      const out = zeros([]);
      gpu().kernels.vectorNorm!({ x: array(a.data, { shape: a.shape }), ord, out });
      setBackend(jsBackend);
      return (await out.toHost())[0];
    };
    expect(await norm(x, 0)).toBe(4000);
    expect(await norm(withNaN, 0)).toBe(8);
    expect(await norm(x, Number.NEGATIVE_INFINITY)).toBe(0);
    expect(await norm(atLeastTwo, Number.NEGATIVE_INFINITY)).toBe(2);
    expect(await norm(negative, Number.NEGATIVE_INFINITY)).toBe(3);
    expect(await norm(withNaN, Number.NEGATIVE_INFINITY)).toBeNaN();
  });
});

describe('scanOutside (firstOutside on the device)', () => {
  const nan = Number.NaN;
  const f = Math.fround;
  /** The element just below / above a float32. */
  const below = (v: number) => v - Math.abs(v) * 2 ** -23;
  const cases: [string, Float32Array | Int32Array, number, number][] = [
    ['all inside', Float32Array.from({ length: 9000 }, (_, i) => (i % 7) - 3), -3, 3],
    ['a NaN late in a long array', Float32Array.from({ length: 9000 }, (_, i) => (i === 8500 ? nan : i === 8999 ? 99 : 0)), -1, 1],
    ['the finite check', Float32Array.from([0, 1, -Infinity, Infinity, nan]), -Number.MAX_VALUE, Number.MAX_VALUE],
    ['the largest float32 is finite', Float32Array.from([3.4028234663852886e38, -3.4028234663852886e38]), -Number.MAX_VALUE, Number.MAX_VALUE],
    ['bounds float32 cannot hold', Float32Array.from([f(0.1), f(0.7), f(below(f(0.1)))]), 0.1, 0.7],
    ['an empty range', Float32Array.from([1, 2]), 3, 2],
    ['empty', new Float32Array(0), 0, 1],
    ['int32 classes', Int32Array.from({ length: 5000 }, (_, i) => (i === 4321 ? 10 : i % 10)), -(2 ** 31), 9],
    ['int32 fractional bounds', Int32Array.from([1, 2, 3, 0]), 0.5, 3.5],
    ['int32 past its range', Int32Array.from([2 ** 31 - 1, -(2 ** 31)]), -1e10, 1e10],
  ];
  test.each(cases)('%s', async (_, data, low, high) => {
    setBackend(jsBackend);
    const expected = firstOutside(array(data), low, high);
    setBackend(gpu());
    const x = array(data);
    const found = scanOutside((x.storage as GpuStorage).runtime, x, low, high);
    expect(found.dtype).toBe('int32');
    expect((await found.toHost())[0]).toBe(expected);
  });

  test('the cases find what they should', () => {
    expect(cases.map(([, data, low, high]) => firstOutside(array(data), low, high))).toEqual([-1, 8500, 2, -1, 2, 0, -1, 4321, 3, -1]);
  });
});
