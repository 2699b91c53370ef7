import type { Parameter } from '@backprop/ndarray';
import {
  Adagrad,
  Adam,
  AdamW,
  type AnyOptimizer,
  CosineAnnealingLR,
  ExponentialLR,
  type LRScheduler,
  LinearLR,
  MultiStepLR,
  RMSprop,
  SGD,
  StepLR,
} from '../src/index';

export type OptimizerName = 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
export type SchedulerName = 'StepLR' | 'ExponentialLR' | 'CosineAnnealingLR' | 'MultiStepLR' | 'LinearLR';

export interface OptimizerJson {
  optimizer: OptimizerName;
  options: Record<string, unknown>;
  groups: Array<Record<string, unknown> & { params: number[] }> | null;
}

export interface SchedulerJson {
  type: SchedulerName;
  options: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: constructors of every optimizer, called with fixture options
const OPTIMIZERS: Record<OptimizerName, new (params: any, options: any) => AnyOptimizer> = {
  SGD,
  Adam,
  AdamW,
  RMSprop,
  Adagrad,
};

// biome-ignore lint/suspicious/noExplicitAny: scheduler constructors called with fixture options
const SCHEDULERS: Record<SchedulerName, new (opt: AnyOptimizer, options: any) => LRScheduler> = {
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
  MultiStepLR,
  LinearLR,
};

/** The optimizer a fixture case describes, over `params`. */
export function buildOptimizer(c: OptimizerJson, params: Parameter[]): AnyOptimizer {
  const Class = OPTIMIZERS[c.optimizer];
  if (c.groups === null) return new Class(params, c.options);
  return new Class(
    c.groups.map((g) => ({ ...g, params: g.params.map((i) => params[i]) })),
    c.options,
  );
}

/** The scheduler a fixture case describes, on `opt`. */
export function buildScheduler(s: SchedulerJson, opt: AnyOptimizer): LRScheduler {
  return new SCHEDULERS[s.type](opt, s.options);
}
