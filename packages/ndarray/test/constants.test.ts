import { describe, expect, it } from 'vitest';
import { add, arange, array, cast, copyInto, div, layerNorm, mean, mul, narrow, neg, randn, setBackend, sub, where, zeros } from '../src/index';
import { countTypedArrays, createBoxedBackend } from '../src/testing/index';

describe('number operands are made once, not on every call', () => {
  it('add(x, 1, out), a mean and where(…, 0, 1) allocate nothing after their first call', () => {
    const x = randn([4, 3]);
    const out = zeros([4, 3]);
    const m = zeros([4, 1]);
    const step = () => {
      add(x, 1.5, out);
      div(2, out, out);
      mean(x, 1, true, m);
      where(x, 0, 1, out);
    };
    step();
    expect(countTypedArrays(step).owning).toBe(0);
  });

  it('keeps values apart: −0 and 0, NaN, each dtype, each backend', () => {
    const x = array([1, -1], { dtype: 'float64' });
    expect(Array.from(div(x, -0).data)).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
    expect(Array.from(div(x, 0).data)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(Array.from(add(x, Number.NaN).data)).toEqual([Number.NaN, Number.NaN]);
    expect(Array.from(mul(array([3], { dtype: 'int32' }), 2).data)).toEqual([6]);
    expect(Array.from(sub(array([0.1], { dtype: 'float32' }), 0.1).data)).toEqual([0]);
    const boxed = createBoxedBackend('boxed-constants');
    const previous = setBackend(boxed);
    try {
      const y = add(zeros([2]), 0.25);
      expect(y.storage).not.toBeInstanceOf(Float32Array);
      expect(Array.from(y.data)).toEqual([0.25, 0.25]);
    } finally {
      setBackend(previous);
    }
    expect(Array.from(add(zeros([1]), 0.25).data)).toEqual([0.25]);
  });
});

describe('cast and layerNorm write into given arrays', () => {
  it('cast converts into out (int32 → float, float64 → float32 rounding) and refuses a bad dtype', () => {
    const counts = array([3, -7], { dtype: 'int32' });
    const out = zeros([2], { dtype: 'float64' });
    expect(cast(counts, 'float64', out)).toBe(out);
    expect(Array.from(out.data)).toEqual([3, -7]);
    expect(Array.from(cast(array([0.1], { dtype: 'float64' }), 'float32').data)).toEqual([Math.fround(0.1)]);
    expect(Array.from(cast(array([-2.7]), 'int32').data)).toEqual([-2]);
    expect(() => cast(counts, 'int64' as never)).toThrow("cast: dtype must be one of float32, float64, int32, got 'int64'");
    expect(() => cast(counts, 'float32', zeros([3]))).toThrow('cast: out has shape [3], expected [2]');
  });

  it('layerNorm fills given mean and invStd arrays, the same values as new ones', () => {
    const x = randn([3, 4], { dtype: 'float64' });
    const fresh = layerNorm(x, [4]);
    const mean = zeros([3], { dtype: 'float64' });
    const invStd = zeros([3], { dtype: 'float64' });
    const given = layerNorm(x, [4], { mean, invStd });
    expect(given.mean).toBe(mean);
    expect(given.invStd).toBe(invStd);
    expect(Array.from(mean.data)).toEqual(Array.from(fresh.mean.data));
    expect(Array.from(invStd.data)).toEqual(Array.from(fresh.invStd.data));
    expect(() => layerNorm(x, [4], { mean: zeros([4], { dtype: 'float64' }) })).toThrow('layerNorm (mean): out has shape [4], expected [3]');
    expect(() => layerNorm(x, [4], { mean, invStd: mean })).toThrow('layerNorm (mean): out shares memory with invStd');
  });
});

describe('an out that overlaps an input in part', () => {
  it('is refused (it would read elements it already overwrote), while exact in-place use works', () => {
    const a = arange(1, 7).reshape([6, 1]);
    expect(() => neg(narrow(a, 0, 5), narrow(a, 1, 5))).toThrow('neg: out overlaps an input in part');
    expect(() => add(narrow(a, 0, 5), 10, narrow(a, 1, 5))).toThrow('add: out overlaps an input in part');
    expect(() => copyInto(narrow(a, 1, 5), narrow(a, 0, 5))).toThrow('copyInto: out overlaps an input in part');
    add(a, 1, a);
    expect(Array.from(a.data)).toEqual([2, 3, 4, 5, 6, 7]);
    neg(narrow(a, 0, 3), narrow(a, 3, 3));
    expect(Array.from(a.data)).toEqual([2, 3, 4, -2, -3, -4]);
  });
});
