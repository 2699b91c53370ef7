/**
 * The ops that are not elementwise refuse what they cannot compute: an `out`
 * laid over an input, a window torch would refuse, pooling indices that point
 * outside their plane, options they do not know, and sums int32 cannot hold.
 * Empty reductions give torch's values.
 */
import { describe, expect, it } from 'vitest';
import {
  DTypeError,
  NDArray,
  ValueError,
  adamStep,
  argmax,
  array,
  avgPool2d,
  concat,
  conv2dGeometry,
  gather,
  gemm,
  col2im,
  im2col,
  layerNorm,
  layerNormBackward,
  logSumExp,
  max,
  maxPool2d,
  maxPool2dBackward,
  nllLoss,
  nllLossBackward,
  ones,
  pool2dGeometry,
  sgdStep,
  sum,
  take,
  transpose,
  variance,
  zeros,
} from '../src/index';

const f64 = (values: number[], shape: number[]) => array(values, { dtype: 'float64', shape });

describe('an out array that shares memory with an input is refused where the kernel would read it half-written', () => {
  it('gemm: out over a, over b (a view of the same buffer counts), or over the bias', () => {
    const n = 300;
    const a = ones([n, n], { dtype: 'float64' });
    const b = ones([n, n], { dtype: 'float64' });
    expect(() => gemm(a, b, { out: a })).toThrow(ValueError);
    expect(() => gemm(a, b, { out: a })).toThrow(/gemm: out shares memory with a; pass an out array of its own/);
    expect(() => gemm(a, b, { out: b })).toThrow(/out shares memory with b/);
    // Views of one buffer: refused where they overlap, fine where they are neighbours.
    const buffer = new Float64Array(6 + 9 + 6).fill(1);
    const left = new NDArray(buffer.subarray(0, 6), [2, 3]);
    const right = new NDArray(buffer.subarray(6, 15), [3, 3]);
    expect(() => gemm(left, right, { out: new NDArray(buffer.subarray(3, 9), [2, 3]) })).toThrow(/out shares memory with a/);
    const after = new NDArray(buffer.subarray(15, 21), [2, 3]);
    expect(Array.from(gemm(left, right, { out: after }).data)).toEqual(new Array(6).fill(3));
    const out = zeros([3, 3], { dtype: 'float64' });
    const firstRow = new NDArray(new Float64Array((out.storage as Float64Array).buffer, 0, 3), [3]);
    expect(() => gemm(ones([3, 3], { dtype: 'float64' }), ones([3, 3], { dtype: 'float64' }), { bias: firstRow, out })).toThrow(/out shares memory with bias/);
  });

  it('transpose, concat, take, gather, im2col and the pooling ops', () => {
    const x = f64([1, 2, 3, 4], [2, 2]);
    expect(() => transpose(x, undefined, x)).toThrow(/transpose: out shares memory with input/);
    expect(() => concat([x, x], 0, zeros([4, 2], { dtype: 'float64' }))).not.toThrow();
    const wide = zeros([2, 4], { dtype: 'float64' });
    const half = new NDArray(new Float64Array((wide.storage as Float64Array).buffer, 0, 4), [2, 2]);
    expect(() => concat([half, x], 1, wide)).toThrow(/concat: out shares memory with arrays\[0\]/);
    expect(() => take(x, [1, 0], 0, x)).toThrow(/take: out shares memory with input/);
    const idx = array([1, 0, 0, 1], { dtype: 'int32', shape: [2, 2] });
    expect(() => gather(x, 1, idx, x)).toThrow(/gather: out shares memory with input/);
    const image = ones([1, 1, 2, 2]);
    const g = conv2dGeometry('test', image.shape, { kernelSize: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] });
    expect(() => im2col(image, g, image.reshape([1, 1, 4]))).toThrow(/im2col: out shares memory with input/);
    const pool = pool2dGeometry('test', image.shape, { kernelSize: [1, 1], stride: [1, 1], padding: [0, 0], ceilMode: false });
    expect(() => maxPool2d(image, pool, { out: image })).toThrow(/maxPool2d: out shares memory with input/);
    expect(() => avgPool2d(image, pool, { countIncludePad: true, divisorOverride: null }, image)).toThrow(/avgPool2d: out shares memory with input/);
  });
});

describe('geometries made by hand are checked by the ops that take them', () => {
  const image = ones([1, 1, 4, 4]);
  const conv = conv2dGeometry('test', image.shape, { kernelSize: [2, 2], stride: [1, 1], padding: [0, 0], dilation: [1, 1] });
  const pool = pool2dGeometry('test', image.shape, { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false });

  it('im2col and col2im: integer fields in range, an output no larger than the convolution gives', () => {
    expect(() => im2col(image, { ...conv, strideW: 0 })).toThrow(/im2col: the convolution geometry's strideW must be an integer >= 1, got 0/);
    expect(() => im2col(image, { ...conv, padH: 0.5 })).toThrow(/padH must be an integer >= 0, got 0\.5/);
    expect(() => im2col(image, { ...conv, outW: 4 })).toThrow(/im2col: the geometry's output 3×4 exceeds the 3×3 this convolution gives/);
    expect(im2col(image, { ...conv, outH: 2, outW: 2 }).shape).toEqual([1, 4, 4]); // a top-left corner, as padding layers use
    expect(() => col2im(zeros([1, 4, 9]), { ...conv, dilationH: -1 })).toThrow(/col2im: the convolution geometry's dilationH/);
  });

  it('the pooling ops: integer fields in range, padding at most half the kernel, an output no larger than ceil mode gives', () => {
    expect(() => maxPool2d(image, { ...pool, strideH: 0 })).toThrow(/maxPool2d: the pooling geometry's strideH must be an integer >= 1, got 0/);
    expect(() => maxPool2d(image, { ...pool, padW: 2 })).toThrow(/maxPool2d: the geometry's padding \[0, 2\] exceeds half its kernel \[2, 2\]/);
    expect(() => maxPool2d(image, { ...pool, outH: 3 })).toThrow(/maxPool2d: the geometry's output 3×2 exceeds the 2×2 this pooling gives/);
    const { indices } = maxPool2d(image, pool);
    expect(() => maxPool2dBackward(ones([1, 1, 2, 2]), indices, { ...pool, kernelW: 0 }, image.shape)).toThrow(/maxPool2dBackward: the pooling geometry's kernelW/);
  });
});

describe('windows torch would refuse fail when the geometry is made', () => {
  const input = [1, 1, 4, 4];
  const conv = { kernelSize: [2, 2], stride: [1, 1], padding: [0, 0], dilation: [1, 1] } as const;
  const pool = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false } as const;

  it('conv2dGeometry: kernel, stride and dilation >= 1, padding >= 0, all integers', () => {
    expect(conv2dGeometry('c', input, conv).outH).toBe(3);
    expect(() => conv2dGeometry('c', input, { ...conv, stride: [0, 1] })).toThrow(/c: stride must be a pair \[height, width\] of integers >= 1, got \[0, 1\]/);
    expect(() => conv2dGeometry('c', input, { ...conv, kernelSize: [1.5, 2] })).toThrow(/kernelSize must be a pair .* got \[1\.5, 2\]/);
    expect(() => conv2dGeometry('c', input, { ...conv, padding: [-1, 0] })).toThrow(/padding must be a pair \[height, width\] of integers >= 0/);
    expect(() => conv2dGeometry('c', input, { ...conv, dilation: [1, 0] })).toThrow(/dilation/);
  });

  it('pool2dGeometry: the same, and padding at most half the kernel (torch: "pad should be at most half")', () => {
    expect(pool2dGeometry('p', input, pool).outH).toBe(2);
    expect(() => pool2dGeometry('p', input, { ...pool, stride: [0, 0] })).toThrow(ValueError);
    expect(() => pool2dGeometry('p', input, { ...pool, padding: [2, 0] })).toThrow(/p: padding must be at most half the kernel size .* got padding \[2, 0\] for kernel \[2, 2\]/);
    expect(() => pool2dGeometry('p', input, { ...pool, ceilMode: 1 as never })).toThrow(/ceilMode must be a boolean, got 1/);
  });

  it("avgPool2d: divisorOverride null or a non-zero integer (torch: 'divisor must be not zero')", () => {
    const x = ones([1, 1, 4, 4]);
    const g = pool2dGeometry('p', x.shape, pool);
    expect(Array.from(avgPool2d(x, g, { countIncludePad: true, divisorOverride: 2 }).data)).toEqual([2, 2, 2, 2]);
    expect(() => avgPool2d(x, g, { countIncludePad: true, divisorOverride: 0 })).toThrow(/divisorOverride must be null or a non-zero integer, got 0/);
    expect(() => avgPool2d(x, g, { countIncludePad: 'yes' as never, divisorOverride: null })).toThrow(/countIncludePad must be a boolean/);
  });
});

describe('maxPool2dBackward trusts no index', () => {
  const x = f64([1, 5, 2, 3, 9, 4, 6, 7], [1, 2, 2, 2]);
  const g = pool2dGeometry('p', x.shape, { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false });
  const grad = f64([1, 10], [1, 2, 1, 1]);

  it('routes each gradient to its own plane with the indices maxPool2d gave', () => {
    const { indices } = maxPool2d(x, g);
    expect(Array.from(indices.data)).toEqual([1, 0]);
    expect(Array.from(maxPool2dBackward(grad, indices, g, x.shape).data)).toEqual([0, 1, 0, 0, 10, 0, 0, 0]);
  });

  it('refuses float indices and an index outside the plane (it would land in the next plane, or nowhere)', () => {
    expect(() => maxPool2dBackward(grad, f64([1, 0], [1, 2, 1, 1]), g, x.shape)).toThrow(DTypeError);
    expect(() => maxPool2dBackward(grad, f64([1, 0], [1, 2, 1, 1]), g, x.shape)).toThrow(/indices must be int32 \(from maxPool2d\), got float64/);
    const past = array([5, 0], { dtype: 'int32', shape: [1, 2, 1, 1] });
    expect(() => maxPool2dBackward(grad, past, g, x.shape)).toThrow(/indices holds 5 at index \[0, 0, 0, 0\] \(shape \[1, 2, 1, 1\]\); expected values in \[0, 3\] \(positions within a 2×2 plane\)/);
    const negative = array([0, -1], { dtype: 'int32', shape: [1, 2, 1, 1] });
    expect(() => maxPool2dBackward(grad, negative, g, x.shape)).toThrow(/indices holds -1 at index \[0, 1, 0, 0\]/);
  });
});

describe('unknown options are refused, not ignored', () => {
  it.each([
    ['layerNorm', () => layerNorm(ones([2, 3]), [3], { epsilon: 1 } as never), /layerNorm: unknown option 'epsilon'; expected one of 'weight', 'bias', 'eps', 'out'/],
    [
      'layerNormBackward',
      () => {
        const { mean, invStd } = layerNorm(ones([2, 3]), [3]);
        return layerNormBackward(ones([2, 3]), ones([2, 3]), { mean, invStd }, { inputGrads: false } as never);
      },
      /layerNormBackward: unknown option 'inputGrads'/,
    ],
    ['nllLoss', () => nllLoss(zeros([2, 3]), array([0, 1], { dtype: 'int32' }), { ignoreIndex: 1 } as never), /nllLoss: unknown option 'ignoreIndex'; expected one of 'weight', 'axis'/],
    ['nllLossBackward', () => nllLossBackward(zeros([2, 3]), array([0, 1], { dtype: 'int32' }), 1, { smoothing: 0.1 } as never), /nllLossBackward: unknown option 'smoothing'/],
    ['maxPool2d', () => maxPool2d(ones([1, 1, 2, 2]), pool2dGeometry('p', [1, 1, 2, 2], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false }), { indexes: zeros([1]) } as never), /maxPool2d: unknown option 'indexes'/],
  ])('%s', (_, call, message) => {
    expect(call).toThrow(ValueError);
    expect(call).toThrow(message);
  });

  it('the fused optimizer steps check their record: names, finite numbers, booleans, bias corrections in (0, 1]', () => {
    const param = ones([3]);
    const sgd = { param, grad: ones([3]), momentumBuffer: undefined, first: true, lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
    sgdStep(sgd);
    expect(Array.from(param.data)).toEqual([0.9, 0.9, 0.9].map(Math.fround));
    expect(() => sgdStep({ ...sgd, lr: Number.NaN })).toThrow(/sgdStep: lr must be a finite number, got NaN/);
    expect(() => sgdStep({ ...sgd, nesterov: 1 as never })).toThrow(/sgdStep: nesterov must be a boolean, got 1/);
    expect(() => sgdStep({ ...sgd, learningRate: 0.1 } as never)).toThrow(/sgdStep: unknown option 'learningRate'/);
    const adam = {
      param,
      grad: ones([3]),
      expAvg: zeros([3]),
      expAvgSq: zeros([3]),
      maxExpAvgSq: undefined,
      lr: 0.001,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupledDecay: null,
      biasCorrection1: 0.1,
      biasCorrection2: 0.001,
      maximize: false,
    };
    expect(() => adamStep(adam)).not.toThrow();
    expect(() => adamStep({ ...adam, biasCorrection1: 0 })).toThrow(/adamStep: biasCorrection1 \(1 − βᵗ\) must be in \(0, 1\], got 0/);
    expect(() => adamStep({ ...adam, eps: Number.POSITIVE_INFINITY })).toThrow(/adamStep: eps must be a finite number, got Infinity/);
    // Each updated array needs memory of its own (the backends would otherwise disagree on which write wins).
    expect(() => sgdStep({ ...sgd, momentum: 0.9, momentumBuffer: param, first: false })).toThrow(/sgdStep: param and momentumBuffer share memory/);
    const shared = zeros([3]);
    expect(() => adamStep({ ...adam, expAvg: shared, expAvgSq: shared })).toThrow(/adamStep: expAvg and expAvgSq share memory/);
    expect(() => adamStep({ ...adam, grad: param })).not.toThrow(); // the gradient is only read
  });
});

describe('reductions at the edges, as torch 1.13', () => {
  it('axis [] is refused: torch reduces every axis there, numpy none', () => {
    expect(() => sum(ones([2, 3]), [])).toThrow(/sum: axis \[\] is ambiguous .* pass null for every axis/);
    expect(sum(ones([2, 3]), null).item()).toBe(6);
    // A 0-d array has no axes to name: [] is every one of them.
    expect(sum(array(4), []).item()).toBe(4);
  });

  it('int32 sums are exact, and one int32 cannot hold is an error, never a wrapped number', () => {
    expect(Array.from(sum(array([2147483647, -1, 5, 6], { dtype: 'int32', shape: [2, 2] }), 1).data)).toEqual([2147483646, 11]);
    expect(sum(array([2147483647, -2147483648, 1], { dtype: 'int32' })).dtype).toBe('int32');
    expect(() => sum(array([2147483647, 1], { dtype: 'int32' }))).toThrow(/sum: the int32 sum holds 2147483648 at index \[0\] \(shape \[1\]\); expected values in \[-2147483648, 2147483647\] \(int32's range; torch gives int64\)/);
    expect(() => sum(array([-2147483648, -1], { dtype: 'int32' }))).toThrow(/the int32 sum holds -2147483649/);
  });

  it('empty and too-small inputs: var → NaN (or ∞), logsumexp → −∞, argmax of empty rows → empty', () => {
    // torch.zeros(0).var() is nan; torch.tensor([5.]).var() nan; var([1, 2], correction=3) inf.
    expect(variance(zeros([0], { dtype: 'float64' })).item()).toBeNaN();
    expect(variance(f64([5], [1])).item()).toBeNaN();
    expect(variance(f64([1, 2], [2]), null, { correction: 3 }).item()).toBe(Number.POSITIVE_INFINITY);
    expect(variance(f64([1, 2], [2]), null, { correction: 0 }).item()).toBe(0.25);
    // torch.zeros(2, 0).logsumexp(1) is [-inf, -inf].
    expect(Array.from(logSumExp(zeros([2, 0]), 1).data)).toEqual([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    // torch.zeros(0, 3).argmax(1) is an empty int64 tensor; argmax(0) and the flat argmax raise.
    const rows = argmax(zeros([0, 3]), 1);
    expect(rows.shape).toEqual([0]);
    expect(rows.dtype).toBe('int32');
    expect(() => argmax(zeros([0, 3]), 0)).toThrow(/argmax: cannot reduce an empty dimension \(axis 0, shape \[0, 3\]\)/);
    expect(() => argmax(zeros([0, 3]))).toThrow(/the array is empty/);
    expect(() => max(zeros([2, 0]), 1)).toThrow(/max: cannot reduce an empty dimension/);
  });
});
