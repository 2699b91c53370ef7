import { type NDArray, checkChoice } from '@backprop/ndarray';

/**
 * How a loss folds its per-element terms: `'mean'` (the default, as in
 * PyTorch) or `'sum'` into one number, or `'none'` to keep them, as an array
 * of the loss's shape (the prediction's for the elementwise losses, the
 * target's for the classification losses).
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** The reductions to one number: what `Loss` means without a type argument. */
export type ScalarReduction = 'mean' | 'sum';

/** The reductions every loss accepts. */
export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/**
 * What `forward` returns under reduction `R`: a number for `'mean'` and
 * `'sum'`, an NDArray for `'none'` (either, when `R` is not known).
 */
export type LossValue<R extends Reduction> = R extends 'none' ? NDArray : number;

/**
 * The arguments of `backward` under reduction `R`: an optional number (1 by
 * default) for `'mean'` and `'sum'`; for `'none'` a required NDArray of the
 * loss's shape, dLoss/dℓᵢ for every term (PyTorch's `loss.backward(gradient)`
 * on a non-scalar loss).
 */
export type BackwardArgs<R extends Reduction> = [R] extends ['none']
  ? [outputGrad: NDArray]
  : [R] extends [ScalarReduction]
    ? [outputGrad?: number]
    : [outputGrad?: number | NDArray];

/** Validates a `reduction` option. */
export function checkReduction(op: string, value: unknown): Reduction {
  return checkChoice(op, 'reduction', value, REDUCTIONS);
}
