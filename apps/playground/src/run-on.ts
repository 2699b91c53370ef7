/**
 * Where the trainers' ops run. A trainer keeps the backend it was built on
 * (the CPU's, or a WebGPU backend) and runs each synchronous stretch of its
 * work there with {@link within}, which sets the backend with `setBackend`
 * and puts the previous one back: between two awaits of a trainer (a read
 * from the GPU) the worker may answer the page, and what it runs then (a
 * prediction, a model file) finds the backend as it was. The data stay on
 * the host: batches are cut there ({@link onHost}) and uploaded with
 * `toBackend`.
 */
import { type Backend, type NDArray, jsBackend, setBackend, stack, wasmBackend } from '@backprop/ndarray';

/** The CPU backend: ndarray's WebAssembly SIMD kernels where the engine has them, else its TypeScript ones. */
export const hostBackend: Backend = wasmBackend ?? jsBackend;

/** `run()` with `backend` active, the previous backend restored after (synchronous work only: no await inside). */
export function within<T>(backend: Backend, run: () => T): T {
  const previous = setBackend(backend);
  try {
    return run();
  } finally {
    setBackend(previous);
  }
}

/** `run()` on the host backend: cutting a batch out of a dataset, which lives on the host. */
export const onHost = <T>(run: () => T): T => within(hostBackend, run);

/**
 * The values of 0-d float32 arrays (losses, counts), read in one transfer:
 * stacked where they are and read with `await toHost()`, one wait for the
 * GPU however many there are. On the CPU the values are the arrays' own, bit
 * for bit. Rejects where the device has a failed check to report (a NaN the
 * optimizer found in a gradient, say) or an error.
 */
export async function readScalars(backend: Backend, scalars: readonly NDArray[]): Promise<Float32Array> {
  if (scalars.length === 0) return new Float32Array(0);
  const stacked = within(backend, () => stack(scalars.map((s) => s.reshape([]))));
  return Float32Array.from(await stacked.toHost());
}
