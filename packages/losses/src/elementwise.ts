import { type NDArray, type TypedArray, zerosLike } from '@backprop/ndarray';
import { Loss, type LossOptions } from './loss';
import { checkElementwiseTarget, checkInput, checkNotEmpty, roundingFor } from './validate';

/**
 * Shared machinery of the losses that compare a prediction with a target of
 * the same shape element by element (MSE, L1, SmoothL1, Huber, BCE,
 * BCEWithLogits): validation, the reduction, and the saved inputs. A subclass
 * supplies the summed loss and the per-element gradient.
 */
export abstract class ElementwiseLoss extends Loss {
  private savedPrediction: NDArray | undefined;
  private savedTarget: NDArray | undefined;

  protected constructor(op: string, options: LossOptions | undefined, knownOptions: readonly string[]) {
    super(op, options, knownOptions);
  }

  /**
   * The loss of `prediction` against `target` (same shape and dtype, finite),
   * reduced by `reduction`.
   */
  override forward(prediction: NDArray, target: NDArray): number {
    this.savedPrediction = undefined;
    this.savedTarget = undefined;
    checkInput(this.op, 'prediction', prediction);
    checkElementwiseTarget(this.op, prediction, target);
    checkNotEmpty(this.op, prediction, this.reduction);
    this.checkValues(prediction, target);
    const round = roundingFor(prediction.dtype);
    const total = this.lossSum(prediction.data, target.data, round);
    this.savedPrediction = prediction;
    this.savedTarget = target;
    const value = this.reduction === 'mean' ? total / prediction.size : total;
    return round(value);
  }

  /** dLoss/dPrediction for the last `forward`, scaled by `outputGrad`. */
  override backward(outputGrad = 1): NDArray {
    const prediction = this.savedPrediction;
    const target = this.savedTarget;
    if (prediction === undefined || target === undefined) return this.notReady();
    const scale = this.gradScale(outputGrad, prediction.size);
    const grad = zerosLike(prediction);
    this.gradInto(prediction.data, target.data, grad.data, scale, roundingFor(prediction.dtype));
    return grad;
  }

  /** Extra checks on values and options against this prediction (ranges, weight shapes). */
  protected checkValues(_prediction: NDArray, _target: NDArray): void {}

  /** Σ of the per-element losses; `round` reproduces float32 intermediate rounding. */
  protected abstract lossSum(prediction: TypedArray, target: TypedArray, round: (x: number) => number): number;

  /** Writes `scale` · dℓᵢ/dpᵢ into `grad` for every element. */
  protected abstract gradInto(
    prediction: TypedArray,
    target: TypedArray,
    grad: TypedArray,
    scale: number,
    round: (x: number) => number,
  ): void;
}
