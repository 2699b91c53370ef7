/**
 * The activations `Dense` takes and their derivatives (internal). The
 * derivatives follow PyTorch's backward kernels: relu, tanh and sigmoid are
 * differentiated from the forward *output* (relu′(0) = 0, tanh′ = 1 − y²,
 * sigmoid′ = (1 − y)·y).
 */
import { type NDArray, reluBackward, sigmoidBackward, tanhBackward } from '@backprop/ndarray';

/** The activations `Dense` takes. */
export type ActivationName = 'relu' | 'none' | 'tanh' | 'sigmoid';

export const ACTIVATION_NAMES: readonly ActivationName[] = ['relu', 'none', 'tanh', 'sigmoid'];

/** dL/dx from dL/dy and the forward output y, into `out` (y's shape and dtype); 'none' is dL/dy itself. */
export function activationBackward(name: ActivationName, outputGrad: NDArray, output: NDArray, out: NDArray): NDArray {
  switch (name) {
    case 'relu':
      return reluBackward(outputGrad, output, out);
    case 'tanh':
      return tanhBackward(outputGrad, output, out);
    case 'sigmoid':
      return sigmoidBackward(outputGrad, output, out);
    default:
      return outputGrad;
  }
}
