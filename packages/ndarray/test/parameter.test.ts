import { describe, expect, it } from 'vitest';
import { Parameter, ValueError, array, checkFinite, checkNumber, checkOptions } from '../src/index';

describe('Parameter', () => {
  it('owns a zero gradient of the same shape and dtype', () => {
    const p = new Parameter(array([[1, 2]], { dtype: 'float64' }), 'weight');
    expect(p.grad.shape).toEqual([1, 2]);
    expect(p.grad.dtype).toBe('float64');
    expect(Array.from(p.grad.data)).toEqual([0, 0]);
    p.grad.data[1] = 3;
    p.zeroGrad();
    expect(Array.from(p.grad.data)).toEqual([0, 0]);
    expect(() => new Parameter([1, 2] as never)).toThrow(/must be an NDArray, got an array of length 2/);
  });
});

describe('shared checks', () => {
  it('checkFinite names the operation and the first bad index', () => {
    expect(() => checkFinite('MSELoss', 'prediction', array([[1, 2], [Number.NaN, 4]]))).toThrow(
      'MSELoss: prediction holds NaN at index [1, 0] (shape [2, 2]); expected finite values',
    );
  });
  it('checkOptions and checkNumber explain what they expected', () => {
    expect(() => checkOptions('SGD', { lr: 1, momentun: 0.9 }, ['lr', 'momentum'])).toThrow(
      "SGD: unknown option 'momentun'; expected one of 'lr', 'momentum'",
    );
    expect(() => checkNumber('SGD', 'lr', -1, { min: 0 })).toThrow(ValueError);
    expect(() => checkNumber('SGD', 'lr', -1, { min: 0 })).toThrow('SGD: lr must be >= 0, got -1');
    expect(() => checkNumber('Adam', 'eps', Number.NaN)).toThrow('Adam: eps must be a finite number, got NaN');
  });
});

describe('describe', () => {
  it('names values readably in error messages', async () => {
    const { describe: d, zeros } = await import('../src/index');
    expect(d({ lr: 1 })).toBe('an object with keys ["lr"]');
    expect(d(new Map())).toBe('a Map');
    expect(d(new Int8Array(2))).toBe('an Int8Array');
    expect(d(zeros([2, 3]))).toBe('an NDArray of shape [2, 3] (float32)');
    expect(d('x')).toBe("'x'");
  });
});
