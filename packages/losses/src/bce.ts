import { NDArray, checkRange, div, log, maximum, mul, sub } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import type { Reduction, ScalarReduction } from './reduction';
import { checkBroadcastWeight, checkWeightOption } from './validate';

/** Options of {@link BCELoss}. */
export interface BCELossOptions<R extends Reduction = ScalarReduction> extends LossOptions<R> {
  /** Per-element rescaling weight, broadcast to the prediction's shape (e.g. [C] or [B, 1]). */
  weight?: NDArray;
}

/**
 * PyTorch's BCE gradient denominator floor: 1e-12 as a float32 constant
 * (9.999999960041972e-13), used for float64 inputs too.
 */
const EPS = Math.fround(1e-12);

/**
 * Binary cross-entropy on probabilities p ∈ [0, 1] (apply a sigmoid first, or
 * use {@link BCEWithLogitsLoss}, which is more stable):
 * ℓ = −w·(y·log p + (1 − y)·log(1 − p)), each log clamped at ≥ −100 so p = 0
 * or 1 gives a finite loss, reduced by mean (default), sum or not ('none').
 * The gradient is w·(p − y)/max(p(1 − p), 1e-12).
 * Targets are usually in [0, 1] (soft labels are fine); like torch, any finite
 * target is accepted and the same formula applied.
 * PyTorch: `torch.nn.BCELoss(weight=None, reduction='mean')`.
 *
 * @example
 * ```ts
 * const bce = new BCELoss();
 * bce.forward(array([0.9, 0.2]), array([1, 0]));  // (−log 0.9 − log 0.8) / 2
 * const grad = bce.backward();
 * ```
 */
export class BCELoss<R extends Reduction = 'mean'> extends ElementwiseLoss<R> {
  /** The rescaling weight, if any. */
  readonly weight: NDArray | undefined;

  constructor(options: BCELossOptions<R> = {}) {
    super('BCELoss', options, ['reduction', 'weight']);
    this.weight = checkWeightOption('BCELoss', 'weight', options?.weight);
  }

  protected override checkValues(prediction: NDArray): void {
    checkRange(this.op, 'prediction', prediction, 0, 1, ' (apply sigmoid first, or use BCEWithLogitsLoss on logits)');
    checkBroadcastWeight(this.op, 'weight', this.weight, prediction);
  }

  protected override elementLosses(p: NDArray, y: NDArray): NDArray {
    const dtype = p.dtype;
    const one = this.c(1, dtype);
    const floor = this.c(-100, dtype);
    const logP = this.tmp('logP', p);
    const log1mP = this.tmp('log1mP', p);
    const l = this.tmp('l', p);
    maximum(log(p, logP), floor, logP);
    // PyTorch takes log(1 − p), not log1p(−p): in float32, 1 − p rounds to 1 for tiny p.
    maximum(log(sub(one, p, log1mP), log1mP), floor, log1mP);
    // (y − 1)·log(1 − p) − y·log p
    sub(mul(sub(y, one, l), log1mP, l), mul(y, logP, logP), l);
    return this.weight === undefined ? l : mul(l, this.weight, l);
  }

  protected override gradient(p: NDArray, y: NDArray, outputGrad: number | NDArray): NDArray {
    const dtype = p.dtype;
    const denominator = this.tmp('denominator', p);
    const g = this.tmp('g', p);
    // (p − y) / max((1 − p)·p, EPS)
    maximum(mul(sub(this.c(1, dtype), p, denominator), p, denominator), this.c(EPS, dtype), denominator);
    if (outputGrad instanceof NDArray) {
      // 'none', in PyTorch's order: outputGrad·(p − y) / denominator, then · weight.
      const result = div(mul(outputGrad, sub(p, y, g), g), denominator);
      return this.weight === undefined ? result : mul(result, this.weight, result);
    }
    div(sub(p, y, g), denominator, g);
    if (this.weight !== undefined) mul(g, this.weight, g);
    return this.averaged(g, outputGrad);
  }
}
