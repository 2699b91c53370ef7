import { type Generator, ValueError, describe } from '@backprop/ndarray';

/** Throws unless `rng` is a generator of @backprop/ndarray (a `TorchGenerator`, a `NumpyRandomState`, or one of your own). */
export function checkGenerator(op: string, rng: unknown): Generator {
  const g = rng as Generator | null | undefined;
  if (g === null || typeof g !== 'object' || typeof g.randint !== 'function') {
    throw new ValueError(`${op}: rng must be a seeded generator such as new TorchGenerator(seed), got ${describe(rng)}`);
  }
  return g;
}
