import { describe, expect, it } from 'vitest';
import {
  ShapeError,
  ValueError,
  add,
  arange,
  array,
  concat,
  expandDims,
  flatten,
  index,
  gemm,
  narrow,
  ones,
  permute,
  reshape,
  setBackend,
  slice,
  squeeze,
  stack,
  take,
  transpose,
  zeros,
} from '../src/index';
import { createBoxedBackend } from '../src/testing/index';

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

describe('narrow (a view of rows of the first axis)', () => {
  it('is a window on the same memory: writes through it reach the array', () => {
    const a = arange(0, 12).reshape([4, 3]);
    const rows = narrow(a, 1, 2);
    expect(rows.shape).toEqual([2, 3]);
    expect(Array.from(rows.data)).toEqual([3, 4, 5, 6, 7, 8]);
    add(rows, 100, rows);
    expect(Array.from(a.data)).toEqual([0, 1, 2, 103, 104, 105, 106, 107, 108, 9, 10, 11]);
    expect(narrow(a, 4, 0).shape).toEqual([0, 3]);
  });

  it('is a view on a backend whose arrays live off the host too, and ops see the overlap', () => {
    const boxed = createBoxedBackend('boxed-narrow');
    const previous = setBackend(boxed);
    try {
      const a = zeros([3, 2]);
      const middle = narrow(a, 1, 1);
      add(middle, 7, middle);
      const before = boxed.readBacks;
      expect(() => gemm(narrow(a, 0, 2), ones([2, 2]), { out: narrow(a, 1, 2) })).toThrow(/out shares memory with/);
      expect(boxed.readBacks).toBe(before);
      expect(Array.from(a.data)).toEqual([0, 0, 7, 7, 0, 0]);
    } finally {
      setBackend(previous);
    }
  });

  it('refuses a 0-d array and a window outside the first axis, naming them', () => {
    const a = zeros([4, 3]);
    expect(() => narrow(zeros([]), 0, 0)).toThrow('narrow: input is 0-d (shape []); expected at least one dimension to narrow');
    expect(() => narrow(a, 5, 0)).toThrow('narrow: start 5 is outside [0, 4] for the first axis of [4, 3]');
    expect(() => narrow(a, 2, 3)).toThrow('narrow: length 3 from start 2 runs past the first axis of [4, 3] (size 4)');
    expect(() => narrow(a, 1.5, 1)).toThrow(/start 1.5 is outside/);
  });
});
