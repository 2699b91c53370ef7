import { checkOptions } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { cos } from './exact-math';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Half the period, in epochs: the rate reaches `etaMin` at tMax (an integer >= 1). */
  tMax: number;
  /** The lowest learning rate (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing: `torch.optim.lr_scheduler.CosineAnnealingLR`, in torch's
 * recursive (chainable) form. The rate follows
 * η_min + (base − η_min)·(1 + cos(π·k/tMax))/2 down to η_min at k = tMax and,
 * as in torch, does not stop there: it climbs back to the base rate at
 * 2·tMax and repeats with period 2·tMax. Each step is computed from the
 * previous rate exactly as torch computes it (with a correctly rounded
 * cosine, as glibc's), so the sequence matches torch's to the last bit or
 * two even after hundreds of steps.
 *
 * @example
 * ```ts
 * const opt = new AdamW(params, { lr: 1e-3 });
 * const schedule = new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax = 1;
  etaMin = 0;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    this.setOptions({ etaMin: 0, ...options }, 'CosineAnnealingLR');
    this.initialStep();
  }

  protected override get options(): Record<string, unknown> {
    return { tMax: this.tMax, etaMin: this.etaMin };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    const tMax = checkInterval(op, 'tMax', o.tMax, { min: 1, integer: true });
    const etaMin = checkInterval(op, 'etaMin', o.etaMin, { min: 0 });
    this.tMax = tMax;
    this.etaMin = etaMin;
  }

  protected override getLr(): number[] {
    const { tMax, etaMin, lastEpoch: k } = this;
    const groups = this.optimizer.paramGroups;
    if (k === 0) return groups.map((g) => g.lr);
    // torch's closed-form branch for a scheduler built with last_epoch > 0 is not here:
    // this one always starts at epoch 0 and resumes through loadStateDict.
    if ((k - 1 - tMax) % (2 * tMax) === 0) {
      // The step out of the trough, where the ratio below would divide by 1 + cos(π) = 0.
      // Like torch's zip, it skips groups added after the scheduler (they have no base rate).
      const based = groups.slice(0, this.baseLrs.length);
      return based.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - cos(Math.PI / tMax))) / 2);
    }
    const ratio = (1 + cos((Math.PI * k) / tMax)) / (1 + cos((Math.PI * (k - 1)) / tMax));
    return groups.map((g) => ratio * (g.lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    const { tMax, etaMin, lastEpoch: k } = this;
    const c = cos((Math.PI * k) / tMax);
    return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + c)) / 2);
  }
}
