
import type { KernelArgs, Kernels } from '../types';
import { hostFloat } from './host';

function uniform({ rng, low, high, out }: KernelArgs<'uniform'>): void {
  rng.uniform(hostFloat(out), low, high);
}

function normal({ rng, mean, std, out }: KernelArgs<'normal'>): void {
  rng.normal(hostFloat(out), mean, std);
}

export const randomKernels = { uniform, normal } satisfies Partial<Kernels>;
