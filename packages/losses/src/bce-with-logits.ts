import { NDArray, add, exp, log, mul, neg, relu, sigmoid, sub } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import type { Reduction, ScalarReduction } from './reduction';
import { checkBroadcastWeight, checkWeightOption } from './validate';

/** Options of {@link BCEWithLogitsLoss}. */
export interface BCEWithLogitsLossOptions<R extends Reduction = ScalarReduction> extends LossOptions<R> {
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
 * which is w·(σ(x) − y) without posWeight. Reduced by mean (default), sum or
 * not ('none'). Targets are usually in [0, 1]; like
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
export class BCEWithLogitsLoss<R extends Reduction = 'mean'> extends ElementwiseLoss<R> {
  /** The rescaling weight, if any. */
  readonly weight: NDArray | undefined;
  /** The positive-term weight, if any. */
  readonly posWeight: NDArray | undefined;

  constructor(options: BCEWithLogitsLossOptions<R> = {}) {
    super('BCEWithLogitsLoss', options, ['reduction', 'weight', 'posWeight']);
    this.weight = checkWeightOption('BCEWithLogitsLoss', 'weight', options?.weight);
    this.posWeight = checkWeightOption('BCEWithLogitsLoss', 'posWeight', options?.posWeight);
  }

  protected override checkValues(prediction: NDArray): void {
    // Any finite target is accepted, as torch does (the formula is defined for all y).
    checkBroadcastWeight(this.op, 'weight', this.weight, prediction);
    checkBroadcastWeight(this.op, 'posWeight', this.posWeight, prediction);
  }

  // The operation order follows PyTorch's, so float32 rounds where it rounds.
  protected override elementLosses(x: NDArray, y: NDArray): NDArray {
    const one = this.c(1, x.dtype);
    const m = this.tmp('m', x);
    const logTerm = this.tmp('logTerm', x);
    const e = this.tmp('e', x);
    const l = this.tmp('l', x);
    relu(neg(x, m), m); // m = max(−x, 0)
    // log(e^(−m) + e^(−x−m))
    exp(neg(m, logTerm), logTerm);
    exp(sub(neg(x, e), m, e), e);
    log(add(logTerm, e, logTerm), logTerm);
    mul(sub(one, y, l), x, l); // (1 − y)·x
    const pw = this.posWeight;
    if (pw === undefined) {
      add(add(l, m, l), logTerm, l);
    } else {
      // (1 − y)·x + (1 + (posWeight − 1)·y)·(logTerm + m)
      const logWeight = this.tmp('logWeight', x);
      add(mul(sub(pw, one, this.tmp('posWeight − 1', pw)), y, logWeight), one, logWeight);
      add(l, mul(logWeight, add(logTerm, m, logTerm), logWeight), l);
    }
    return this.weight === undefined ? l : mul(l, this.weight, l);
  }

  protected override gradient(x: NDArray, y: NDArray, outputGrad: number | NDArray): NDArray {
    const g = this.tmp('g', x);
    // σ(x) = 1/(1 + e^(−x)) as PyTorch computes it; e^(−x) = ∞ gives exactly 0.
    const s = sigmoid(x, this.tmp('sigmoid', x));
    const pw = this.posWeight;
    if (pw === undefined) {
      sub(s, y, g);
    } else {
      // ((t + 1) − y)·σ(x) − t with t = posWeight·y
      const t = mul(pw, y, this.tmp('t', x));
      sub(mul(sub(add(t, this.c(1, x.dtype), g), y, g), s, g), t, g);
    }
    if (outputGrad instanceof NDArray) {
      // 'none', in PyTorch's order: the gradient above · outputGrad, then · weight.
      const result = mul(g, outputGrad);
      return this.weight === undefined ? result : mul(result, this.weight, result);
    }
    if (this.weight !== undefined) mul(g, this.weight, g);
    return this.averaged(g, outputGrad);
  }
}
