import { type TypedArray, checkNumber } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';

/** Options of {@link HuberLoss}. */
export interface HuberLossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear; default 1, must be > 0. */
  delta?: number;
}

/**
 * Huber loss: with d = p − y, ℓ = 0.5d² where |d| < δ, else δ(|d| − 0.5δ);
 * reduced by mean (default) or sum. The gradient is d clamped to [−δ, δ].
 * Equal to δ · SmoothL1(β = δ).
 * PyTorch: `torch.nn.HuberLoss(reduction='mean', delta=1.0)`.
 *
 * @example
 * ```ts
 * const loss = new HuberLoss({ delta: 2 });
 * loss.forward(prediction, target);
 * const grad = loss.backward();
 * ```
 */
export class HuberLoss extends ElementwiseLoss {
  /** The quadratic-to-linear threshold δ. */
  readonly delta: number;

  constructor(options: HuberLossOptions = {}) {
    super('HuberLoss', options, ['reduction', 'delta']);
    this.delta = checkNumber('HuberLoss', 'delta', options?.delta ?? 1, { min: 0, exclusiveMin: true });
  }

  protected override lossSum(p: TypedArray, y: TypedArray, round: (x: number) => number): number {
    const delta = this.delta;
    let total = 0;
    for (let i = 0; i < p.length; i++) {
      const z = Math.abs(round(p[i] - y[i]));
      total += z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
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
    const delta = this.delta;
    for (let i = 0; i < p.length; i++) {
      const d = round(p[i] - y[i]);
      grad[i] = d <= -delta ? -scale * delta : d >= delta ? scale * delta : scale * d;
    }
  }
}
