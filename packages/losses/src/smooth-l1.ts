import { type TypedArray, checkNumber } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';

/** Options of {@link SmoothL1Loss}. */
export interface SmoothL1LossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear; default 1, must be ≥ 0 (0 gives L1). */
  beta?: number;
}

/**
 * Smooth L1: with d = p − y, ℓ = 0.5d²/β where |d| < β, else |d| − 0.5β;
 * reduced by mean (default) or sum. The gradient is d/β inside, ±1 outside.
 * β = 0 is the L1 loss, except that the gradient at d = 0 exactly is −1
 * (PyTorch's kernel tests d ≤ −β first), which we reproduce.
 * PyTorch: `torch.nn.SmoothL1Loss(reduction='mean', beta=1.0)`.
 *
 * @example
 * ```ts
 * const loss = new SmoothL1Loss({ beta: 0.5 });
 * loss.forward(prediction, target);
 * const grad = loss.backward();
 * ```
 */
export class SmoothL1Loss extends ElementwiseLoss {
  /** The quadratic-to-linear threshold β. */
  readonly beta: number;

  constructor(options: SmoothL1LossOptions = {}) {
    super('SmoothL1Loss', options, ['reduction', 'beta']);
    this.beta = checkNumber('SmoothL1Loss', 'beta', options?.beta ?? 1, { min: 0 });
  }

  protected override lossSum(p: TypedArray, y: TypedArray, round: (x: number) => number): number {
    const beta = this.beta;
    let total = 0;
    for (let i = 0; i < p.length; i++) {
      const z = Math.abs(round(p[i] - y[i]));
      total += z < beta ? (0.5 * z * z) / beta : z - 0.5 * beta;
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
    const beta = this.beta;
    for (let i = 0; i < p.length; i++) {
      const d = round(p[i] - y[i]);
      // Same test order as PyTorch, so β = 0 and d = 0 gives −1.
      grad[i] = d <= -beta ? -scale : d >= beta ? scale : (scale * d) / beta;
    }
  }
}
