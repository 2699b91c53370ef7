/**
 * The checks ops make of values (an index in range, a gradient finite),
 * which must answer synchronously: on the GPU the scan runs as a kernel and
 * its answer is left for the next read, which rejects when a value was
 * outside (as a device-side assert in PyTorch's CUDA kernels).
 */
import { type Kernels, formatShape } from '@backprop/ndarray';
import type { GpuRuntime } from '../runtime';
import type { GpuStorage } from '../storage';
import { scanOutside } from './reduce';

function range(low: number, high: number): string {
  return low === -Number.MAX_VALUE && high === Number.MAX_VALUE ? 'finite' : `in [${low}, ${high}]`;
}

export function checkKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    firstOutside: ({ x, low, high, what }) => {
      if (x.size === 0) return -1;
      const result = scanOutside(gpu, x, low, high);
      const array = `${x.dtype === 'int32' ? 'an' : 'a'} ${x.dtype} array of shape ${formatShape(x.shape)}`;
      gpu.deferCheck(
        result.storage as GpuStorage,
        (index) =>
          `${what === undefined ? array : `${what} (${array})`} holds a value that is not ${range(low, high)} at flat index ${index}; ` +
          'the check ran on the GPU and is reported at this read, the first after it',
      );
      return -1;
    },
  };
}
