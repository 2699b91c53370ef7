import { describe, expect, it } from 'vitest';
import {
  ShapeError,
  ValueError,
  arange,
  array,
  concat,
  expandDims,
  flatten,
  index,
  permute,
  reshape,
  slice,
  squeeze,
  stack,
  take,
  transpose,
  zeros,
} from '../src/index';

describe('shape operations', () => {
  const x = arange(24).reshape([2, 3, 4]);

  it('reshape shares data and infers -1', () => {
    const y = reshape(x, [4, -1]);
    expect(y.shape).toEqual([4, 6]);
    expect(y.data).toBe(x.data);
    expect(() => reshape(x, [5, -1])).toThrow('reshape: cannot reshape [2, 3, 4] (24 elements) into [5, -1]');
    expect(() => reshape(x, [-1, -1])).toThrow(/one -1/);
  });

  it('transpose reverses axes; permute reorders them, as numpy and torch', () => {
    const m = array([[1, 2, 3], [4, 5, 6]]);
    expect(transpose(m).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    const p = permute(x, [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) expect(p.get(i, j, k)).toBe(x.get(j, k, i));
    expect(() => permute(x, [0, 0, 1])).toThrow(/must be a permutation/);
  });

  it('flatten, expandDims and squeeze', () => {
    expect(flatten(x, 1).shape).toEqual([2, 12]);
    expect(flatten(x).shape).toEqual([24]);
    expect(expandDims(x, -1).shape).toEqual([2, 3, 4, 1]);
    expect(squeeze(zeros([1, 3, 1])).shape).toEqual([3]);
    expect(() => squeeze(x, 0)).toThrow('squeeze: axis 0 of [2, 3, 4] has size 2, not 1');
  });

  it('slice, take and index pick rows like Python indexing', () => {
    const m = arange(12).reshape([4, 3]);
    expect(slice(m, 1, 3).toArray()).toEqual([[3, 4, 5], [6, 7, 8]]);
    expect(slice(m, -1).toArray()).toEqual([[9, 10, 11]]);
    expect(slice(m, 1, 2, 1).toArray()).toEqual([[1], [4], [7], [10]]);
    expect(take(m, [3, 0, 3]).toArray()).toEqual([[9, 10, 11], [0, 1, 2], [9, 10, 11]]);
    expect(index(m, -2).toArray()).toEqual([6, 7, 8]);
    expect(() => take(m, [4])).toThrow('take: index 4 is out of bounds for axis 0 of size 4 (shape [4, 3])');
  });

  it('concat and stack', () => {
    const a = array([[1, 2]]);
    const b = array([[3, 4], [5, 6]]);
    expect(concat([a, b]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(concat([b, b], 1).toArray()).toEqual([[3, 4, 3, 4], [5, 6, 5, 6]]);
    expect(stack([a, a], 1).shape).toEqual([1, 2, 2]);
    expect(() => concat([a, array([[1, 2, 3]])])).toThrow(ShapeError);
    expect(() => stack([a, b])).toThrow('stack: arrays[1] has shape [2, 2], expected [1, 2] like arrays[0]');
    expect(() => concat([])).toThrow(ValueError);
  });
});
