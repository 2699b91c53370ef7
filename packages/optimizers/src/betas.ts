/**
 * The `betas` option of Adam and AdamW.
 *
 * @internal Not exported from the package.
 */
import { describe, ValueError } from '@backprop/ndarray';
import { checkInterval } from './checks';

/** Checks `betas` is a pair of numbers in [0, 1) and returns a copy. */
export function checkBetas(op: string, betas: unknown): [number, number] {
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new ValueError(`${op}: betas must be a pair [beta1, beta2] of numbers in [0, 1), got ${describe(betas)}`);
  }
  return [
    checkInterval(op, 'betas[0]', betas[0], { min: 0, max: 1, maxOpen: true }),
    checkInterval(op, 'betas[1]', betas[1], { min: 0, max: 1, maxOpen: true }),
  ];
}
