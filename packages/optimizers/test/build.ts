import type { Parameter } from '@backprop/ndarray';
import {
  type AnyOptimizer,
  type LRScheduler,
  OPTIMIZERS,
  type OptimizerClass,
  type OptimizerName,
  SCHEDULERS,
  type SchedulerClass,
  type SchedulerName,
} from '../src/index';

/** An optimizer as a fixture names it: torch's class name, its options, and param groups or null. */
export interface OptimizerJson {
  optimizer: OptimizerName;
  options: Record<string, unknown>;
  groups: Array<Record<string, unknown> & { params: number[] }> | null;
}

export interface SchedulerJson {
  type: SchedulerName;
  options: Record<string, unknown>;
}

/** The optimizer a fixture case describes, over `params`. */
export function buildOptimizer(c: OptimizerJson, params: Parameter[]): AnyOptimizer {
  const Optim: OptimizerClass = OPTIMIZERS[c.optimizer];
  if (c.groups === null) return new Optim(params, c.options);
  return new Optim(
    c.groups.map((g) => ({ ...g, params: g.params.map((i) => params[i]) })),
    c.options,
  );
}

/** The scheduler a fixture case describes, on `opt`. */
export function buildScheduler(s: SchedulerJson, opt: AnyOptimizer): LRScheduler {
  const Scheduler: SchedulerClass = SCHEDULERS[s.type];
  return new Scheduler(opt, s.options);
}
