import type { NDArray, TypedArray } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import { checkWeightOption } from './validate';
import { WeightBroadcast } from './weight-broadcast';

/** Options of {@link BCEWithLogitsLoss}. */
export interface BCEWithLogitsLossOptions extends LossOptions {
  /** Per-element rescaling weight, broadcast to the prediction's shape. */
  weight?: NDArray;
  /**
   * Weight of the positive term, broadcast to the prediction's shape, usually
   * one per class ([C]): > 1 raises recall, < 1 raises precision.
   */
  posWeight?: NDArray;
}

/**
 * Binary cross-entropy on logits, a sigmoid fused with BCE in the stable form
 * PyTorch uses: with m = max(−x, 0),
 * ℓ = w·((1 − y)·x + l·(m + log(e^(−m) + e^(−x−m)))), l = 1 + (posWeight − 1)·y,
 * finite for logits of any size. The gradient is w·(l·σ(x) − posWeight·y),
 * which is w·(σ(x) − y) without posWeight. Targets are usually in [0, 1]; like
 * torch, any finite target is accepted and the same formula applied.
 * PyTorch: `torch.nn.BCEWithLogitsLoss(weight=None, reduction='mean', pos_weight=None)`.
 *
 * @example
 * ```ts
 * const loss = new BCEWithLogitsLoss({ posWeight: array([3]) });
 * loss.forward(logits, labels);    // logits [B, 1], labels in [0, 1]
 * const grad = loss.backward();
 * ```
 */
export class BCEWithLogitsLoss extends ElementwiseLoss {
  /** The rescaling weight, if any. */
  readonly weight: NDArray | undefined;
  /** The positive-term weight, if any. */
  readonly posWeight: NDArray | undefined;
  private readonly weights: WeightBroadcast;
  private readonly posWeights: WeightBroadcast;

  constructor(options: BCEWithLogitsLossOptions = {}) {
    super('BCEWithLogitsLoss', options, ['reduction', 'weight', 'posWeight']);
    this.weight = checkWeightOption('BCEWithLogitsLoss', 'weight', options?.weight);
    this.posWeight = checkWeightOption('BCEWithLogitsLoss', 'posWeight', options?.posWeight);
    this.weights = new WeightBroadcast('BCEWithLogitsLoss', 'weight', this.weight);
    this.posWeights = new WeightBroadcast('BCEWithLogitsLoss', 'posWeight', this.posWeight);
  }

  protected override checkValues(prediction: NDArray): void {
    // Any finite target is accepted, as torch does (the formula is defined for all y).
    this.weights.prepare(prediction);
    this.posWeights.prepare(prediction);
  }

  protected override lossSum(x: TypedArray, y: TypedArray, r: (v: number) => number): number {
    const w = this.weights;
    const pw = this.posWeights;
    let total = 0;
    // The operation order follows PyTorch's kernel so float32 rounds where it rounds.
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      const yi = y[i];
      const m = xi < 0 ? -xi : 0;
      const logTerm = r(Math.log(r(r(Math.exp(-m)) + r(Math.exp(r(-xi - m))))));
      const linear = r(r(1 - yi) * xi);
      let l: number;
      if (pw.data === undefined) {
        l = r(r(linear + m) + logTerm);
      } else {
        const logWeight = r(r(r(pw.at(i) - 1) * yi) + 1);
        l = r(linear + r(logWeight * r(logTerm + m)));
      }
      total += w.data === undefined ? l : r(l * w.at(i));
    }
    return total;
  }

  protected override gradInto(
    x: TypedArray,
    y: TypedArray,
    grad: TypedArray,
    scale: number,
    r: (v: number) => number,
  ): void {
    const w = this.weights;
    const pw = this.posWeights;
    for (let i = 0; i < x.length; i++) {
      // σ(x) = 1/(1 + e^(−x)) as PyTorch computes it; e^(−x) = ∞ gives exactly 0.
      const s = r(1 / r(1 + r(Math.exp(-x[i]))));
      const yi = y[i];
      let g: number;
      if (pw.data === undefined) {
        g = r(s - yi);
      } else {
        const t = r(pw.at(i) * yi);
        g = r(r(r(r(t + 1) - yi) * s) - t);
      }
      grad[i] = (w.data === undefined ? g : r(g * w.at(i))) * scale;
    }
  }
}
