import type { TypedArray } from '@backprop/ndarray';
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

  protected override lossSum(p: TypedArray, y: TypedArray, round: (x: number) => number): number {
    let total = 0;
    for (let i = 0; i < p.length; i++) {
      const d = round(p[i] - y[i]);
      total += d * d;
    }
    return total;
  }

  protected override gradInto(
    p: TypedArray,
    y: TypedArray,
    grad: TypedArray,
    scale: number,
    round: (x: number) => number,
  ): void {
    const k = 2 * scale;
    for (let i = 0; i < p.length; i++) grad[i] = k * round(p[i] - y[i]);
  }
}
