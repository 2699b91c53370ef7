import { checkOptions } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { powInt } from './exact-math';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link ExponentialLR}. */
export interface ExponentialLROptions {
  /** The factor applied every epoch. */
  gamma: number;
}

/**
 * Multiplies the learning rate by `gamma` every epoch:
 * `torch.optim.lr_scheduler.ExponentialLR`. After k steps the rate is
 * base·γ^k, computed as torch does, by repeated multiplication.
 *
 * @example
 * ```ts
 * const schedule = new ExponentialLR(opt, { gamma: 0.95 });
 * ```
 */
export class ExponentialLR extends LRScheduler {
  gamma = 1;

  constructor(optimizer: AnyOptimizer, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer);
    checkOptions('ExponentialLR', options, ['gamma']);
    this.setOptions({ ...options }, 'ExponentialLR');
    this.initialStep();
  }

  protected override get options(): Record<string, unknown> {
    return { gamma: this.gamma };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    this.gamma = checkInterval(op, 'gamma', o.gamma, { min: 0 });
  }

  protected override getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    const factor = powInt(this.gamma, this.lastEpoch);
    return this.baseLrs.map((base) => base * factor);
  }
}
