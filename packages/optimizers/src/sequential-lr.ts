import { checkOptions, describe, ValueError } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { type AnyOptimizer, LRScheduler, type LRSchedulerStateDict } from './lr-scheduler';
import { ReduceLROnPlateau } from './reduce-lr-on-plateau';

/** The options of {@link SequentialLR}. */
export interface SequentialLROptions {
  /** The schedulers to run one after another, all built on this optimizer. */
  schedulers: readonly LRScheduler[];
  /** The epochs at which the next scheduler takes over: increasing integers >= 1, one fewer than the schedulers. */
  milestones: readonly number[];
}

/**
 * Runs schedulers one after another, switching at the milestones:
 * `torch.optim.lr_scheduler.SequentialLR`, typically a warm-up and then a
 * decay. Build the schedulers on the optimizer first, then this; step only
 * this one.
 *
 * Torch 1.13's behaviour, exactly: building it resets every group's rate to
 * its `initialLr`, undoes the step each scheduler took when it was built and
 * takes the first scheduler's first step again. At a milestone the next
 * scheduler is stepped to epoch 0 (torch's `step(0)`: its closed form from the
 * base rates where it has one, so a warm-up's last rate is not carried over:
 * a cosine schedule restarts from the base rate), and on from there in its
 * chainable form.
 *
 * @example
 * ```ts
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const decay = new CosineAnnealingLR(opt, { tMax: 95 });
 * const schedule = new SequentialLR(opt, { schedulers: [warmup, decay], milestones: [5] });
 * ```
 */
export class SequentialLR extends LRScheduler {
  /** The schedulers, in order. */
  readonly schedulers: LRScheduler[];
  milestones: number[] = [];

  constructor(optimizer: AnyOptimizer, options: SequentialLROptions) {
    super('SequentialLR', optimizer);
    const op = 'SequentialLR';
    checkOptions(op, options, ['schedulers', 'milestones']);
    const { schedulers } = options ?? ({} as Partial<SequentialLROptions>);
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new ValueError(`${op}: schedulers must be a non-empty array of schedulers, got ${describe(schedulers)}`);
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) {
        throw new ValueError(`${op}: schedulers[${i}] must be a scheduler (StepLR, LinearLR, ...), got ${describe(s)}`);
      }
      if (s instanceof ReduceLROnPlateau || s instanceof SequentialLR) {
        throw new ValueError(`${op}: schedulers[${i}] is a ${s.constructor.name}, which SequentialLR cannot step; use an epoch-based scheduler`);
      }
      if (s.optimizer !== optimizer) {
        throw new ValueError(`${op}: schedulers[${i}] belongs to another optimizer; every scheduler must be built on the one given`);
      }
    });
    this.schedulers = schedulers.slice();
    this.setOptions({ milestones: options.milestones }, op);
    // torch: reset the rates, undo each scheduler's construction step, redo the first one's.
    for (const group of this.optimizer.paramGroups) group.lr = group.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.lastEpoch = 0;
    this.stepCount = 1;
    const first = this.schedulers[0];
    first.step();
    this.lastLr = first.getLastLr();
  }

  protected override get options(): Record<string, unknown> {
    return { milestones: this.milestones.slice() };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    const { milestones } = o;
    const expected = this.schedulers.length - 1;
    if (!Array.isArray(milestones) || milestones.length !== expected) {
      throw new ValueError(
        `${op}: milestones must be an array of ${expected} epochs (one fewer than the ${this.schedulers.length} schedulers), got ${describe(milestones)}`,
      );
    }
    const checked = milestones.map((m, i) => {
      const min = i === 0 ? 1 : (milestones[i - 1] as number) + 1;
      return checkInterval(op, `milestones[${i}]`, m, { min, integer: true });
    });
    this.milestones = checked;
  }

  /** Advances one epoch: steps the scheduler whose turn it is (to its epoch 0 at its milestone). */
  override step(epoch?: number): void {
    if (epoch !== undefined) {
      throw new ValueError(`SequentialLR.step takes no epoch (torch's has none), got ${describe(epoch)}`);
    }
    this.stepCount += 1;
    this.lastEpoch += 1;
    let index = 0;
    while (index < this.milestones.length && this.milestones[index] <= this.lastEpoch) index++;
    const scheduler = this.schedulers[index];
    if (index > 0 && this.milestones[index - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  protected override getLr(): number[] {
    return this.lastLr.slice();
  }

  /** The state, with each scheduler's own (torch's `_schedulers`). */
  override stateDict(): LRSchedulerStateDict {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  override loadStateDict(dict: LRSchedulerStateDict): void {
    const op = 'SequentialLR.loadStateDict';
    const saved = dict?.schedulers;
    if (!Array.isArray(saved) || saved.length !== this.schedulers.length) {
      throw new ValueError(`${op}: schedulers must be an array of ${this.schedulers.length} scheduler states, got ${describe(saved)}`);
    }
    const { schedulers: _states, ...own } = dict;
    super.loadStateDict(own as LRSchedulerStateDict);
    saved.forEach((state, i) => {
      this.schedulers[i].loadStateDict(state as LRSchedulerStateDict);
    });
  }
}
