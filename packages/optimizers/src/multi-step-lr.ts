import { checkOptions, describe, ValueError } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { powInt } from './exact-math';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link MultiStepLR}. */
export interface MultiStepLROptions {
  /** The epochs at which to decay (integers >= 0; one listed twice decays twice). */
  milestones: readonly number[];
  /** The factor applied at each milestone (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies the learning rate by `gamma` at each milestone epoch:
 * `torch.optim.lr_scheduler.MultiStepLR`.
 *
 * @example
 * ```ts
 * const schedule = new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 });
 * ```
 */
export class MultiStepLR extends LRScheduler {
  milestones: number[] = [];
  gamma = 0.1;

  constructor(optimizer: AnyOptimizer, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer);
    checkOptions('MultiStepLR', options, ['milestones', 'gamma']);
    this.setOptions({ gamma: 0.1, ...options }, 'MultiStepLR');
    this.initialStep();
  }

  protected override get options(): Record<string, unknown> {
    return { milestones: this.milestones, gamma: this.gamma };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    const { milestones } = o;
    if (!Array.isArray(milestones)) {
      throw new ValueError(`${op}: milestones must be an array of epochs (integers >= 0), got ${describe(milestones)}`);
    }
    const sorted = milestones.map((m, i) => checkInterval(op, `milestones[${i}]`, m, { min: 0, integer: true }));
    sorted.sort((a, b) => a - b);
    const gamma = checkInterval(op, 'gamma', o.gamma, { min: 0 });
    this.milestones = sorted;
    this.gamma = gamma;
  }

  protected override getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    let count = 0;
    for (const m of this.milestones) if (m === this.lastEpoch) count++;
    if (count === 0) return groups.map((g) => g.lr);
    // torch: gamma ** count, glibc's pow
    const factor = powInt(this.gamma, count);
    return groups.map((g) => g.lr * factor);
  }

  protected override closedFormLr(): number[] {
    // torch: base_lr * gamma ** bisect_right(milestones, last_epoch)
    let passed = 0;
    for (const m of this.milestones) if (m <= this.lastEpoch) passed++;
    const factor = powInt(this.gamma, passed);
    return this.baseLrs.map((base) => base * factor);
  }
}
