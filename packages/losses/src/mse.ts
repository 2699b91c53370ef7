import { type NDArray, square, sub } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';

/** Options of {@link MSELoss}. */
export type MSELossOptions = LossOptions;

/**
 * Mean squared error: ℓ = (p − y)², reduced by mean (default) or sum; the
 * gradient is 2(p − y)/N (N = number of elements) or 2(p − y).
 * PyTorch: `torch.nn.MSELoss(reduction='mean')`.
 *
 * @example
 * ```ts
 * const mse = new MSELoss();
 * mse.forward(array([1, 2]), array([0, 0]));  // 2.5
 * mse.backward();                              // [1, 2]
 * ```
 */
export class MSELoss extends ElementwiseLoss {
  constructor(options: MSELossOptions = {}) {
    super('MSELoss', options, ['reduction']);
  }

  protected override elementLosses(p: NDArray, y: NDArray): NDArray {
    const d = sub(p, y, this.tmp('d', p));
    return square(d, d);
  }

  protected override gradient(p: NDArray, y: NDArray, outputGrad: number): NDArray {
    return this.scaled(sub(p, y, this.tmp('d', p)), outputGrad, 2);
  }
}
