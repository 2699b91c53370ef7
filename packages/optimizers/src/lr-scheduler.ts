import { checkOptions, describe, ValueError } from '@backprop/ndarray';
import { checkInterval, checkLr } from './checks';
import { Optimizer, type OptimizerOptions, copyOptions } from './optimizer';

/**
 * A scheduler's state as plain data (torch's `scheduler.state_dict()`): the
 * epoch counter, the base and last learning rates, and the scheduler's own
 * options (`stepSize`, `gamma`, `tMax`, ...).
 */
export interface LRSchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  /** How many times `step()` has run, counting the one in the constructor. */
  stepCount: number;
  [option: string]: unknown;
}

/** Any optimizer, whatever its options and state. */
// biome-ignore lint/suspicious/noExplicitAny: a scheduler reads and writes only `lr`, which every optimizer has
export type AnyOptimizer = Optimizer<OptimizerOptions, any>;

/**
 * The base of every learning-rate scheduler, as torch's `_LRScheduler`. A
 * scheduler is stepped once after each optimizer step; each `step()`
 * advances `lastEpoch` and writes new learning rates into the optimizer's
 * param groups, computed from the rates already there (torch's chainable
 * form), so several schedulers can drive one optimizer and a rate set by
 * hand carries on.
 *
 * Building a scheduler records each group's `initialLr` (once, as torch's
 * `initial_lr`) as its base rate and takes the first step: `lastEpoch` is 0
 * and `getLastLr()` is the base rates (or, for {@link LinearLR}, their
 * starting fraction).
 */
export abstract class LRScheduler {
  /** The optimizer whose learning rates this scheduler sets. */
  readonly optimizer: AnyOptimizer;
  /** Each group's learning rate when the first scheduler was attached. */
  baseLrs: number[];
  /** Scheduler steps taken since construction; 0 right after it (torch's `last_epoch`). */
  lastEpoch = -1;
  /** How many times `step()` has run, counting the one in the constructor (torch's `_step_count`). */
  protected stepCount = 0;
  /** The rates the last `step()` set (torch's `_last_lr`). */
  protected lastLr: number[] = [];
  protected readonly name: string;

  /**
   * @param recordInitialLr Whether to record each group's `initialLr` (torch's
   *   `_LRScheduler` does; `ReduceLROnPlateau`, which is not one, does not).
   */
  protected constructor(name: string, optimizer: AnyOptimizer, recordInitialLr = true) {
    this.name = name;
    if (!(optimizer instanceof Optimizer)) {
      throw new ValueError(`${name}: optimizer must be an Optimizer (SGD, Adam, ...), got ${describe(optimizer)}`);
    }
    this.optimizer = optimizer;
    if (recordInitialLr) {
      for (const group of optimizer.paramGroups) {
        if (group.initialLr === undefined) group.initialLr = group.lr;
      }
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr ?? g.lr);
  }

  /** Takes the first step; each subclass calls it last in its constructor, once its options are set. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The learning rates for the epoch just entered (`lastEpoch`), from the groups' current rates. */
  protected abstract getLr(): number[];

  /**
   * The learning rates at `lastEpoch` from the base rates alone (torch's
   * `_get_closed_form_lr`), for `step(epoch)`; `undefined` where torch has
   * none, and then `step(epoch)` uses {@link getLr}.
   */
  protected closedFormLr(): number[] | undefined {
    return undefined;
  }

  /** The scheduler's own options, as saved in its state dict. */
  protected abstract get options(): Record<string, unknown>;

  /** Checks and sets the scheduler's own options (from a constructor or a state dict). */
  protected abstract setOptions(options: Record<string, unknown>, op: string): void;

  /**
   * Advances one epoch and writes the new learning rates into the optimizer.
   * Call it after `optimizer.step()`.
   *
   * `step(epoch)` (torch's deprecated form, which {@link SequentialLR} uses
   * at its milestones) jumps to `epoch` instead, an integer >= 0, and
   * computes the rates from the base rates by the closed form where torch
   * has one.
   */
  step(epoch?: number): void {
    let values: number[];
    if (epoch === undefined) {
      this.stepCount += 1;
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      const at = checkInterval(`${this.name}.step`, 'epoch', epoch, { min: 0, integer: true });
      this.stepCount += 1;
      this.lastEpoch = at;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.setLrs(values);
  }

  /** Writes `values` into the groups (as torch's zip, up to the shorter) and records them as the last rates. */
  protected setLrs(values: readonly number[]): void {
    const groups = this.optimizer.paramGroups;
    const n = Math.min(groups.length, values.length);
    for (let i = 0; i < n; i++) groups[i].lr = values[i];
    this.lastLr = groups.map((g) => g.lr);
  }

  /** The learning rates the last `step()` set, one per param group (torch's `get_last_lr()`). */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The scheduler's state as plain data, as torch's `state_dict()`. */
  stateDict(): LRSchedulerStateDict {
    return {
      ...copyOptions(this.options),
      lastEpoch: this.lastEpoch,
      baseLrs: this.baseLrs.slice(),
      lastLr: this.lastLr.slice(),
      stepCount: this.stepCount,
    };
  }

  /**
   * Restores what {@link stateDict} returned (torch's `load_state_dict`). The
   * optimizer's learning rates are part of the optimizer's own state dict:
   * load both to resume.
   */
  loadStateDict(dict: LRSchedulerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
      throw new ValueError(`${op}: expected an object as stateDict() returns, got ${describe(dict)}`);
    }
    const { lastEpoch, baseLrs, lastLr, stepCount, ...options } = dict;
    const own = Object.keys(this.options);
    checkOptions(op, dict, ['lastEpoch', 'baseLrs', 'lastLr', 'stepCount', ...own]);
    // -1: a SequentialLR's scheduler whose turn has not come (its construction step undone).
    const epoch = checkInterval(op, 'lastEpoch', lastEpoch, { min: -1, integer: true });
    const count = checkInterval(op, 'stepCount', stepCount, { min: 0, integer: true });
    const groups = this.optimizer.paramGroups.length;
    const bases = checkLrList(op, 'baseLrs', baseLrs, groups);
    const last = checkLrList(op, 'lastLr', lastLr, groups);
    this.setOptions({ ...this.options, ...options }, op);
    this.lastEpoch = epoch;
    this.stepCount = count;
    this.baseLrs = bases;
    this.lastLr = last;
  }
}

function checkLrList(op: string, name: string, value: unknown, groups: number): number[] {
  if (!Array.isArray(value) || value.length !== groups) {
    throw new ValueError(
      `${op}: ${name} must be an array of ${groups} learning rates (one per param group), got ${describe(value)}`,
    );
  }
  return value.map((lr, i) => checkLr(op, lr, `${name}[${i}]`));
}

