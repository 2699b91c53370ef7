import type { FloatArray } from '../dtype';

/**
 * A seeded source of random numbers. Every function that draws (`rand`,
 * `randn`, layer initialisation, dropout, shuffling) takes one, so a run is
 * reproducible from its seed alone.
 *
 * `TorchGenerator` reproduces `torch.manual_seed(seed)` on the CPU bit for bit;
 * `NumpyRandomState` reproduces `numpy.random.seed(seed)`.
 */
export interface Generator {
  /** Fills `out` with U[low, high) samples, as `tensor.uniform_(low, high)` does for out's dtype. */
  uniform(out: FloatArray, low: number, high: number): void;
  /** Fills `out` with N(mean, std²) samples, as `tensor.normal_(mean, std)` does for out's dtype. */
  normal(out: FloatArray, mean: number, std: number): void;
  /** A uniformly random integer in [0, n), n ≤ 2^32. */
  randint(n: number): number;
}
