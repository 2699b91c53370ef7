import { DTypeError, type NDArray, ShapeError, ValueError, array, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Flatten, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectClose, loadFixture, toArray } from './helpers';

interface FlattenCase extends LayerCase {
  startDim: number;
  endDim: number;
}

const { cases } = loadFixture<{ cases: FlattenCase[] }>('flatten');

describe('Flatten against torch.nn.Flatten', () => {
  it.each(cases.map((c) => [caseLabel({ startDim: c.startDim, endDim: c.endDim, shape: c.input.shape, dtype: c.dtype }), c] as const))(
    '%s',
    (label, c) => {
      const layer = new Flatten(c.startDim, c.endDim);
      expectClose(layer.forward(toArray(c.input)), c.output, `${label} output`);
      expectClose(layer.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    },
  );
});

describe('Flatten behaviour', () => {
  it('defaults to (1, -1), keeping the batch dimension, and shares the input data', () => {
    const x = zeros([32, 1, 5, 5]);
    const y = new Flatten().forward(x);
    expect(y.shape).toEqual([32, 25]);
    expect(y.data).toBe(x.data);
    expect(new Flatten(0, 2).forward(x).shape).toEqual([160, 5]);
  });

  it('flattens a 0-d array to [1] with (0, -1), as torch', () => {
    expect(new Flatten(0, -1).forward(array(3)).shape).toEqual([1]);
  });

  it('passes gradcheck', () => {
    const result = gradcheck(new Flatten(1, 2), randn([2, 3, 2, 2], { dtype: 'float64' }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('Flatten errors', () => {
  it('rejects dimensions out of range for the input', () => {
    expect(() => new Flatten().forward(zeros([3]))).toThrow(ShapeError);
    expect(() => new Flatten().forward(zeros([3]))).toThrow(
      'Flatten(1, -1): startDim 1 is out of range for an input of shape [3] (expected a dimension in [-1, 0])',
    );
    expect(() => new Flatten(0, 4).forward(zeros([2, 3]))).toThrow(/endDim 4 is out of range/);
  });

  it('rejects startDim after endDim', () => {
    expect(() => new Flatten(2, 1).forward(zeros([3, 3, 3]))).toThrow(
      'Flatten(2, 1): startDim (dimension 2) comes after endDim (dimension 1) for an input of shape [3, 3, 3]',
    );
  });

  it('rejects non-integer dimensions, a non-array input and a mismatched gradient', () => {
    expect(() => new Flatten(0.5)).toThrow(ValueError);
    expect(() => new Flatten(0.5)).toThrow('Flatten: startDim must be an integer, got 0.5');
    expect(() => new Flatten().forward(null as unknown as NDArray)).toThrow('Flatten(1, -1): input must be an NDArray, got null');
    const layer = new Flatten();
    expect(() => layer.backward(zeros([2, 6]))).toThrow(/backward\(\) called before forward\(\)/);
    layer.forward(zeros([2, 3, 2]));
    expect(() => layer.backward(zeros([2, 5]))).toThrow(ShapeError);
    expect(() => layer.backward(zeros([2, 6], { dtype: 'float64' }))).toThrow(DTypeError);
  });
});
