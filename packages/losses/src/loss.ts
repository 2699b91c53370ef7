import { type NDArray, checkNumber, checkOptions } from '@backprop/ndarray';
import type { ClassIndices } from './class-targets';
import { type Reduction, checkReduction } from './reduction';

/** Options every loss takes. */
export interface LossOptions {
  /** `'mean'` (default) or `'sum'`, as PyTorch's `reduction`. */
  reduction?: Reduction;
}

/** What a loss compares the prediction with: an array, or class indices for the classification losses. */
export type LossTarget = NDArray | ClassIndices | number;

/**
 * The base of every loss: `forward(prediction, target)` returns the loss as a
 * JavaScript number and remembers what `backward()` needs; `backward()` returns
 * dLoss/dPrediction with the prediction's shape and dtype. This is
 * `loss = criterion(output, target); loss.backward()` from PyTorch with the
 * backward pass made explicit.
 *
 * @example
 * ```ts
 * const lossFn = new MSELoss();
 * const loss = lossFn.forward(model.forward(x), y);
 * model.backward(lossFn.backward());
 * ```
 */
export abstract class Loss {
  /** `'mean'` or `'sum'`: how the per-element terms are combined. */
  readonly reduction: Reduction;
  /** The class name used in error messages (kept explicit so minified builds still read well). */
  protected readonly op: string;

  protected constructor(op: string, options: LossOptions | undefined, knownOptions: readonly string[]) {
    checkOptions(op, options, knownOptions);
    this.op = op;
    this.reduction = checkReduction(op, options?.reduction ?? 'mean');
  }

  /**
   * The loss of `prediction` against `target`, reduced to one number (a float32
   * value when the prediction is float32). Validates both inputs and keeps what
   * `backward()` needs; the arrays are read again by `backward()`, so do not
   * change them in between.
   */
  abstract forward(prediction: NDArray, target: LossTarget): number;

  /**
   * dLoss/dPrediction for the last `forward` call, as a new array of the
   * prediction's shape and dtype. `outputGrad` scales it (the gradient flowing
   * into the loss, 1 by default, as `loss.backward(gradient)` in PyTorch).
   */
  abstract backward(outputGrad?: number): NDArray;

  /** Throws the error for `backward()` before any successful `forward()`. */
  protected notReady(): never {
    throw new Error(
      `${this.op}: backward() called before forward(); call forward(prediction, target) first`,
    );
  }

  /** Validates `outputGrad` and returns the factor that multiplies every gradient term. */
  protected gradScale(outputGrad: number, count: number): number {
    checkNumber(`${this.op}.backward`, 'outputGrad', outputGrad);
    return this.reduction === 'mean' ? outputGrad / count : outputGrad;
  }
}
