import { NDArray, ShapeError, ValueError, array } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Subset, TensorDataset, defaultCollate } from '../src/index';
import { toy } from './helpers';

describe('TensorDataset', () => {
  it('holds one sample per row: get(i) is row i and label i, as torch.utils.data.TensorDataset', () => {
    const data = toy(5);
    expect(data.length).toBe(5);
    const { x, y } = data.get(3);
    expect(x.shape).toEqual([4]);
    expect(Array.from(x.data)).toEqual([3, 3, 3, 3]);
    expect(y).toBe(3);
    // Negative indices count from the end, as torch's indexing.
    expect(Array.from(data.get(-1).x.data)).toEqual([4, 4, 4, 4]);
  });

  it('gathers a batch with getItems: inputs [B, ...] and the labels, copies in the order asked', () => {
    const data = toy(6);
    const { x, y } = data.getItems([5, 0, 2]);
    expect(x.shape).toEqual([3, 4]);
    expect(Array.from(x.data.subarray(0, 4))).toEqual([5, 5, 5, 5]);
    expect(y).toEqual(new Int32Array([5, 0, 2]));
    x.data[0] = 99;
    expect(data.inputs.data[20]).toBe(5);
  });

  it('takes NDArray labels (regression targets) and keeps their row shape', () => {
    const inputs = array([[1, 2], [3, 4], [5, 6]]);
    const targets = array([[10], [20], [30]]);
    const data = new TensorDataset(inputs, targets);
    const sample = data.get(1);
    expect(sample.y).toBeInstanceOf(NDArray);
    expect((sample.y as NDArray).shape).toEqual([1]);
    expect((sample.y as NDArray).data[0]).toBe(20);
    const batch = data.getItems([2, 0]);
    expect(batch.y.shape).toEqual([2, 1]);
    expect(Array.from(batch.y.data)).toEqual([30, 10]);
  });

  it('keeps an input of any rank: [N, 1, 2, 2] rows for a CNN', () => {
    const data = new TensorDataset(toy(3).inputs.reshape([3, 1, 2, 2]), new Int32Array(3));
    expect(data.get(0).x.shape).toEqual([1, 2, 2]);
    expect(data.getItems([0, 1]).x.shape).toEqual([2, 1, 2, 2]);
  });

  it('rejects inputs and labels that do not pair up, naming both', () => {
    const inputs = toy(5).inputs;
    expect(() => new TensorDataset(inputs, new Int32Array(4))).toThrow(ShapeError);
    expect(() => new TensorDataset(inputs, new Int32Array(4))).toThrow(
      'TensorDataset: inputs of shape [5, 4] hold 5 samples but there are 4 labels; expected one label per row',
    );
    expect(() => new TensorDataset(inputs, array([1, 2, 3]))).toThrow(/labels have shape \[3\]; expected \[5, \.\.\.\]/);
    expect(() => new TensorDataset(inputs, [0, 1, 2, 3, 4] as never)).toThrow(
      'TensorDataset: labels must be an Int32Array of class indices or an NDArray, got an array of length 5',
    );
    expect(() => new TensorDataset([[1]] as never, new Int32Array(1))).toThrow(/inputs must be an NDArray \[N, \.\.\.sampleShape\], got an array/);
    expect(() => new TensorDataset(array(1), new Int32Array(1))).toThrow(/0-d array/);
  });

  it('rejects an index out of range, naming it and the size', () => {
    const data = toy(5);
    expect(() => data.get(5)).toThrow(ValueError);
    expect(() => data.get(5)).toThrow('TensorDataset.get: index 5 is out of range for a dataset of 5 samples (expected an integer in [-5, 5))');
    expect(() => data.get(1.5)).toThrow(/index 1\.5 is out of range/);
    expect(() => data.get(Number.NaN)).toThrow(/index NaN is out of range/);
    expect(() => data.getItems([0, 7])).toThrow(/take: index 7 is out of bounds for axis 0 of size 5/);
  });
});

describe('Subset', () => {
  it('reads through to the dataset at its indices, as torch.utils.data.Subset', () => {
    const data = toy(10);
    const subset = new Subset(data, [7, 2, 9]);
    expect(subset.length).toBe(3);
    expect(subset.indices).toEqual(new Int32Array([7, 2, 9]));
    expect(subset.get(0).y).toBe(7);
    expect(subset.get(-1).y).toBe(9);
    const { x, y } = subset.getItems([2, 1]);
    expect(y).toEqual(new Int32Array([9, 2]));
    expect(Array.from(x.data.subarray(0, 4))).toEqual([9, 9, 9, 9]);
  });

  it('nests, and works over a dataset with get alone', () => {
    const plain = { length: 6, get: (i: number) => ({ x: array([i, -i]), y: i }) };
    const inner = new Subset(plain, [5, 4, 3, 2]);
    const outer = new Subset(inner, [3, 0]);
    expect(outer.get(0).y).toBe(2);
    const { x, y } = outer.getItems([0, 1]);
    expect(y).toEqual(new Int32Array([2, 5]));
    expect(x.shape).toEqual([2, 2]);
    expect(Array.from(x.data)).toEqual([2, -2, 5, -5]);
  });

  it('rejects indices outside the dataset and things that are not datasets', () => {
    const data = toy(4);
    expect(() => new Subset(data, [0, 4])).toThrow('Subset: indices[1] = 4 is out of range for a dataset of 4 samples (expected an integer in [-4, 4))');
    expect(() => new Subset(data, 3 as never)).toThrow('Subset: indices must be an array of integers, got 3');
    expect(() => new Subset({ length: 3 } as never, [0])).toThrow(/Subset: dataset must be a Dataset \(an object with a non-negative integer 'length' and a 'get\(index\)' method\)/);
    expect(() => new Subset(data, [0]).get(1)).toThrow(/Subset.get: index 1 is out of range for a dataset of 1 samples/);
  });
});

describe('defaultCollate', () => {
  it('stacks inputs and turns number labels into an Int32Array, NDArray labels into a stacked array', () => {
    const a = defaultCollate([
      { x: array([1, 2]), y: 3 },
      { x: array([4, 5]), y: 0 },
    ]);
    expect(a.x.shape).toEqual([2, 2]);
    expect(a.y).toEqual(new Int32Array([3, 0]));
    const b = defaultCollate([
      { x: array([1]), y: array([0.5, 1]) },
      { x: array([2]), y: array([1.5, 2]) },
    ]);
    expect((b.y as NDArray).shape).toEqual([2, 2]);
  });

  it('refuses samples it cannot stack, naming the sample', () => {
    expect(() => defaultCollate([])).toThrow('defaultCollate: expected a non-empty array of samples { x, y }, got an array of length 0');
    expect(() => defaultCollate([{ x: array([1]), y: 0.5 }])).toThrow(/sample 0 has label 0\.5; a number label is a class index/);
    expect(() => defaultCollate([{ x: array([1]), y: 1 }, { x: array([1]), y: array([1]) }])).toThrow(/sample 1 has label an NDArray of shape \[1\] \(float32\)/);
    expect(() => defaultCollate([{ x: array([1]), y: array([1]) }, { x: array([1]), y: 2 }])).toThrow(/sample 1 has label 2; expected an NDArray, as sample 0's is/);
    expect(() => defaultCollate([{ x: [1], y: 1 } as never])).toThrow(/sample 0 must be \{ x: NDArray, y \}/);
    expect(() => defaultCollate([{ x: array([1, 2]), y: 1 }, { x: array([1]), y: 1 }])).toThrow(/stack: arrays\[1\] has shape \[1\], expected \[2\]/);
  });
});
