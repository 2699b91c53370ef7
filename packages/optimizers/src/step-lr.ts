import { checkOptions } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { powInt } from './exact-math';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link StepLR}. */
export interface StepLROptions {
  /** Epochs between decays, an integer >= 1. */
  stepSize: number;
  /** The factor applied every `stepSize` epochs (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies the learning rate by `gamma` every `stepSize` epochs:
 * `torch.optim.lr_scheduler.StepLR`. After k steps the rate is
 * base·γ^⌊k/stepSize⌋, computed as torch does, by repeated multiplication.
 *
 * @example
 * ```ts
 * const opt = new SGD(params, { lr: 0.1 });
 * const schedule = new StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 90; epoch++) { train(opt); schedule.step(); }
 * ```
 */
export class StepLR extends LRScheduler {
  stepSize = 1;
  gamma = 0.1;

  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    super('StepLR', optimizer);
    checkOptions('StepLR', options, ['stepSize', 'gamma']);
    this.setOptions({ gamma: 0.1, ...options }, 'StepLR');
    this.initialStep();
  }

  protected override get options(): Record<string, unknown> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    const stepSize = checkInterval(op, 'stepSize', o.stepSize, { min: 1, integer: true });
    const gamma = checkInterval(op, 'gamma', o.gamma, { min: 0 });
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  protected override getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    // torch: base_lr * gamma ** (last_epoch // step_size), glibc's pow
    const factor = powInt(this.gamma, Math.floor(this.lastEpoch / this.stepSize));
    return this.baseLrs.map((base) => base * factor);
  }
}
