/**
 * Random fills: the generator draws (torch's or numpy's stream, on the host)
 * straight into the array's memory.
 */
import type { NDArray } from '../../ndarray';
import type { Generator } from '../../random/generator';
import type { Kernels } from '../types';
import { hostFloat } from './host';

function uniform({ rng, low, high, out }: { rng: Generator; low: number; high: number; out: NDArray }): void {
  rng.uniform(hostFloat(out), low, high);
}

function normal({ rng, mean, std, out }: { rng: Generator; mean: number; std: number; out: NDArray }): void {
  rng.normal(hostFloat(out), mean, std);
}

export const randomKernels = { uniform, normal } satisfies Partial<Kernels>;
