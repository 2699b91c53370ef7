/**
 * What the TypeScript kernels share: the host memory of an array, and the
 * strides that read an array as if broadcast to a larger shape.
 */
import type { FloatArray, TypedArray } from '../../dtype';
import type { NDArray } from '../../ndarray';

/**
 * The host typed array of an array on a host backend. Ops check that every
 * array they pass lives where the active backend keeps its arrays, so a host
 * kernel only ever sees host storage.
 */
export function host(x: NDArray): TypedArray {
  return x.storage as TypedArray;
}

/** {@link host} for the float arrays the arithmetic kernels take. */
export function hostFloat(x: NDArray): FloatArray {
  return x.storage as FloatArray;
}

export { broadcastStrides } from '../../shape';

/** The product of the sizes of `shape[from..to)`. */
export function span(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}
