/**
 * What the tests of GPU kernels against the TypeScript ones share: the file's
 * GPU backend ({@link useGpu}, {@link gpu}), an op run on host copies with
 * `jsBackend` and on uploads with the GPU ({@link onHost}, {@link onGpu},
 * {@link both}), seeded host data ({@link host}, from `testRandom`) and an
 * elementwise comparison ({@link expectWithin}).
 */
import { type Backend, NDArray, type TypedArray, array, getBackend, jsBackend, setBackend } from '@backprop/ndarray';
import { testRandom } from '@backprop/ndarray/test';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { WebGpuBackend } from '../src/index';
import { webgpu } from './gpu';

let backend: WebGpuBackend | undefined;

/**
 * Makes the file's tests GPU tests: the GPU backend is created before them,
 * `jsBackend` is active again after each, and the backend active before them
 * is restored after them all.
 */
export function useGpu(): void {
  let previous: Backend;
  beforeAll(async () => {
    previous = getBackend();
    backend = await webgpu();
  });
  afterEach(() => {
    setBackend(jsBackend);
  });
  afterAll(() => {
    setBackend(previous);
  });
}

/** The GPU backend {@link useGpu} created. */
export function gpu(): WebGpuBackend {
  if (backend === undefined) throw new Error('gpu(): call useGpu() in the test file');
  return backend;
}

/** `op` with the TypeScript kernels (left active) on copies of the host arrays `inputs`: an op may write into its arguments. */
export function onHost<T>(inputs: readonly NDArray[], op: (...xs: NDArray[]) => T): T {
  setBackend(jsBackend);
  return op(...inputs.map((x) => new NDArray(x.data.slice(), x.shape)));
}

/** `op` with the GPU's kernels on uploads of the host arrays `inputs`, then `jsBackend` active again; read its results with `await x.toHost()`. */
export function onGpu<T>(inputs: readonly NDArray[], op: (...xs: NDArray[]) => T): T {
  setBackend(gpu());
  try {
    return op(...inputs.map((x) => array(x.data, { shape: [...x.shape], dtype: x.dtype })));
  } finally {
    setBackend(jsBackend);
  }
}

/** {@link onHost} and {@link onGpu} of the same op: the elements of its result (or results), the TypeScript kernels' and the GPU's. */
export async function both(inputs: readonly NDArray[], op: (...xs: NDArray[]) => NDArray): Promise<{ expected: TypedArray; actual: TypedArray }>;
export async function both(inputs: readonly NDArray[], op: (...xs: NDArray[]) => NDArray[]): Promise<{ expected: TypedArray[]; actual: TypedArray[] }>;
export async function both(
  inputs: readonly NDArray[],
  op: (...xs: NDArray[]) => NDArray | NDArray[],
): Promise<{ expected: TypedArray | TypedArray[]; actual: TypedArray | TypedArray[] }> {
  const expected = onHost(inputs, op);
  const actual = onGpu(inputs, op);
  if (Array.isArray(expected)) {
    return { expected: expected.map((x) => x.data), actual: await Promise.all((actual as NDArray[]).map((x) => x.toHost())) };
  }
  return { expected: expected.data, actual: await (actual as NDArray).toHost() };
}

/** A host float32 array of `shape` with values in [-scale, scale), or from `values` (called with the flat index), drawn from `testRandom(seed)`. */
export function host(shape: readonly number[], seed = 1, values?: (i: number, next: () => number) => number, scale = 1): NDArray {
  const next = testRandom(seed);
  const size = shape.reduce((n, d) => n * d, 1);
  const data = Float32Array.from({ length: size }, (_, i) => (values === undefined ? scale * (2 * next() - 1) : values(i, next)));
  return new NDArray(data, shape);
}

/** Each element within `bound(j)` of the reference's (NaN where it is NaN, the same infinity where it is infinite). */
export function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: (j: number) => number): void {
  expect(actual.length).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) {
    const [a, e] = [actual[j], expected[j]];
    if (Number.isNaN(e)) expect(a, `element ${j}`).toBeNaN();
    else if (!Number.isFinite(e)) expect(a, `element ${j}`).toBe(e);
    else if (!(Math.abs(a - e) <= bound(j))) expect.fail(`element ${j}: ${a}, expected ${e} within ${bound(j)}`);
  }
}
