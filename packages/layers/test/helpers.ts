import { readFileSync } from 'node:fs';
import { type DType, NDArray, array } from '@backprop/ndarray';
import { expect } from 'vitest';

/** A tensor as tools/torch-fixtures/common.py writes it. */
export interface FixtureTensor {
  shape: number[];
  dtype: DType;
  data: number[];
}

/** A layer case as tools/torch-fixtures/layers.py's `record` writes it. */
export interface LayerCase {
  dtype: DType;
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrad: FixtureTensor;
  params: Record<string, FixtureTensor>;
  paramGrads: Record<string, FixtureTensor>;
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as T;
}

export function toArray(t: FixtureTensor): NDArray {
  return array(t.data, { shape: t.shape, dtype: t.dtype });
}

/** The project's tolerances: float64 results match torch to 1e-10 relative, float32 to 1e-5. */
export const TOLERANCE: Record<DType, number> = { float64: 1e-10, float32: 1e-5 };

/**
 * How far below the array's largest |value| an entry's own magnitude stops
 * being the yardstick. float64 entries are judged elementwise (down to 1e-6
 * of the largest value). float32 entries are judged against the largest value
 * (normwise relative error, ‖a − e‖∞ / ‖e‖∞): a float32 gradient entry that is a
 * sum of many O(1) terms cancelling to 1e-3 carries float32 round-off of the
 * terms, about 1e-7, which is 1e-4 of the entry itself whatever order torch
 * or we sum in, so an elementwise test would measure summation order, not
 * correctness.
 */
export const FLOOR: Record<DType, number> = { float64: 1e-6, float32: 1 };

/** Worst relative error, |a − e| / max(|e|, FLOOR·max|e|), and where it is. */
export function relativeError(actual: NDArray, expected: NDArray, floorFraction = FLOOR[expected.dtype]): { max: number; index: number } {
  let scale = 0;
  for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
  const floor = Math.max(scale * floorFraction, Number.MIN_VALUE);
  let max = 0;
  let index = -1;
  for (let i = 0; i < expected.size; i++) {
    const e = expected.data[i];
    const err = Math.abs(actual.data[i] - e) / Math.max(Math.abs(e), floor);
    if (!(err <= max)) {
      max = err;
      index = i;
    }
  }
  return { max, index };
}

/** Asserts shape, dtype and values within the dtype's tolerance, naming the worst entry on failure. */
export function expectClose(actual: NDArray, expected: NDArray | FixtureTensor, label: string): void {
  const want = expected instanceof NDArray ? expected : toArray(expected);
  expect(actual.shape, `${label}: shape`).toEqual(want.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(want.dtype);
  const { max, index } = relativeError(actual, want);
  if (process.env.REPORT_ERRORS) {
    const elementwise = relativeError(actual, want, 0).max;
    console.log(`REPORT ${want.dtype} ${max.toExponential(2)} (elementwise ${elementwise.toExponential(2)}) ${label}`);
  }
  const detail =
    index >= 0 ? ` at flat index ${index}: got ${actual.data[index]}, expected ${want.data[index]}` : '';
  expect(max, `${label}: worst relative error ${max}${detail}`).toBeLessThan(TOLERANCE[want.dtype]);
}

/** Bitwise equality of two arrays (init fixtures), naming the first difference. */
export function expectBitwiseEqual(actual: NDArray, expected: FixtureTensor, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  const first = expected.data.findIndex((v, i) => !Object.is(v, actual.data[i]));
  expect(first, `${label}: first difference at ${first}: got ${actual.data[first]}, expected ${expected.data[first]}`).toBe(-1);
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
