import { ValueError, checkChoice } from '@backprop/ndarray';

/**
 * How a loss folds its per-element terms into one number: `'mean'` (the
 * default, as in PyTorch) or `'sum'`. PyTorch's `'none'` is not offered because
 * `forward` returns a single number; sum per-sample losses yourself if needed.
 */
export type Reduction = 'mean' | 'sum';

/** The reductions every loss accepts. */
export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum'];

/** Validates a `reduction` option, explaining why PyTorch's `'none'` is refused. */
export function checkReduction(op: string, value: unknown): Reduction {
  if (value === 'none') {
    throw new ValueError(
      `${op}: reduction 'none' is not supported because forward() returns one number; expected 'mean' or 'sum'`,
    );
  }
  return checkChoice(op, 'reduction', value, REDUCTIONS);
}
