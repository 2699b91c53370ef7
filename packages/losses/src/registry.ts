/**
 * Every loss by its `torch.nn` class name: the one list tests,
 * tools/torch-parity and the apps pick from when a name comes from a fixture,
 * a command line or a UI. A plain constant record, so a bundle that does not
 * import it keeps only the losses it uses.
 */
import { BCELoss } from './bce';
import { BCEWithLogitsLoss } from './bce-with-logits';
import { CrossEntropyLoss } from './cross-entropy';
import { HuberLoss } from './huber';
import { L1Loss } from './l1';
import type { Loss } from './loss';
import { MSELoss } from './mse';
import { NLLLoss } from './nll';
import type { Reduction, ScalarReduction } from './reduction';
import { SmoothL1Loss } from './smooth-l1';

/**
 * Any loss class, as code that picks one by name calls it (each constructor
 * checks its options at run time). `R` is the reduction the caller passes in
 * the options: `LossClass` builds a `Loss` whose `forward` returns a number,
 * `LossClass<'none'>` one that returns the unreduced terms.
 */
// biome-ignore lint/suspicious/noExplicitAny: options are any class's; each constructor checks its own at run time
export type LossClass<R extends Reduction = ScalarReduction> = new (options?: any) => Loss<R>;

/**
 * Every loss by its `torch.nn` name.
 *
 * @example
 * ```ts
 * const Criterion: LossClass = LOSSES['CrossEntropyLoss'];
 * const lossFn = new Criterion({ labelSmoothing: 0.1 });
 * ```
 */
export const LOSSES = {
  MSELoss,
  L1Loss,
  SmoothL1Loss,
  HuberLoss,
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  NLLLoss,
} as const satisfies Record<string, LossClass>;

/** A key of {@link LOSSES}. */
export type LossName = keyof typeof LOSSES;
