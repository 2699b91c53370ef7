/**
 * Reductions over any set of axes. Each runs one kernel over the input, so
 * reducing several axes at once accumulates once (in float64) and rounds
 * once, however many axes there are. Pass `out` (of the result's shape and
 * dtype) to write into an existing array.
 */
import { DTypeError, ValueError, checkOptions, formatShape } from '../errors';
import { elementwiseKernels } from '../kernels/js/elementwise';
import { reduceKernels as ts } from '../kernels/js/reduce';
import { accumulatorDType, getBackend, kernel } from '../kernels/registry';
import type { NDArray } from '../ndarray';
import { normalizeAxis } from '../shape';
import { checkArray, checkFloatArray, constant, empty, prepareOut } from './operand';
import { checkRange } from '../validate';

/** One axis, several, or all of them (undefined/null). Negative axes count from the end. */
export type Axis = number | readonly number[] | null | undefined;

function resolveAxes(op: string, a: NDArray, axis: Axis): number[] {
  if (axis === undefined || axis === null) return a.shape.map((_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  if (list.length === 0 && a.ndim > 0) {
    // torch's dim=[] reduces every axis (a behaviour it deprecates), numpy's axis=() none.
    throw new ValueError(`${op}: axis [] is ambiguous (torch reduces every axis, numpy none); pass null for every axis`);
  }
  const axes = list.map((ax) => normalizeAxis(op, ax, a.ndim));
  if (new Set(axes).size !== axes.length) {
    throw new ValueError(`${op}: axis [${list.join(', ')}] repeats an axis`);
  }
  return axes.sort((x, y) => x - y);
}

/** The result's shape: the reduced axes dropped, or kept with size 1. */
function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

type Reduction = 'sum' | 'max' | 'min' | 'logSumExp';

function reduce(op: Reduction, a: NDArray, axis: Axis, keepDims: boolean, out: NDArray | undefined): NDArray {
  if (op === 'logSumExp') checkFloatArray(op, 'input', a);
  else checkArray(op, 'input', a);
  const axes = resolveAxes(op, a, axis);
  if (op === 'max' || op === 'min') {
    // An empty sum is 0 and an empty logSumExp −∞, as torch; an empty max has no value.
    for (const ax of axes) {
      if (a.shape[ax] === 0) {
        throw new ValueError(
          `${op}: cannot reduce an empty dimension (axis ${ax} of shape ${formatShape(a.shape)}); it has no ${op === 'min' ? 'minimum' : 'maximum'}`,
        );
      }
    }
  }
  const result = prepareOut(op, out, reducedShape(a.shape, axes, keepDims), a.dtype);
  if (op === 'sum' && a.dtype === 'int32') {
    sumInt32(a, axes, result.reshape(reducedShape(a.shape, axes, true)));
    return result;
  }
  kernel(op, ts[op])({ x: a, axes, out: result.reshape(reducedShape(a.shape, axes, true)) });
  return result;
}

/**
 * An int32 sum, exact: summed in float64 (which holds every such sum
 * exactly), then checked to fit int32. torch returns int64 here; a total
 * int32 cannot hold is an error, never a wrapped number.
 */
function sumInt32(a: NDArray, axes: readonly number[], out: NDArray): void {
  if (accumulatorDType('int32') !== 'float64') {
    throw new DTypeError(
      `sum: an int32 sum is summed in float64 to stay exact, which backend '${getBackend().name}' does not have; ` +
        "sum a float32 copy (sum(x.astype('float32')), exact below 2^24) or sum on the host",
    );
  }
  const wide = empty(out.shape, 'float64');
  kernel('sum', ts.sum)({ x: a.astype('float64'), axes, out: wide });
  checkRange('sum', 'the int32 sum', wide, -(2 ** 31), 2 ** 31 - 1, " (int32's range; torch gives int64): sum a float64 copy, astype('float64')");
  kernel('cast', elementwiseKernels.cast)({ x: wide, out });
}

/** Sum over `axis` (all axes by default), as `numpy.sum(a, axis, keepdims)`. */
export function sum(a: NDArray, axis?: Axis, keepDims = false, out?: NDArray): NDArray {
  return reduce('sum', a, axis, keepDims, out);
}

/** Arithmetic mean over `axis` (all by default): the sum, then divided by the count; the mean of nothing is NaN. */
export function mean(a: NDArray, axis?: Axis, keepDims = false, out?: NDArray): NDArray {
  const op = 'mean';
  checkFloatArray(op, 'input', a);
  const axes = resolveAxes(op, a, axis);
  let count = 1;
  for (const ax of axes) count *= a.shape[ax];
  const result = prepareOut(op, out, reducedShape(a.shape, axes, keepDims), a.dtype);
  const target = result.reshape(reducedShape(a.shape, axes, true));
  kernel('sum', ts.sum)({ x: a, axes, out: target });
  kernel('div', elementwiseKernels.div)({ a: target, b: constant(count, a.dtype), out: target });
  return result;
}

/** Maximum over `axis` (all by default); NaN if any element is NaN. */
export function max(a: NDArray, axis?: Axis, keepDims = false, out?: NDArray): NDArray {
  return reduce('max', a, axis, keepDims, out);
}

/** Minimum over `axis` (all by default); NaN if any element is NaN. */
export function min(a: NDArray, axis?: Axis, keepDims = false, out?: NDArray): NDArray {
  return reduce('min', a, axis, keepDims, out);
}

/**
 * log(Σ exp(a)) over `axis`, computed as m + log Σ exp(a − m) with m the
 * maximum, so it is finite wherever the answer is (`torch.logsumexp`).
 */
export function logSumExp(a: NDArray, axis?: Axis, keepDims = false, out?: NDArray): NDArray {
  return reduce('logSumExp', a, axis, keepDims, out);
}

/** Options of {@link variance}. */
export interface VarianceOptions {
  /** Subtracted from the count in the divisor: 1 (default, as torch.var) for the unbiased estimate, 0 for the population variance. */
  correction?: number;
  keepDims?: boolean;
  out?: NDArray;
}

/**
 * Σ(a − mean)² / (count − correction) over `axis` (all by default), as
 * `torch.var(a, dim, correction=1)`: two passes in float64, rounded once.
 */
export function variance(a: NDArray, axis?: Axis, options: VarianceOptions = {}): NDArray {
  const op = 'variance';
  checkOptions(op, options, ['correction', 'keepDims', 'out']);
  checkFloatArray(op, 'input', a);
  const { correction = 1, keepDims = false, out } = options;
  if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
    throw new ValueError(`${op}: correction must be a finite number >= 0, got ${String(correction)}`);
  }
  const axes = resolveAxes(op, a, axis);
  const result = prepareOut(op, out, reducedShape(a.shape, axes, keepDims), a.dtype);
  kernel('variance', ts.variance)({ x: a, axes, out: result.reshape(reducedShape(a.shape, axes, true)), correction });
  return result;
}

function argReduce(op: 'argmax' | 'argmin', a: NDArray, axis: number | undefined, keepDims: boolean): NDArray {
  checkArray(op, 'input', a);
  const flat = axis === undefined;
  const source = flat ? a.reshape([a.size]) : a;
  const d = flat ? 0 : normalizeAxis(op, axis, a.ndim);
  if (source.shape[d] === 0) {
    throw new ValueError(`${op}: cannot reduce an empty dimension (${flat ? 'the array is empty' : `axis ${d}`}, shape ${formatShape(a.shape)})`);
  }
  const shape = flat ? (keepDims ? a.shape.map(() => 1) : []) : reducedShape(a.shape, [d], keepDims);
  const result = prepareOut(op, undefined, shape, 'int32');
  kernel(op, ts[op])({ x: source, axis: d, out: result.reshape(reducedShape(source.shape, [d], true)) });
  return result;
}

/**
 * Index of the first maximum along `axis` (of the flattened array when no
 * axis is given), as `torch.argmax`: an int32 array (torch gives int64). A
 * NaN counts as the maximum.
 */
export function argmax(a: NDArray, axis?: number, keepDims = false): NDArray {
  return argReduce('argmax', a, axis, keepDims);
}

/** Index of the first minimum along `axis`, as `torch.argmin` (int32). */
export function argmin(a: NDArray, axis?: number, keepDims = false): NDArray {
  return argReduce('argmin', a, axis, keepDims);
}

/**
 * The vector norm of all of `x`'s elements, as `torch.linalg.vector_norm(x, ord)`:
 * (Σ|x|^ord)^(1/ord), ord 2 by default, `Infinity` for max|x|; a 0-d array,
 * accumulated in float64.
 */
export function vectorNorm(x: NDArray, ord = 2, out?: NDArray): NDArray {
  const op = 'vectorNorm';
  checkFloatArray(op, 'input', x);
  if (typeof ord !== 'number' || Number.isNaN(ord) || ord <= 0) {
    throw new ValueError(`${op}: ord must be a number > 0 (or Infinity), got ${String(ord)}`);
  }
  const result = prepareOut(op, out, [], x.dtype);
  kernel(op, ts.vectorNorm)({ x, ord, out: result });
  return result;
}
