import { readFileSync } from 'node:fs';
import { type DType, NDArray, array } from '../src/index';

export interface FixtureTensor {
  shape: number[];
  dtype: DType | 'int32' | 'int64';
  data: number[];
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as T;
}

export function fromFixture(t: FixtureTensor): NDArray {
  const dtype = t.dtype === 'float64' ? 'float64' : 'float32';
  return array(t.data, { shape: t.shape, dtype });
}

/** Worst relative error max|a−b| / max(|b|, 1e-300 floor) and where it happened. */
export function worstRelError(actual: NDArray, expected: NDArray): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < expected.size; i++) {
    const e = expected.data[i];
    const d = Math.abs(actual.data[i] - e) / Math.max(Math.abs(e), 1e-300);
    if (d > error || Number.isNaN(d)) {
      error = d;
      index = i;
    }
  }
  return { error, index };
}

/** A deterministic pseudo-random source for tests (not the library's generators). */
export function testRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function randomArray(shape: number[], dtype: DType, next: () => number): NDArray {
  const out = new NDArray(dtype === 'float64' ? new Float64Array(shape.reduce((p, d) => p * d, 1)) : new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);
  for (let i = 0; i < out.size; i++) out.data[i] = next() * 4 - 2;
  return out;
}
