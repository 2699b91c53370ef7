import { describe, expect, it } from 'vitest';
import { ValueError, argmax, argmin, array, logSumExp, max, mean, min, sum, zeros } from '../src/index';
import { type FixtureTensor, assertClose, fromFixture, loadFixture } from './helpers';

type Case = { x: FixtureTensor; axis: number | number[] | null; keepDims: boolean } & Partial<
  Record<'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin' | 'logsumexp', FixtureTensor>
>;

describe('reductions against torch', () => {
  const { cases } = loadFixture<{ cases: Case[] }>('reductions');
  const ops = { sum, mean, max, min, logsumexp: logSumExp } as const;
  for (const c of cases) {
    it(`${c.x.dtype} ${JSON.stringify(c.x.shape)} axis=${JSON.stringify(c.axis)} keepDims=${c.keepDims}`, () => {
      const x = fromFixture(c.x);
      const axis = c.axis ?? undefined;
      for (const [name, op] of Object.entries(ops)) {
        const ref = c[name as keyof typeof ops];
        if (!ref) continue;
        const out = op(x, axis, c.keepDims);
        assertClose(out, ref, name);
      }
      for (const name of ['argmax', 'argmin'] as const) {
        const ref = c[name];
        if (!ref) continue;
        const f = name === 'argmax' ? argmax : argmin;
        const out = f(x, c.axis as number, c.keepDims);
        expect(out.shape).toEqual(ref.shape);
        expect(Array.from(out.data)).toEqual(ref.data);
      }
    });
  }
});

describe('reductions', () => {
  it('sum of an empty axis is 0 and the mean NaN, as numpy', () => {
    expect(sum(zeros([0, 3]), 0).toArray()).toEqual([0, 0, 0]);
    expect(Number.isNaN(mean(zeros([0])).item())).toBe(true);
  });
  it('max of an empty axis is an error naming the axis', () => {
    expect(() => max(zeros([2, 0]), 1)).toThrow(/cannot reduce an empty dimension \(axis 1 of shape \[2, 0\]\)/);
  });
  it('NaN wins max and argmax, as torch', () => {
    const x = array([1, Number.NaN, 3]);
    expect(Number.isNaN(max(x).item())).toBe(true);
    expect(argmax(x).item()).toBe(1);
  });
  it('argmax returns the first maximum', () => {
    expect(argmax(array([[1, 3, 3], [2, 2, 0]]), 1).toArray()).toEqual([1, 0]);
  });
  it('names a bad axis and the valid range', () => {
    expect(() => sum(zeros([2, 3]), 2)).toThrow(ValueError);
    expect(() => sum(zeros([2, 3]), 2)).toThrow('sum: axis 2 is out of range for an array of 2 dimensions (expected an integer in [-2, 1])');
    expect(() => mean(zeros([2, 3]), [0, -2])).toThrow(/repeats an axis/);
  });
  it('logSumExp is finite for huge inputs and handles -Infinity rows', () => {
    const x = array([[1e4, 1e4], [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]], { dtype: 'float64' });
    const out = logSumExp(x, 1);
    expect(out.data[0]).toBeCloseTo(1e4 + Math.log(2), 9);
    expect(out.data[1]).toBe(Number.NEGATIVE_INFINITY);
  });
  it('accumulates float32 sums in float64', () => {
    // 2^24 + 1 ones: a float32 accumulator would stop at 2^24.
    const n = 2 ** 24 + 2;
    const x = zeros([n]).fill(1);
    expect(sum(x).item()).toBe(n);
  });
});

describe('comparisons', () => {
  it('allclose and maxAbsDiff take plain numbers and mixed dtypes', async () => {
    const { allclose, maxAbsDiff } = await import('../src/index');
    expect(allclose(1, 1 + 1e-9)).toBe(true);
    expect(maxAbsDiff(2, 2.5)).toBe(0.5);
    expect(maxAbsDiff(array([0.1]), array([0.1], { dtype: 'float64' }))).toBeCloseTo(Math.abs(Math.fround(0.1) - 0.1), 20);
    expect(allclose(array([1, Number.NaN]), array([1, Number.NaN]), { equalNan: true })).toBe(true);
    expect(allclose(array([1, Number.NaN]), array([1, Number.NaN]))).toBe(false);
    expect(allclose(array([1e-9]), 0)).toBe(true);
    expect(allclose(array([1e-9]), 0, { atol: 0 })).toBe(false);
  });
});
