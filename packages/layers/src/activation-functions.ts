/**
 * The elementwise activations and their derivatives (internal), shared by the
 * activation layers and `Dense`. The derivatives follow PyTorch's backward
 * kernels: relu, tanh and sigmoid are differentiated from the forward
 * *output* (relu′(0) = 0, tanh′ = 1 − y², sigmoid′ = (1 − y)·y), leaky_relu
 * from the input (leaky_relu′(0) = negative_slope).
 */
import type { NDArray } from '@backprop/ndarray';
import { relu, reluBackward, sigmoid, tanh } from '@backprop/ndarray';

/** The activations `Dense` takes. */
export type ActivationName = 'relu' | 'none' | 'tanh' | 'sigmoid';

export const ACTIVATION_NAMES: readonly ActivationName[] = ['relu', 'none', 'tanh', 'sigmoid'];

/** Applies the activation in place (`x` is overwritten and returned). */
export function activateInPlace(name: ActivationName, x: NDArray): NDArray {
  switch (name) {
    case 'relu':
      return relu(x, x);
    case 'tanh':
      return tanh(x, x);
    case 'sigmoid':
      // ndarray's sigmoid rounds each step in float32 as torch's kernel does, which
      // matters here: the backward works from this output, and (1 − y) magnifies
      // a one-ulp difference near saturation.
      return sigmoid(x, x);
    default:
      return x;
  }
}

/**
 * dL/dx from dL/dy and the forward output y, written into `dx` (of y's shape
 * and dtype, every element overwritten) and returned; 'none' returns dL/dy itself.
 */
export function activationBackward(name: ActivationName, outputGrad: NDArray, output: NDArray, dx: NDArray): NDArray {
  if (name === 'none') return outputGrad;
  // torch's threshold_backward(grad, output, 0): the gradient passes where output > 0
  // (ndarray's kernel: WebAssembly SIMD for large arrays, where the TypeScript loop's
  // branch mispredicts on half the elements).
  if (name === 'relu') return reluBackward(outputGrad, output, dx);
  const g = outputGrad.data;
  const y = output.data;
  const d = dx.data;
  switch (name) {
    case 'tanh':
      for (let i = 0; i < g.length; i++) d[i] = g[i] * (1 - y[i] * y[i]);
      break;
    case 'sigmoid':
      for (let i = 0; i < g.length; i++) d[i] = g[i] * (1 - y[i]) * y[i];
      break;
  }
  return dx;
}

/** leaky_relu(x) = x if x > 0 else x·slope, written into `out` (x's shape and dtype) and returned. */
export function leakyReluForward(x: NDArray, negativeSlope: number, out: NDArray): NDArray {
  const a = x.data;
  const o = out.data;
  for (let i = 0; i < a.length; i++) o[i] = a[i] > 0 ? a[i] : a[i] * negativeSlope;
  return out;
}

/**
 * dL/dx of leaky_relu from the input, as torch's leaky_relu_backward: g if x > 0
 * else g·slope, written into `dx` (the input's shape and dtype) and returned.
 */
export function leakyReluBackward(outputGrad: NDArray, input: NDArray, negativeSlope: number, dx: NDArray): NDArray {
  const g = outputGrad.data;
  const x = input.data;
  const d = dx.data;
  for (let i = 0; i < g.length; i++) d[i] = x[i] > 0 ? g[i] : g[i] * negativeSlope;
  return dx;
}
