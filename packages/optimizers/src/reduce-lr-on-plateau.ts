import { checkChoice, checkOptions, describe, ValueError } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** `'min'` (default): the metric should fall (a loss); `'max'`: it should rise (an accuracy). */
  mode?: 'min' | 'max';
  /** The factor applied to the rate on a plateau, in [0, 1) (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing, an integer >= 0 (default 10). */
  patience?: number;
  /** The least improvement that counts, >= 0 (default 1e-4), relative or absolute by `thresholdMode`. */
  threshold?: number;
  /** `'rel'` (default): better than best·(1 ∓ threshold); `'abs'`: better than best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again, an integer >= 0 (default 0). */
  cooldown?: number;
  /** The lowest rate, one for every group or one per group, each >= 0 (default 0). */
  minLr?: number | readonly number[];
  /** A reduction smaller than eps is skipped, >= 0 (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the learning rate when a metric stops improving:
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`. Call `step(metric)` once per
 * epoch with the validation loss (or accuracy, in `'max'` mode). After more
 * than `patience` epochs in a row without an improvement beyond `threshold`,
 * each group's rate becomes max(lr·factor, minLr), unless that changes it by
 * no more than `eps`; then `cooldown` epochs pass before bad epochs count
 * again.
 *
 * As in torch, it does not record `initialLr` and its first rates are the
 * optimizer's. Unlike torch, a metric that is not a finite number throws
 * (torch counts a NaN loss as one more epoch without improvement).
 *
 * @example
 * ```ts
 * const schedule = new ReduceLROnPlateau(opt, { mode: 'min', factor: 0.5, patience: 3 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   train(opt);
 *   schedule.step(validationLoss());
 * }
 * ```
 */
export class ReduceLROnPlateau extends LRScheduler {
  mode: 'min' | 'max' = 'min';
  factor = 0.1;
  patience = 10;
  threshold = 1e-4;
  thresholdMode: 'rel' | 'abs' = 'rel';
  cooldown = 0;
  /** One lower bound per param group. */
  minLrs: number[] = [];
  eps = 1e-8;
  /** The best metric so far; `null` before the first `step` (torch's ±inf). */
  best: number | null = null;
  /** Epochs in a row without improvement. */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;

  constructor(optimizer: AnyOptimizer, options: ReduceLROnPlateauOptions = {}) {
    super('ReduceLROnPlateau', optimizer, false);
    const op = 'ReduceLROnPlateau';
    checkOptions(op, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    const { minLr = 0, ...rest } = options ?? {};
    const groups = this.optimizer.paramGroups.length;
    let minLrs: unknown;
    if (Array.isArray(minLr)) {
      if (minLr.length !== groups) {
        throw new ValueError(`${op}: expected ${groups} minLr values (one per param group), got an array of length ${minLr.length}`);
      }
      minLrs = minLr;
    } else {
      minLrs = Array.from({ length: groups }, () => checkInterval(op, 'minLr', minLr, { min: 0 }));
    }
    this.setOptions(
      {
        mode: 'min',
        factor: 0.1,
        patience: 10,
        threshold: 1e-4,
        thresholdMode: 'rel',
        cooldown: 0,
        eps: 1e-8,
        ...rest,
        minLrs,
        best: null,
        numBadEpochs: 0,
        cooldownCounter: 0,
      },
      op,
    );
    this.lastEpoch = 0;
    this.stepCount = 0;
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  protected override get options(): Record<string, unknown> {
    return {
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      minLrs: this.minLrs.slice(),
      eps: this.eps,
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
    };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    const mode = checkChoice(op, 'mode', o.mode, ['min', 'max']);
    const factor = checkInterval(op, 'factor', o.factor, { min: 0, max: 1, maxOpen: true });
    const patience = checkInterval(op, 'patience', o.patience, { min: 0, integer: true });
    const threshold = checkInterval(op, 'threshold', o.threshold, { min: 0 });
    const thresholdMode = checkChoice(op, 'thresholdMode', o.thresholdMode, ['rel', 'abs']);
    const cooldown = checkInterval(op, 'cooldown', o.cooldown, { min: 0, integer: true });
    const groups = this.optimizer.paramGroups.length;
    if (!Array.isArray(o.minLrs) || o.minLrs.length !== groups) {
      throw new ValueError(`${op}: minLrs must be an array of ${groups} numbers >= 0 (one per param group), got ${describe(o.minLrs)}`);
    }
    const minLrs = o.minLrs.map((v, i) => checkInterval(op, `minLr[${i}]`, v, { min: 0 }));
    const eps = checkInterval(op, 'eps', o.eps, { min: 0 });
    const best = o.best === null ? null : checkInterval(op, 'best', o.best);
    const numBadEpochs = checkInterval(op, 'numBadEpochs', o.numBadEpochs, { min: 0, integer: true });
    const cooldownCounter = checkInterval(op, 'cooldownCounter', o.cooldownCounter, { min: 0, integer: true });
    Object.assign(this, { mode, factor, patience, threshold, thresholdMode, cooldown, minLrs, eps, best, numBadEpochs, cooldownCounter });
  }

  /** Whether `metric` improves on the best so far by more than the threshold. */
  private isBetter(metric: number): boolean {
    const { threshold } = this;
    // Before the first metric torch compares with mode_worse, ±inf (so a 'rel' threshold >= 1 never improves in 'min' mode).
    const best = this.best ?? (this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? metric < best * (1 - threshold) : metric < best - threshold;
    return this.thresholdMode === 'rel' ? metric > best * (threshold + 1) : metric > best + threshold;
  }

  /**
   * Records one epoch's metric and reduces the rates if it has not improved
   * for more than `patience` epochs. Call it after the epoch's validation.
   */
  override step(metric?: number): void {
    const op = 'ReduceLROnPlateau.step';
    if (typeof metric !== 'number' || !Number.isFinite(metric)) {
      throw new ValueError(`${op}: metric must be a finite number (the epoch's validation loss or accuracy), got ${describe(metric)}`);
    }
    this.stepCount += 1;
    this.lastEpoch += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      const groups = this.optimizer.paramGroups;
      if (groups.length !== this.minLrs.length) {
        throw new ValueError(
          `${op}: the optimizer has ${groups.length} param groups but this scheduler was built for ${this.minLrs.length} (one minLr each)`,
        );
      }
      groups.forEach((group, i) => {
        const oldLr = group.lr;
        const newLr = Math.max(oldLr * this.factor, this.minLrs[i]);
        if (oldLr - newLr > this.eps) group.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The rates now in the optimizer (a plateau scheduler computes nothing ahead of its metric). */
  protected override getLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}
