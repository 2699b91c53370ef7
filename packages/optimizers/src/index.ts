export {
  Optimizer,
  type NonFinitePolicy,
  type OptimizerBehaviour,
  type OptimizerOptions,
  type OptimizerSpec,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type StateValue,
} from './optimizer';
export { SGD, type SGDOptions, type SGDState } from './sgd';
export { Adam, type AdamOptions, type AdamState } from './adam';
export { AdamW, type AdamWOptions } from './adamw';
export { RMSprop, type RMSpropOptions, type RMSpropState } from './rmsprop';
export { Adagrad, type AdagradOptions, type AdagradState } from './adagrad';
export { LRScheduler, type AnyOptimizer, type LRSchedulerStateDict } from './lr-scheduler';
export { StepLR, type StepLROptions } from './step-lr';
export { ExponentialLR, type ExponentialLROptions } from './exponential-lr';
export { CosineAnnealingLR, type CosineAnnealingLROptions } from './cosine-annealing-lr';
export { MultiStepLR, type MultiStepLROptions } from './multi-step-lr';
export { LinearLR, type LinearLROptions } from './linear-lr';
export { LambdaLR, type LrLambda } from './lambda-lr';
export { SequentialLR, type SequentialLROptions } from './sequential-lr';
export { CosineAnnealingWarmRestarts, type CosineAnnealingWarmRestartsOptions } from './cosine-annealing-warm-restarts';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle-lr';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip-grad';
export {
  OPTIMIZERS,
  SCHEDULERS,
  type OptimizerClass,
  type OptimizerName,
  type SchedulerClass,
  type SchedulerName,
} from './registry';
