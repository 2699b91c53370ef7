import { type NDArray, square, sub } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import type { Reduction, ScalarReduction } from './reduction';

/** Options of {@link MSELoss}. */
export type MSELossOptions<R extends Reduction = ScalarReduction> = LossOptions<R>;

/**
 * Mean squared error: ℓ = (p − y)², reduced by mean (default) or sum, or
 * kept per element ('none'); the gradient is 2(p − y)/N (N = number of
 * elements), 2(p − y), or 2(p − y)·g for the per-element `outputGrad` g.
 * PyTorch: `torch.nn.MSELoss(reduction='mean')`.
 *
 * @example
 * ```ts
 * const mse = new MSELoss();
 * mse.forward(array([1, 2]), array([0, 0]));  // 2.5
 * mse.backward();                              // [1, 2]
 *
 * const terms = new MSELoss({ reduction: 'none' });
 * terms.forward(array([1, 2]), array([0, 0]));  // NDArray [1, 4]
 * terms.backward(array([1, 0]));                // [2, 0]
 * ```
 */
export class MSELoss<R extends Reduction = 'mean'> extends ElementwiseLoss<R> {
  constructor(options: MSELossOptions<R> = {}) {
    super('MSELoss', options, ['reduction']);
  }

  protected override elementLosses(p: NDArray, y: NDArray): NDArray {
    const d = sub(p, y, this.tmp('d', p));
    return square(d, d);
  }

  protected override gradient(p: NDArray, y: NDArray, outputGrad: number | NDArray): NDArray {
    return this.scaled(sub(p, y, this.tmp('d', p)), outputGrad, 2);
  }
}
