/**
 * The optimizers and schedulers by their PyTorch class names: the one list
 * that tests, tools/torch-parity and the apps pick from when a name comes
 * from a fixture, a command line or a UI. Plain constant records, so a
 * bundle that does not import them keeps only the classes it uses.
 */
import { Adagrad } from './adagrad';
import { Adam } from './adam';
import { AdamW } from './adamw';
import { CosineAnnealingLR } from './cosine-annealing-lr';
import { CosineAnnealingWarmRestarts } from './cosine-annealing-warm-restarts';
import { ExponentialLR } from './exponential-lr';
import { LambdaLR } from './lambda-lr';
import { LinearLR } from './linear-lr';
import type { AnyOptimizer, LRScheduler } from './lr-scheduler';
import { MultiStepLR } from './multi-step-lr';
import { OneCycleLR } from './one-cycle-lr';
import { ReduceLROnPlateau } from './reduce-lr-on-plateau';
import { RMSprop } from './rmsprop';
import { SequentialLR } from './sequential-lr';
import { SGD } from './sgd';
import { StepLR } from './step-lr';

/**
 * Any optimizer class, as code that picks one by name calls it: an iterable
 * of parameters or of param groups, and options. Each constructor checks
 * both at run time, naming the optimizer and the option, which is what a
 * name read from a fixture or a command line needs; call a class directly
 * (`new SGD(...)`) for compile-time checks of its own options.
 */
// biome-ignore lint/suspicious/noExplicitAny: options are any class's; each constructor checks its own at run time
export type OptimizerClass = new (params: Iterable<any>, options?: any) => AnyOptimizer;

/** Any scheduler class, as code that picks one by name calls it (options checked at run time). */
// biome-ignore lint/suspicious/noExplicitAny: options are any class's; each constructor checks its own at run time
export type SchedulerClass = new (optimizer: AnyOptimizer, options?: any) => LRScheduler;

/**
 * Every optimizer by its `torch.optim` name.
 *
 * @example
 * ```ts
 * const name: OptimizerName = 'AdamW';
 * const Optim: OptimizerClass = OPTIMIZERS[name];
 * const opt = new Optim(model.parameters(), { lr: 1e-3 });
 * ```
 */
export const OPTIMIZERS = { SGD, Adam, AdamW, RMSprop, Adagrad } as const satisfies Record<string, OptimizerClass>;

/**
 * Every scheduler by its `torch.optim.lr_scheduler` name. Each takes its
 * options record, but for `LambdaLR` (a function, or one per group) and
 * `SequentialLR` (schedulers already built on the same optimizer); step
 * `ReduceLROnPlateau` with the epoch's metric.
 */
export const SCHEDULERS = {
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
  MultiStepLR,
  LinearLR,
  LambdaLR,
  SequentialLR,
  CosineAnnealingWarmRestarts,
  OneCycleLR,
  ReduceLROnPlateau,
} as const satisfies Record<string, SchedulerClass>;

/** A key of {@link OPTIMIZERS}: `'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad'`. */
export type OptimizerName = keyof typeof OPTIMIZERS;

/** A key of {@link SCHEDULERS}: `'StepLR' | 'ExponentialLR' | ... | 'ReduceLROnPlateau'`. */
export type SchedulerName = keyof typeof SCHEDULERS;
