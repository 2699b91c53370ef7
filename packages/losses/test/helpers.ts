import { readFileSync } from 'node:fs';
import { type DType, type NDArray, array } from '@backprop/ndarray';
import { expect } from 'vitest';

export interface FixtureTensor {
  shape: number[];
  dtype: DType | 'int32' | 'int64';
  data: number[];
}

export interface FixtureCase {
  name: string;
  options: Record<string, unknown>;
  prediction: FixtureTensor;
  target: FixtureTensor;
  weight?: FixtureTensor;
  posWeight?: FixtureTensor;
  loss: number;
  grad: FixtureTensor;
}

export function loadCases(name: string): FixtureCase[] {
  const text = readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8');
  return (JSON.parse(text) as { cases: FixtureCase[] }).cases;
}

/** A float fixture tensor as an NDArray of its dtype (int targets become float64 index arrays). */
export function fromFixture(t: FixtureTensor): NDArray {
  const dtype = t.dtype === 'float32' ? 'float32' : 'float64';
  return array(t.data, { shape: t.shape, dtype });
}

/** The tolerance each dtype is held to against PyTorch. */
export function tolerance(dtype: DType): number {
  return dtype === 'float64' ? 1e-10 : 1e-5;
}

/** Relative error of one value, |a − b| / |b| (exact when b is 0: any difference fails). */
export function relError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
}

/**
 * The worst element-wise relative error |a − b| / max(|b|, floor) and where it
 * occurs. For float64 the floor is 0: every element is held to the bound on
 * its own. For float32 the floor is max|b|: PyTorch's float32 kernels round
 * every intermediate, so an element that is a small difference of large terms
 * (softmax − target in cross-entropy) carries an error of a few float32 ulps
 * of the array's scale, not of its own size; our float32 results, computed in
 * float64 and rounded once, are checked element by element against float64
 * separately (see cross-entropy.test.ts).
 */
export function worstRelError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  dtype: DType = 'float64',
): { error: number; index: number } {
  let floor = 0;
  if (dtype === 'float32') for (let i = 0; i < expected.length; i++) floor = Math.max(floor, Math.abs(expected[i]));
  let error = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const e = a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), floor, Number.MIN_VALUE);
    if (!(e <= error)) {
      error = e;
      index = i;
    }
  }
  return { error, index };
}

/** Asserts shape, dtype and every element within the dtype's relative tolerance, reporting the worst. */
export function expectArrayClose(actual: NDArray, expected: NDArray, label: string): number {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  const { error, index } = worstRelError(actual.data, expected.data, expected.dtype);
  expect(
    error,
    `${label}: worst relative error ${error} at flat index ${index} (got ${actual.data[index]}, expected ${expected.data[index]})`,
  ).toBeLessThan(tolerance(expected.dtype));
  return error;
}

/** Asserts one number within the dtype's relative tolerance. */
export function expectNumberClose(actual: number, expected: number, dtype: DType, label: string): number {
  const error = relError(actual, expected);
  expect(error, `${label}: got ${actual}, expected ${expected} (relative error ${error})`).toBeLessThan(tolerance(dtype));
  return error;
}

/**
 * Central finite differences of `f` at `x` (float64): (f(x + hεᵢ) − f(x − hεᵢ)) / 2h
 * for every element, restoring x afterwards.
 */
export function numericGradient(f: (x: NDArray) => number, x: NDArray, h = 1e-6): Float64Array {
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const old = x.data[i];
    x.data[i] = old + h;
    const plus = f(x);
    x.data[i] = old - h;
    const minus = f(x);
    x.data[i] = old;
    out[i] = (plus - minus) / (2 * h);
  }
  return out;
}

/** A deterministic pseudo-random source for tests (an LCG; not the library's generators). */
export function testRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** float64 values uniform in [low, high). */
export function randomArray(shape: number[], low: number, high: number, next: () => number): NDArray {
  const size = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = low + (high - low) * next();
  return array(data, { shape, dtype: 'float64' });
}
