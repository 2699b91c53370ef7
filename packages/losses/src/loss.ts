import {
  type DType,
  DTypeError,
  NDArray,
  ShapeError,
  ValueError,
  checkFinite,
  checkNumber,
  checkOptions,
  describe,
  formatShape,
  full,
  getBackend,
  shapesEqual,
} from '@backprop/ndarray';
import type { ClassIndices } from './class-targets';
import { type BackwardArgs, type LossValue, type Reduction, type ScalarReduction, checkReduction } from './reduction';

/** Options every loss takes; `R` is the reduction's literal type, which sets what `forward` returns (plain `LossOptions`: `'mean'` or `'sum'`). */
export interface LossOptions<R extends Reduction = ScalarReduction> {
  /** `'mean'` (default), `'sum'` or `'none'`, as PyTorch's `reduction`. */
  reduction?: R;
}

/** What a loss compares the prediction with: an array, or class indices for the classification losses. */
export type LossTarget = NDArray | ClassIndices | number;

/**
 * The base of every loss: `forward(prediction, target)` returns the loss and
 * remembers what `backward()` needs; `backward()` returns dLoss/dPrediction
 * with the prediction's shape and dtype. This is
 * `loss = criterion(output, target); loss.backward()` from PyTorch with the
 * backward pass made explicit.
 *
 * The type parameter is the reduction. Under `'mean'` and `'sum'` (a plain
 * `Loss`) `forward` returns a JavaScript number and `backward(outputGrad = 1)`
 * takes a number; under `'none'` (`Loss<'none'>`) `forward` returns the
 * unreduced terms as an NDArray and `backward(outputGrad)` takes an NDArray of
 * that shape, dLoss/dℓ for each term. Each loss class infers it from its
 * options: `new MSELoss({ reduction: 'none' })` is an `MSELoss<'none'>`.
 *
 * @example
 * ```ts
 * const lossFn = new MSELoss();
 * const loss = lossFn.forward(model.forward(x), y);        // a number
 * model.backward(lossFn.backward(), { inputGrad: false });
 *
 * const perElement = new MSELoss({ reduction: 'none' });
 * const terms = perElement.forward(model.forward(x), y);   // an NDArray, x's shape
 * model.backward(perElement.backward(sampleWeights));      // dLoss/dterms, terms' shape
 * ```
 */
export abstract class Loss<R extends Reduction = ScalarReduction> {
  /** `'mean'`, `'sum'` or `'none'`: how the per-element terms are combined. */
  readonly reduction: R;
  /** The class name used in error messages (kept explicit so minified builds still read well). */
  protected readonly op: string;

  protected constructor(op: string, options: LossOptions<R> | undefined, knownOptions: readonly string[]) {
    checkOptions(op, options, knownOptions);
    this.op = op;
    // Only a missing reduction defaults; null is an error, as for every other option.
    const reduction = options?.reduction;
    this.reduction = checkReduction(op, reduction === undefined ? 'mean' : reduction) as R;
  }

  /**
   * The loss of `prediction` against `target`: under `'mean'` and `'sum'` one
   * number (a float32 value when the prediction is float32), under `'none'` a
   * new array of the unreduced terms, in the prediction's dtype. Validates both
   * inputs and keeps what `backward()` needs; the arrays are read again by
   * `backward()`, so do not change them in between.
   */
  abstract forward(prediction: NDArray, target: LossTarget): LossValue<R>;

  /**
   * The loss as an array, where the prediction lives, read back by nobody:
   * under `'mean'` and `'sum'` a 0-d array (`await loss.itemAsync()` reads
   * it on any backend, `loss.item()` on the host), under `'none'` the terms,
   * as `forward` returns them. Remembers what `backward()` needs, as
   * `forward` does. This is the training loop's call on every backend: on a
   * GPU, `forward`'s number would wait for the device at every step.
   *
   * On the host backends the value is `forward`'s, to the bit. On a backend
   * that keeps arrays off the host the sum is the device's (float32), and
   * the checks of values that need a read (targets in range, finite
   * outputs) run on the device and report at the next read; a `'mean'` over
   * no counted target is NaN there, as in PyTorch, where `forward` throws.
   */
  compute(prediction: NDArray, target: LossTarget): NDArray {
    if (getBackend().allocate === undefined) {
      const value = this.forward(prediction, target);
      return typeof value === 'number' ? full([], value, { dtype: prediction.dtype }) : value;
    }
    return this.computeOnDevice(prediction, target);
  }

  /**
   * {@link compute} on a backend whose arrays live off the host: the same
   * checks and saved state as `forward`, no read back. Every loss here has
   * one; a loss of your own without it runs on the host backends only.
   */
  protected computeOnDevice(_prediction: NDArray, _target: LossTarget): NDArray {
    throw new ValueError(
      `${this.op}.compute: this loss computes its value on the host only, and the active backend '${getBackend().name}' ` +
        'keeps its arrays elsewhere; override computeOnDevice (the loss as ops, with no read back) to run it there',
    );
  }

  /**
   * dLoss/dPrediction for the last `forward` call, as a new array of the
   * prediction's shape and dtype. `outputGrad` is the gradient flowing into the
   * loss (as `loss.backward(gradient)` in PyTorch): under `'mean'` and `'sum'`
   * a number that scales the result (1 by default); under `'none'` an array of
   * the shape `forward` returned, one factor per term.
   */
  abstract backward(...outputGrad: BackwardArgs<R>): NDArray;

  /** Throws the error for `backward()` before any successful `forward()`. */
  protected notReady(): never {
    throw new ValueError(
      `${this.op}: backward() called before forward(); call forward(prediction, target) first`,
    );
  }

  /** Validates `outputGrad` and returns the factor that multiplies every gradient term ('mean' and 'sum'). */
  protected gradScale(outputGrad: number, count: number): number {
    checkNumber(`${this.op}.backward`, 'outputGrad', outputGrad);
    return this.reduction === 'mean' ? outputGrad / count : outputGrad;
  }

  /**
   * Validates `outputGrad` against the reduction: a finite number for `'mean'`
   * and `'sum'` (1 when omitted); for `'none'` an NDArray of exactly `shape`
   * (the shape `forward` returned) and `dtype`, all finite.
   */
  protected checkOutputGrad(outputGrad: unknown, shape: readonly number[], dtype: DType): number | NDArray {
    const op = `${this.op}.backward`;
    if (this.reduction !== 'none') {
      if (outputGrad instanceof NDArray) {
        throw new ValueError(
          `${op}: outputGrad must be a number under reduction '${this.reduction}', whose loss is one number; ` +
            `got ${describe(outputGrad)} (an array outputGrad, one factor per term, is for reduction 'none')`,
        );
      }
      return checkNumber(op, 'outputGrad', outputGrad === undefined ? 1 : outputGrad);
    }
    if (!(outputGrad instanceof NDArray)) {
      throw new ValueError(
        `${op}: reduction 'none' needs outputGrad, an NDArray of shape ${formatShape(shape)} (the shape forward() ` +
          `returned: dLoss/dℓ for each term; ones for the gradient of their sum), got ${describe(outputGrad)}`,
      );
    }
    if (!shapesEqual(outputGrad.shape, shape)) {
      throw new ShapeError(
        `${op}: outputGrad has shape ${formatShape(outputGrad.shape)}, expected ${formatShape(shape)} ` +
          `(the shape forward() returned under reduction 'none')`,
      );
    }
    if (outputGrad.dtype !== dtype) {
      throw new DTypeError(
        `${op}: outputGrad is ${outputGrad.dtype} but the prediction is ${dtype}; expected ${dtype} (convert it with astype('${dtype}'))`,
      );
    }
    checkFinite(op, 'outputGrad', outputGrad);
    return outputGrad;
  }
}
