import { type NDArray, abs, sign, sub } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import type { Reduction, ScalarReduction } from './reduction';

/** Options of {@link L1Loss}. */
export type L1LossOptions<R extends Reduction = ScalarReduction> = LossOptions<R>;

/**
 * Mean absolute error: ℓ = |p − y|, reduced by mean (default), sum or not
 * ('none'); the gradient is sign(p − y)/N with sign(0) = 0, as PyTorch's
 * `abs` backward.
 * PyTorch: `torch.nn.L1Loss(reduction='mean')`.
 *
 * @example
 * ```ts
 * const l1 = new L1Loss({ reduction: 'sum' });
 * l1.forward(array([1, -2, 3]), array([0, 0, 3]));  // 3
 * l1.backward();                                     // [1, -1, 0]
 * ```
 */
export class L1Loss<R extends Reduction = 'mean'> extends ElementwiseLoss<R> {
  constructor(options: L1LossOptions<R> = {}) {
    super('L1Loss', options, ['reduction']);
  }

  protected override elementLosses(p: NDArray, y: NDArray): NDArray {
    const d = sub(p, y, this.tmp('d', p));
    return abs(d, d);
  }

  protected override gradient(p: NDArray, y: NDArray, outputGrad: number | NDArray): NDArray {
    const d = sub(p, y, this.tmp('d', p));
    return this.scaled(sign(d, d), outputGrad);
  }
}
