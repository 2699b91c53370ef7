/**
 * Every WGSL kernel of the `webgpu` backend, by the kernels' names
 * (`Kernels` of `@backprop/ndarray`), on one runtime.
 */
import type { Kernels } from '@backprop/ndarray';
import type { GpuRuntime } from '../runtime';
import { checkKernels } from './checks';
import { convKernels } from './conv';
import { elementwiseKernels } from './elementwise';
import { gemmKernels } from './gemm';
import { normalizeKernels } from './normalize';
import { optimizerKernels } from './optimizers';
import { randomKernels } from './random';
import { reduceKernels } from './reduce';
import { transformKernels } from './transform';

export function webgpuKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    ...elementwiseKernels(gpu),
    ...reduceKernels(gpu),
    ...normalizeKernels(gpu),
    ...gemmKernels(gpu),
    ...convKernels(gpu),
    ...transformKernels(gpu),
    ...optimizerKernels(gpu),
    ...randomKernels(gpu),
    ...checkKernels(gpu),
  };
}
