import { ShapeError, ValueError, formatShape } from './errors';
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
  const data = array.data;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) {
      throw new ValueError(
        `${op}: ${name} holds ${x} at index [${unravelIndex(i, array.shape).join(', ')}] ` +
          `(shape ${formatShape(array.shape)}); expected finite values`,
      );
    }
  }
}

/** Throws unless two arrays have the same shape, naming both. */
export function checkSameShape(op: string, aName: string, a: NDArray, bName: string, b: NDArray): void {
  if (!shapesEqual(a.shape, b.shape)) {
    throw new ShapeError(
      `${op}: ${aName} has shape ${formatShape(a.shape)} but ${bName} has shape ${formatShape(b.shape)}; expected the same shape`,
    );
  }
}
