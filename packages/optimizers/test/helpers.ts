import { readFileSync } from 'node:fs';
import { type DType, type NDArray, Parameter, array } from '@backprop/ndarray';
import { expect } from 'vitest';

/** A tensor as the fixture scripts write it. */
export interface TensorJson {
  shape: number[];
  dtype: DType;
  data: number[];
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as T;
}

/** A fixture tensor as an NDArray of `dtype` (float64 data rounds to float32 exactly as torch's `.to(float32)`). */
export function fromJson(t: TensorJson, dtype: DType = t.dtype): NDArray {
  return array(t.data, { shape: t.shape, dtype });
}

/** Fresh parameters holding the fixture's initial values. */
export function makeParams(tensors: TensorJson[], dtype: DType): Parameter[] {
  return tensors.map((t, i) => new Parameter(fromJson(t, dtype), `p${i}`));
}

/** Writes the fixture's gradients into the parameters' grads. */
export function setGrads(params: Parameter[], grads: TensorJson[]): void {
  params.forEach((p, i) => {
    p.grad.data.set(grads[i].data);
  });
}

/**
 * The worst relative error |a − e| / |e| over the elements (absolute where
 * e = 0) and where it occurs.
 */
export function worstRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    const err = e === 0 ? Math.abs(a) : Math.abs(a - e) / Math.abs(e);
    if (!(err <= error)) {
      error = err;
      index = i;
    }
  }
  return { error, index };
}

/** The worst errors seen per dtype, reported by the fixture suites. */
export const worst: Record<DType, { error: number; where: string }> = {
  float64: { error: 0, where: '' },
  float32: { error: 0, where: '' },
};

export const TOLERANCE: Record<DType, number> = { float64: 1e-10, float32: 1e-5 };

/** Asserts `actual` matches the fixture within the dtype's tolerance, naming the worst element on failure. */
export function expectClose(actual: NDArray, expected: TensorJson, dtype: DType, where: string): void {
  expect(actual.shape, `${where}: shape`).toEqual(expected.shape);
  const { error, index } = worstRelativeError(actual.data, expected.data);
  if (error > worst[dtype].error) worst[dtype] = { error, where };
  if (!(error < TOLERANCE[dtype])) {
    throw new Error(
      `${where}: relative error ${error} at flat index ${index} (got ${actual.data[index]}, torch ${expected.data[index]}); tolerance ${TOLERANCE[dtype]}`,
    );
  }
}
