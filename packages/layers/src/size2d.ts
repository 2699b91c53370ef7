/**
 * Two-dimensional sizes (kernel, stride, padding) as Conv2d and the pooling
 * layers take them (internal; the `Size2d` type is public).
 */
import { ValueError, describe, formatShape } from '@backprop/ndarray';

/** A size given for both spatial dimensions at once (`3`) or as `[height, width]`. */
export type Size2d = number | readonly [number, number];

/** How a constructor's op name shows a size argument: `3` or `[2, 3]`. */
export function describeSize(size: unknown): string {
  return Array.isArray(size) ? formatShape(size) : String(size);
}

/** Throws unless `value` is an integer >= `min` or a pair of them; returns the pair, frozen. */
export function checkSize2d(op: string, name: string, value: unknown, min: number): readonly [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (
    !Array.isArray(pair) ||
    pair.length !== 2 ||
    !pair.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= min)
  ) {
    throw new ValueError(
      `${op}: ${name} must be an integer >= ${min} or a pair [height, width] of them, got ${Array.isArray(value) ? `[${value.map((v) => describe(v)).join(', ')}]` : describe(value)}`,
    );
  }
  return Object.freeze([pair[0], pair[1]] as [number, number]);
}
