/**
 * The negative log-likelihood on class indices, as torch's `nll_loss` forward
 * and backward kernels: what cross-entropy (after `logSoftmax`) and NLLLoss
 * compute, with per-class weights, ignored rows and label smoothing.
 */
import { DTypeError, ShapeError, ValueError, checkOptions, describe, formatShape } from '../errors';
import { nllKernels as ts } from '../kernels/js/nll';
import { accumulatorDType, kernel } from '../kernels/registry';
import type { NDArray } from '../ndarray';
import { normalizeAxis, shapesEqual } from '../shape';
import { checkRange } from '../validate';
import { checkArray, checkFloatArray, checkSameDType, prepareOut } from './operand';

/** Options of {@link nllLoss} and {@link nllLossBackward}. */
export interface NllLossOptions {
  /** Per-class weight [C], the input's dtype (every class 1 without one). */
  weight?: NDArray;
  /** The class axis (default 1, or 0 for an unbatched [C] input), as torch's layouts [N, C, d1, ...]. */
  axis?: number;
}

/** Checks the input, the int32 target (the input's shape without the class axis, values below C; negative ones are ignored rows) and the weight. */
function checkNll(op: string, input: NDArray, target: NDArray, options: NllLossOptions): number {
  checkFloatArray(op, 'input', input);
  checkArray(op, 'target', target);
  if (input.ndim === 0) throw new ShapeError(`${op}: input must have a class axis, got shape []`);
  const axis = normalizeAxis(op, options.axis ?? (input.ndim === 1 ? 0 : 1), input.ndim);
  if (target.dtype !== 'int32') throw new DTypeError(`${op}: target must be int32 class indices, got ${target.dtype}`);
  const rows = input.shape.filter((_, d) => d !== axis);
  if (!shapesEqual(target.shape, rows)) {
    throw new ShapeError(`${op}: target has shape ${formatShape(target.shape)}, expected ${formatShape(rows)} (the input ${formatShape(input.shape)} without axis ${axis})`);
  }
  const C = input.shape[axis];
  checkRange(op, 'target', target, -(2 ** 31), C - 1, ` (a class below ${C}, or a negative index for an ignored row)`);
  const { weight } = options;
  if (weight !== undefined) {
    checkFloatArray(op, 'weight', weight);
    checkSameDType(op, 'input', input, 'weight', weight);
    if (weight.ndim !== 1 || weight.shape[0] !== C) {
      throw new ShapeError(`${op}: weight has shape ${formatShape(weight.shape)}, expected [${C}] (one per class)`);
    }
  }
  return axis;
}

/**
 * The sums of the negative log-likelihood of `input` (log-probabilities) at
 * int32 class indices `target` (a negative index marks a row to ignore, as
 * torch's default ignore_index −100 does), in float64 (in the input's dtype on a backend without float64): [Σ
 * w_y·x_y, Σ_rows Σ_c w_c·x_c, Σ w_y] over the counted rows. The loss is
 * −(1 − ε)·s0/s2 − (ε/C)·s1/s2 under 'mean' (torch's nll_loss with label
 * smoothing ε; cross-entropy is this after `logSoftmax`). One array, so a
 * loss reads back once.
 */
export function nllLoss(input: NDArray, target: NDArray, options: NllLossOptions = {}, out?: NDArray): NDArray {
  const op = 'nllLoss';
  checkOptions(op, options, ['weight', 'axis']);
  const axis = checkNll(op, input, target, options);
  const result = prepareOut(op, out, [3], accumulatorDType(input.dtype));
  kernel(op, ts.nllLoss)({ input, target, weight: options.weight, axis, out: result });
  return result;
}

/**
 * The gradient of nllLoss's loss with respect to `input`, times `scale`
 * (1/Σw under 'mean'): −scale·((1 − ε)·w_y·[c = y] + (ε/C)·w_c) on counted
 * rows, +0 on ignored ones; into `out` (the input's shape and dtype).
 */
export function nllLossBackward(
  input: NDArray,
  target: NDArray,
  scale: number,
  options: NllLossOptions & { labelSmoothing?: number } = {},
  out?: NDArray,
): NDArray {
  const op = 'nllLossBackward';
  checkOptions(op, options, ['weight', 'axis', 'labelSmoothing']);
  const axis = checkNll(op, input, target, options);
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new ValueError(`${op}: labelSmoothing must be a number in [0, 1], got ${describe(labelSmoothing)}`);
  }
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new ValueError(`${op}: scale must be a finite number, got ${describe(scale)}`);
  const result = prepareOut(op, out, input.shape, input.dtype);
  kernel(op, ts.nllLossBackward)({ target, weight: options.weight, labelSmoothing, scale, axis, out: result });
  return result;
}
