import { ShapeError, ValueError, formatShape } from './errors';
import { reduceKernels } from './kernels/js/reduce';
import { kernel } from './kernels/registry';
import type { NDArray } from './ndarray';
import { shapesEqual } from './shape';

/** The multi-index of flat position `flat` in `shape`, for error messages. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/**
 * Throws if `array` holds NaN or ±Infinity, naming the operation, the argument
 * and the first bad position: nothing should train silently on NaN.
 */
export function checkFinite(op: string, name: string, array: NDArray): void {
  const i = firstNonFinite(array, `${op}: ${name}`);
  if (i >= 0) {
    throw new ValueError(
      `${op}: ${name} holds ${array.data[i]} at index [${unravelIndex(i, array.shape).join(', ')}] ` +
        `(shape ${formatShape(array.shape)}); expected finite values`,
    );
  }
}

/**
 * Throws unless every value of `array` lies in [low, high] (NaN never does),
 * naming the first one outside; `hint` is added to the message.
 */
export function checkRange(op: string, name: string, array: NDArray, low: number, high: number, hint = ''): void {
  const i = firstOutside(array, low, high, `${op}: ${name}${hint}`);
  if (i >= 0) {
    throw new ValueError(
      `${op}: ${name} holds ${array.data[i]} at index [${unravelIndex(i, array.shape).join(', ')}] ` +
        `(shape ${formatShape(array.shape)}); expected values in [${low}, ${high}]${hint}`,
    );
  }
}

/**
 * The flat index of the first NaN or ±Infinity in `array`, or −1: one pass, no branch per element on the host.
 * `what` names the array for a backend that checks on its device and reports at the next read (−1 meanwhile).
 */
export function firstNonFinite(array: NDArray, what?: string): number {
  return firstOutside(array, -Number.MAX_VALUE, Number.MAX_VALUE, what);
}

/** The flat index of the first value of `array` outside [low, high] (NaN is always outside), or −1; `what` as for {@link firstNonFinite}. */
export function firstOutside(array: NDArray, low: number, high: number, what?: string): number {
  return kernel('firstOutside', reduceKernels.firstOutside)({ x: array, low, high, what });
}

/** Throws unless two arrays have the same shape, naming both. */
export function checkSameShape(op: string, aName: string, a: NDArray, bName: string, b: NDArray): void {
  if (!shapesEqual(a.shape, b.shape)) {
    throw new ShapeError(
      `${op}: ${aName} has shape ${formatShape(a.shape)} but ${bName} has shape ${formatShape(b.shape)}; expected the same shape`,
    );
  }
}
