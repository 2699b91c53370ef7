/**
 * The random fills: the generator draws on the host, exactly as the
 * TypeScript kernel does (so the stream is torch's, bit for bit), into a
 * float32 array that goes to the GPU in one upload.
 */
import type { Kernels } from '@backprop/ndarray';
import type { GpuRuntime } from '../runtime';
import type { GpuStorage } from '../storage';

export function randomKernels(_gpu: GpuRuntime): Partial<Kernels> {
  return {
    uniform: ({ rng, low, high, out }) => {
      const values = new Float32Array(out.size);
      rng.uniform(values, low, high);
      (out.storage as GpuStorage).write(values);
    },
    normal: ({ rng, mean, std, out }) => {
      const values = new Float32Array(out.size);
      rng.normal(values, mean, std);
      (out.storage as GpuStorage).write(values);
    },
  };
}
