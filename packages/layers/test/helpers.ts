/**
 * The layers' fixture plumbing. Tolerances, relative error and assertions are
 * `@backprop/ndarray/test`'s: "within 1e-10 of torch" means one thing in
 * every package.
 */
import type { NDArray } from '@backprop/ndarray';
import {
  type FixtureTensor,
  assertBitwiseEqual,
  assertClose,
  fromFixture,
  readFixture,
} from '@backprop/ndarray/test';
import { expect } from 'vitest';

export { TOLERANCE, relativeError, type FixtureTensor } from '@backprop/ndarray/test';

/** A layer case as tools/torch-fixtures/layers.py's `record` writes it. */
export interface LayerCase {
  dtype: 'float32' | 'float64';
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrad: FixtureTensor;
  params: Record<string, FixtureTensor>;
  paramGrads: Record<string, FixtureTensor>;
}

export function loadFixture<T>(name: string): T {
  return readFixture<T>(new URL(`./fixtures/${name}.json`, import.meta.url));
}

export const toArray = (t: FixtureTensor): NDArray => fromFixture(t);

/** Shape, dtype and values within the dtype's tolerance, naming the worst entry on failure. */
export function expectClose(actual: NDArray, expected: NDArray | FixtureTensor, label: string): void {
  const error = assertClose(actual, expected, label);
  if (process.env.REPORT_ERRORS) console.log(`REPORT ${actual.dtype} ${error.toExponential(2)} ${label}`);
}

/** Bitwise equality of two arrays (init fixtures), naming the first difference. */
export function expectBitwiseEqual(actual: NDArray, expected: FixtureTensor, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  assertBitwiseEqual(actual, expected, label);
}

export function caseLabel(parts: Record<string, unknown>): string {
  return Object.entries(parts)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

/** Asserts `actual` equals `factor` × `reference` entry by entry (gradient accumulation tests). */
export function expectScaled(actual: NDArray, reference: ArrayLike<number>, factor: number, digits = 12): void {
  expect(actual.size).toBe(reference.length);
  for (let i = 0; i < reference.length; i++) expect(actual.data[i]).toBeCloseTo(factor * reference[i], digits);
}
