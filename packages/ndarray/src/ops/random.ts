/**
 * Random fills from a seeded generator: the draws are the generator's own
 * stream (torch's or numpy's), so a fill equals `tensor.uniform_()` /
 * `tensor.normal_()` bit for bit under the same seed.
 */
import { ValueError, describe } from '../errors';
import { randomKernels as ts } from '../kernels/js/random';
import { kernel } from '../kernels/registry';
import type { NDArray } from '../ndarray';
import type { Generator } from '../random/generator';
import { defaultGenerator } from '../random/torch';
import { checkFloatArray } from './operand';

function checkGenerator(op: string, rng: unknown): Generator {
  const g = rng as Generator | null;
  if (g === null || typeof g !== 'object' || typeof g.uniform !== 'function' || typeof g.normal !== 'function') {
    throw new ValueError(`${op}: rng must be a Generator (such as new TorchGenerator(seed)), got ${describe(rng)}`);
  }
  return g;
}

/** Overwrites `out` with U[low, high) samples, as `out.uniform_(low, high)`; returns out. */
export function fillUniform(out: NDArray, low: number, high: number, rng: Generator = defaultGenerator): NDArray {
  const op = 'fillUniform';
  checkFloatArray(op, 'out', out);
  if (typeof low !== 'number' || typeof high !== 'number' || !(low <= high) || !Number.isFinite(high - low)) {
    throw new ValueError(`${op}: expected finite low <= high, got low=${describe(low)}, high=${describe(high)}`);
  }
  kernel('uniform', ts.uniform)({ rng: checkGenerator(op, rng), low, high, out });
  return out;
}

/** Overwrites `out` with N(mean, std²) samples, as `out.normal_(mean, std)`; returns out. */
export function fillNormal(out: NDArray, mean: number, std: number, rng: Generator = defaultGenerator): NDArray {
  const op = 'fillNormal';
  checkFloatArray(op, 'out', out);
  if (typeof mean !== 'number' || !Number.isFinite(mean) || typeof std !== 'number' || !(std >= 0) || !Number.isFinite(std)) {
    throw new ValueError(`${op}: expected a finite mean and std >= 0, got mean=${describe(mean)}, std=${describe(std)}`);
  }
  kernel('normal', ts.normal)({ rng: checkGenerator(op, rng), mean, std, out });
  return out;
}
