import { checkOptions } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link LinearLR}. */
export interface LinearLROptions {
  /** The fraction of the base rate at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** The fraction reached at `totalIters`, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs over which the fraction moves linearly, an integer >= 0 (default 5; 0 holds startFactor, as torch). */
  totalIters?: number;
}

/**
 * Scales the learning rate by a factor moving linearly from `startFactor` to
 * `endFactor` over `totalIters` epochs, then leaves it: torch's
 * `LinearLR`, in its recursive form. A warm-up, typically.
 *
 * @example
 * ```ts
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 10 });
 * ```
 */
export class LinearLR extends LRScheduler {
  startFactor = 1 / 3;
  endFactor = 1;
  totalIters = 5;

  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer);
    checkOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters']);
    this.setOptions({ startFactor: 1 / 3, endFactor: 1, totalIters: 5, ...options }, 'LinearLR');
    this.initialStep();
  }

  protected override get options(): Record<string, unknown> {
    return { startFactor: this.startFactor, endFactor: this.endFactor, totalIters: this.totalIters };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    // torch 1.13 accepts startFactor 0 and then divides by zero at epoch 1.
    const startFactor = checkInterval(op, 'startFactor', o.startFactor, { min: 0, max: 1, minOpen: true });
    const endFactor = checkInterval(op, 'endFactor', o.endFactor, { min: 0, max: 1 });
    const totalIters = checkInterval(op, 'totalIters', o.totalIters, { min: 0, integer: true });
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
  }

  protected override getLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    const groups = this.optimizer.paramGroups;
    if (lastEpoch === 0) return groups.map((g) => g.lr * startFactor);
    if (lastEpoch > totalIters) return groups.map((g) => g.lr);
    const factor =
      1 + (endFactor - startFactor) / (totalIters * startFactor + (lastEpoch - 1) * (endFactor - startFactor));
    return groups.map((g) => g.lr * factor);
  }

  protected override closedFormLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    // torch divides by totalIters, a ZeroDivisionError at 0; the rate such a scheduler holds is startFactor·base.
    if (totalIters === 0) return this.baseLrs.map((base) => base * startFactor);
    const factor = startFactor + ((endFactor - startFactor) * Math.min(totalIters, lastEpoch)) / totalIters;
    return this.baseLrs.map((base) => base * factor);
  }
}
