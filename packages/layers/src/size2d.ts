/**
 * Sizes along the spatial dimensions (kernel, stride, padding) as the
 * convolution and pooling layers take them (internal; the `Size2d` type is
 * public).
 */
import { ValueError, describe, formatShape } from '@backprop/ndarray';

/** A size given for both spatial dimensions at once (`3`) or as `[height, width]`. */
export type Size2d = number | readonly [number, number];

/** How a constructor's op name shows a size argument: `3` or `[2, 3]`. */
export function describeSize(size: unknown): string {
  return Array.isArray(size) ? formatShape(size) : String(size);
}

/**
 * Throws unless `value` is an integer >= `min` or an array of `dims` of them
 * (one per spatial dimension); returns the array, frozen.
 */
export function checkSizeNd(op: string, name: string, value: unknown, min: number, dims: 1 | 2): readonly number[] {
  const list = typeof value === 'number' ? new Array<number>(dims).fill(value) : value;
  if (
    !Array.isArray(list) ||
    list.length !== dims ||
    !list.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= min)
  ) {
    const form = dims === 1 ? 'a one-element array [length]' : 'a pair [height, width]';
    throw new ValueError(
      `${op}: ${name} must be an integer >= ${min} or ${form} of them, got ${Array.isArray(value) ? `[${value.map((v) => describe(v)).join(', ')}]` : describe(value)}`,
    );
  }
  return Object.freeze(list.slice());
}

/** Throws unless `value` is an integer >= `min` or a pair of them; returns the pair, frozen. */
export function checkSize2d(op: string, name: string, value: unknown, min: number): readonly [number, number] {
  return checkSizeNd(op, name, value, min, 2) as readonly [number, number];
}
