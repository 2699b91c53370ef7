import { type DType, NDArray, div, mul, sum } from '@backprop/ndarray';
import { Loss, type LossOptions } from './loss';
import type { BackwardArgs, LossValue, Reduction } from './reduction';
import { Scratch } from './scratch';
import { checkElementwiseTarget, checkInput, checkNotEmpty } from './validate';

/**
 * What the losses that compare a prediction with a target of the same shape
 * element by element share (MSE, L1, SmoothL1, Huber, BCE, BCEWithLogits):
 * validation, the reduction, the saved inputs, and scratch arrays. A subclass
 * writes its per-element loss and its gradient as compositions of ndarray
 * ops; in float32 each op rounds, as each step of PyTorch's float32 kernels does.
 * Under `'none'` the loss is the per-element terms, of the prediction's shape,
 * and `backward(outputGrad)` multiplies each term's gradient by its factor.
 */
export abstract class ElementwiseLoss<R extends Reduction = Reduction> extends Loss<R> {
  /** Intermediate results and constants, kept between calls. */
  protected readonly scratch = new Scratch();
  private savedPrediction: NDArray | undefined;
  private savedTarget: NDArray | undefined;

  protected constructor(op: string, options: LossOptions<R> | undefined, knownOptions: readonly string[]) {
    super(op, options, knownOptions);
  }

  /**
   * The loss of `prediction` against `target` (same shape and dtype, finite),
   * reduced by `reduction` (under `'none'`, a new array of the terms).
   */
  override forward(prediction: NDArray, target: NDArray): LossValue<R> {
    const terms = this.terms(prediction, target);
    if (this.reduction === 'none') return terms.clone() as LossValue<R>; // the terms live in scratch; hand back a copy
    const [total] = this.scratch.sumsToHost([terms]);
    const value = this.reduction === 'mean' ? total / prediction.size : total;
    return (prediction.dtype === 'float32' ? Math.fround(value) : value) as LossValue<R>;
  }

  protected override computeOnDevice(prediction: NDArray, target: NDArray): NDArray {
    const terms = this.terms(prediction, target);
    if (this.reduction === 'none') return terms.clone();
    const total = sum(terms);
    return this.reduction === 'mean' ? div(total, prediction.size, total) : total;
  }

  /** Validates the pair, keeps it for backward, and returns the per-element losses (a scratch array). */
  private terms(prediction: NDArray, target: NDArray): NDArray {
    this.savedPrediction = undefined;
    this.savedTarget = undefined;
    checkInput(this.op, 'prediction', prediction);
    checkElementwiseTarget(this.op, prediction, target);
    checkNotEmpty(this.op, prediction, this.reduction);
    this.checkValues(prediction, target);
    const terms = this.elementLosses(prediction, target);
    this.savedPrediction = prediction;
    this.savedTarget = target;
    return terms;
  }

  /**
   * dLoss/dPrediction for the last `forward`: scaled by the number
   * `outputGrad` (default 1) under `'mean'` and `'sum'`, multiplied element by
   * element by the array `outputGrad` (the prediction's shape) under `'none'`.
   */
  override backward(...args: BackwardArgs<R>): NDArray {
    const prediction = this.savedPrediction;
    const target = this.savedTarget;
    if (prediction === undefined || target === undefined) return this.notReady();
    const outputGrad = this.checkOutputGrad(args[0], prediction.shape, prediction.dtype);
    return this.gradient(prediction, target, outputGrad);
  }

  /** Extra checks on values and options against this prediction (ranges, weight shapes). */
  protected checkValues(_prediction: NDArray, _target: NDArray): void {}

  /** The per-element losses ℓᵢ, in the prediction's shape (a scratch array). */
  protected abstract elementLosses(prediction: NDArray, target: NDArray): NDArray;

  /**
   * dLoss/dpᵢ for the given `outputGrad` (a number, or under `'none'` an array
   * of the prediction's shape) as a new array: intermediates in scratch, and
   * last {@link scaled} or {@link averaged}, which allocate what is returned.
   */
  protected abstract gradient(prediction: NDArray, target: NDArray, outputGrad: number | NDArray): NDArray;

  /**
   * g · factor · outputGrad / N ('mean'; without / N for 'sum') as a new
   * array, the factor rounded to the dtype first: PyTorch's `norm` in its MSE,
   * SmoothL1 and Huber backward passes (and the mean's 1/N in L1's). Under
   * 'none', (g · factor) · outputGrad element by element, PyTorch's
   * `norm * x * grad` with norm = factor.
   */
  protected scaled(g: NDArray, outputGrad: number | NDArray, factor = 1): NDArray {
    if (outputGrad instanceof NDArray) {
      return mul(factor === 1 ? g : mul(g, this.c(factor, g.dtype), g), outputGrad);
    }
    const norm = this.reduction === 'mean' ? factor / g.size : factor;
    return mul(g, this.scratch.scalar('scale', norm * outputGrad, g.dtype));
  }

  /**
   * g · outputGrad, then / N for 'mean', as a new array: PyTorch's
   * `grad_input / numel` in its BCE backward passes. 'none' is not here: the
   * BCE losses multiply by an array `outputGrad` before their weight, in
   * PyTorch's order.
   */
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
