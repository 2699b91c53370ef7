import { type DType, type NDArray, div, mul } from '@backprop/ndarray';
import { Loss, type LossOptions } from './loss';
import { Scratch } from './scratch';
import { checkElementwiseTarget, checkInput, checkNotEmpty } from './validate';

/**
 * What the losses that compare a prediction with a target of the same shape
 * element by element share (MSE, L1, SmoothL1, Huber, BCE, BCEWithLogits):
 * validation, the reduction, the saved inputs, and scratch arrays. A subclass
 * writes its per-element loss and its gradient as compositions of ndarray
 * ops; in float32 each op rounds, as each step of PyTorch's float32 kernels does.
 */
export abstract class ElementwiseLoss extends Loss {
  /** Intermediate results and constants, kept between calls. */
  protected readonly scratch = new Scratch();
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
    const [total] = this.scratch.sumsToHost([this.elementLosses(prediction, target)]);
    this.savedPrediction = prediction;
    this.savedTarget = target;
    const value = this.reduction === 'mean' ? total / prediction.size : total;
    return prediction.dtype === 'float32' ? Math.fround(value) : value;
  }

  /** dLoss/dPrediction for the last `forward`, scaled by `outputGrad`. */
  override backward(outputGrad = 1): NDArray {
    const prediction = this.savedPrediction;
    const target = this.savedTarget;
    if (prediction === undefined || target === undefined) return this.notReady();
    this.gradScale(outputGrad, 1); // validates outputGrad
    return this.gradient(prediction, target, outputGrad);
  }

  /** Extra checks on values and options against this prediction (ranges, weight shapes). */
  protected checkValues(_prediction: NDArray, _target: NDArray): void {}

  /** The per-element losses ℓᵢ, in the prediction's shape (a scratch array). */
  protected abstract elementLosses(prediction: NDArray, target: NDArray): NDArray;

  /**
   * dLoss/dpᵢ for the given `outputGrad` as a new array: intermediates in
   * scratch, and last {@link scaled} or {@link averaged}, which allocate what
   * is returned.
   */
  protected abstract gradient(prediction: NDArray, target: NDArray, outputGrad: number): NDArray;

  /**
   * g · factor · outputGrad / N ('mean'; without / N for 'sum') as a new
   * array, the factor rounded to the dtype first: PyTorch's `norm` in its MSE,
   * SmoothL1 and Huber backward passes (and the mean's 1/N in L1's).
   */
  protected scaled(g: NDArray, outputGrad: number, factor = 1): NDArray {
    const norm = this.reduction === 'mean' ? factor / g.size : factor;
    return mul(g, this.scratch.scalar('scale', norm * outputGrad, g.dtype));
  }

  /** g · outputGrad, then / N for 'mean', as a new array: PyTorch's `grad_input / numel` in its BCE backward passes. */
  protected averaged(g: NDArray, outputGrad: number): NDArray {
    const scale = this.scratch.scalar('scale', outputGrad, g.dtype);
    if (this.reduction === 'sum') return mul(g, scale);
    return div(mul(g, scale, g), this.scratch.scalar('count', g.size, g.dtype));
  }

  /** A scratch array of `like`'s shape and dtype. */
  protected tmp(name: string, like: NDArray): NDArray {
    return this.scratch.like(name, like);
  }

  /** A 0-d constant of `dtype`. */
  protected c(value: number, dtype: DType): NDArray {
    return this.scratch.constant(value, dtype);
  }
}
