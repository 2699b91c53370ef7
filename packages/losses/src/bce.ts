import { type NDArray, type TypedArray, ValueError, formatShape, unravelIndex } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import { checkWeightOption } from './validate';
import { WeightBroadcast } from './weight-broadcast';

/** Options of {@link BCELoss}. */
export interface BCELossOptions extends LossOptions {
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
 * or 1 gives a finite loss. The gradient is w·(p − y)/max(p(1 − p), 1e-12).
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
export class BCELoss extends ElementwiseLoss {
  /** The rescaling weight, if any. */
  readonly weight: NDArray | undefined;
  private readonly weights: WeightBroadcast;

  constructor(options: BCELossOptions = {}) {
    super('BCELoss', options, ['reduction', 'weight']);
    this.weight = checkWeightOption('BCELoss', 'weight', options?.weight);
    this.weights = new WeightBroadcast('BCELoss', 'weight', this.weight);
  }

  protected override checkValues(prediction: NDArray): void {
    checkUnitInterval(this.op, 'prediction', prediction, ' (apply sigmoid first, or use BCEWithLogitsLoss on logits)');
    this.weights.prepare(prediction);
  }

  protected override lossSum(p: TypedArray, y: TypedArray, round: (x: number) => number): number {
    const w = this.weights;
    let total = 0;
    for (let i = 0; i < p.length; i++) {
      const yi = y[i];
      const pi = p[i];
      const logP = Math.max(round(Math.log(pi)), -100);
      // PyTorch takes log(1 − p), not log1p(−p): in float32, 1 − p rounds to 1 for tiny p.
      const log1mP = Math.max(round(Math.log(round(1 - pi))), -100);
      const l = round(round(round(yi - 1) * log1mP) - round(yi * logP));
      total += w.data === undefined ? l : round(l * w.at(i));
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
    const w = this.weights;
    for (let i = 0; i < p.length; i++) {
      const pi = p[i];
      const g = round(round(pi - y[i]) / Math.max(round(round(1 - pi) * pi), EPS));
      grad[i] = (w.data === undefined ? g : round(g * w.at(i))) * scale;
    }
  }
}

/** Throws unless every value lies in [0, 1], naming the first one outside. */
function checkUnitInterval(op: string, name: string, array: NDArray, hint: string): void {
  const data = array.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 1)) {
      throw new ValueError(
        `${op}: ${name} holds ${v} at index [${unravelIndex(i, array.shape).join(', ')}] ` +
          `(shape ${formatShape(array.shape)}); expected values in [0, 1]${hint}`,
      );
    }
  }
}
