import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  NDArray,
  ShapeError,
  TorchGenerator,
  ValueError,
  arange,
  array,
  eye,
  full,
  linspace,
  ones,
  rand,
  randn,
  randperm,
  uniform,
  zeros,
} from '../src/index';

describe('array', () => {
  it('reads nested arrays row-major, float32 by default', () => {
    const a = array([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(a.get(1, -1)).toBe(6);
  });
  it('reads typed arrays (copying) and flat lists with a shape', () => {
    const source = new Float64Array([1, 2, 3, 4]);
    const a = array(source, { shape: [2, 2] });
    expect(a.dtype).toBe('float64');
    source[0] = 99;
    expect(a.get(0, 0)).toBe(1);
    expect(array([1, 2, 3, 4, 5, 6], { shape: [3, -1], dtype: 'float64' }).shape).toEqual([3, 2]);
    expect(array(new Int32Array([1, 2])).toArray()).toEqual([1, 2]);
  });
  it('makes 0-d arrays from numbers', () => {
    const a = array(2.5, { dtype: 'float64' });
    expect(a.shape).toEqual([]);
    expect(a.item()).toBe(2.5);
  });
  it('names what is wrong with ragged or non-numeric input', () => {
    expect(() => array([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => array([[1, 2], [3]])).toThrow(/index \[1\] has length 1, expected length 2/);
    expect(() => array([1, 'x' as never])).toThrow("array: expected a number at index [1], got 'x'");
    expect(() => array([1, 2], { dtype: 'int8' as never })).toThrow(DTypeError);
    expect(() => array([1, 2], { shape: [3] })).toThrow(/cannot reshape \[2\]/);
    expect(() => array([1], { dtyp: 'float64' } as never)).toThrow("array: unknown option 'dtyp'");
  });
});

describe('filled arrays and ranges', () => {
  it('zeros, ones, full, eye', () => {
    expect(zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(ones([3], { dtype: 'float64' }).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 7).toArray()).toEqual([7, 7]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(() => zeros([2, -1])).toThrow(ValueError);
    expect(() => zeros([2.5])).toThrow('zeros: shape must hold non-negative integers, got [2.5]');
  });
  it('arange and linspace follow numpy', () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(1, 2, 0.25, { dtype: 'float64' }).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(5, 1).size).toBe(0);
    expect(() => arange(0, 1, 0)).toThrow('arange: step must not be 0');
    expect(linspace(0, 1, 5, { dtype: 'float64' }).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(0, 1, 1).toArray()).toEqual([0]);
  });
});

describe('random arrays', () => {
  it('are reproducible from a seed and draw from the given generator', () => {
    const a = rand([3, 4], { rng: new TorchGenerator(5) });
    const b = rand([3, 4], { rng: new TorchGenerator(5) });
    expect(a.data).toEqual(b.data);
    expect(a.data.every((v) => v >= 0 && v < 1)).toBe(true);
    const n = randn([1000], { rng: new TorchGenerator(1), dtype: 'float64' });
    const mean = Array.from(n.data).reduce((s, v) => s + v, 0) / n.size;
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(() => rand([2], { seed: 1 } as never)).toThrow("rand: unknown option 'seed'");
  });
});

describe('NDArray', () => {
  it('checks data length against the shape', () => {
    expect(() => new NDArray(new Float32Array(5), [2, 3])).toThrow('NDArray: data of length 5 does not fit shape [2, 3] (6 elements)');
  });
  it('item, get and set check their indices', () => {
    const a = zeros([2, 2]);
    a.set(3, 1, 0);
    expect(a.get(1, 0)).toBe(3);
    expect(() => a.get(2, 0)).toThrow('get: index 2 is out of bounds for dimension 0 of size 2 (shape [2, 2])');
    expect(() => a.get(0)).toThrow(/needs 2/);
    expect(() => a.item()).toThrow(/only an array with one element/);
  });
  it('astype rounds float64 to float32 and clone copies', () => {
    const a = array([0.1], { dtype: 'float64' });
    expect(a.astype('float32').data[0]).toBe(Math.fround(0.1));
    const c = a.clone();
    c.data[0] = 5;
    expect(a.data[0]).toBe(0.1);
  });
});

describe('arguments that cannot work fail naming the operation', () => {
  it('an array too large to allocate names the op and the shape, not a bare RangeError', () => {
    expect(() => zeros([2 ** 31, 2 ** 31])).toThrow(
      /^zeros: cannot allocate an array of shape \[2147483648, 2147483648\] \(4,611,686,018,427,388,000 float32 elements\): /,
    );
    expect(() => ones([2 ** 31, 2 ** 31], { dtype: 'float64' })).toThrow(/^full: cannot allocate an array of shape/);
    expect(() => eye(2 ** 31)).toThrow(/^eye: cannot allocate an array of shape \[2147483648, 2147483648\]/);
  });

  it('uniform with an options object in place of low and high, and randperm with one in place of a generator, say so', () => {
    expect(() => uniform([2], { low: 0, high: 1 } as never, 1)).toThrow(
      'uniform: low and high must be numbers (uniform(shape, low, high, options)), got low=an object with keys ["low","high"], high=1',
    );
    expect(() => randperm(10, { rng: new TorchGenerator(0) } as never)).toThrow(
      'randperm: generator must be a Generator (a TorchGenerator or NumpyRandomState), got an object with keys ["rng"] (pass the generator itself: randperm(n, rng))',
    );
  });
});
