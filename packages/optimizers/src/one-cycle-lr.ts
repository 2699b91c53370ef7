import { checkBoolean, checkChoice, checkOptions, describe, ValueError } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { cos } from './exact-math';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link OneCycleLR}. */
export interface OneCycleLROptions {
  /** The peak learning rate, one for every group or one per group, each >= 0. */
  maxLr: number | readonly number[];
  /**
   * Steps in the cycle, an integer >= 1; or give `epochs` and `stepsPerEpoch`.
   * `null` is "not given", as torch's `None` (so are `epochs: null` and `stepsPerEpoch: null`).
   */
  totalSteps?: number | null;
  /** With `stepsPerEpoch`, totalSteps = epochs·stepsPerEpoch (integers >= 1). */
  epochs?: number | null;
  stepsPerEpoch?: number | null;
  /** The fraction of the cycle spent raising the rate, in [0, 1] (default 0.3). */
  pctStart?: number;
  /** `'cos'` (default) or `'linear'` annealing between the phase's end points. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's and RMSprop's `momentum`, Adam's β1) inversely to the rate (default true). */
  cycleMomentum?: boolean;
  /** The momentum at the peak rate, one or one per group (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** The momentum at the start and end, one or one per group (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** The starting rate is maxLr/divFactor, > 0 (default 25). */
  divFactor?: number;
  /** The final rate is maxLr/divFactor/finalDivFactor, > 0 (default 1e4). */
  finalDivFactor?: number;
  /** A third phase: up, back down to the starting rate, then on down to the final one (default false). */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: 'initial' | 'max' | 'min';
  endLr: 'initial' | 'max' | 'min';
  startMomentum: 'max' | 'base';
  endMomentum: 'max' | 'base';
}

/**
 * The 1cycle policy: `torch.optim.lr_scheduler.OneCycleLR`. The rate climbs
 * from maxLr/divFactor to maxLr over the first `pctStart` of `totalSteps`,
 * then anneals down to maxLr/(divFactor·finalDivFactor) (with `threePhase`,
 * back to the starting rate first); the momentum moves the other way, between
 * `maxMomentum` and `baseMomentum`. Step it after every batch, not every
 * epoch: totalSteps + 1 values in all, and one more step throws, as in torch.
 *
 * As torch's, it is not chainable: it sets each group's `initialLr` to
 * maxLr/divFactor and computes every rate from that. With `cycleMomentum`
 * it writes SGD's or RMSprop's `momentum`, or the first of Adam's and AdamW's
 * `betas`, and an optimizer with neither (Adagrad) is an error.
 *
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const schedule = new OneCycleLR(opt, { maxLr: 0.1, epochs: 10, stepsPerEpoch: batches });
 * // after each batch: opt.step(); schedule.step();
 * ```
 */
export class OneCycleLR extends LRScheduler {
  /** The peak rate per group. */
  maxLrs: number[] = [];
  totalSteps = 1;
  pctStart = 0.3;
  annealStrategy: 'cos' | 'linear' = 'cos';
  cycleMomentum = true;
  /** The momentum at the peak rate, per group. */
  baseMomentums: number[] = [];
  /** The momentum at the ends, per group. */
  maxMomentums: number[] = [];
  divFactor = 25;
  finalDivFactor = 1e4;
  threePhase = false;
  /** Whether the momentum cycled is Adam's β1 (torch's `use_beta1`). */
  private useBeta1 = false;
  private phases: Phase[] = [];

  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    super('OneCycleLR', optimizer);
    const op = 'OneCycleLR';
    checkOptions(op, options, [
      'maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum',
      'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase',
    ]);
    if (options === null || typeof options !== 'object') {
      throw new ValueError(`${op}: expected options { maxLr, totalSteps, ... }, got ${describe(options)}`);
    }
    const {
      maxLr,
      totalSteps: givenTotalSteps,
      epochs: givenEpochs,
      stepsPerEpoch: givenStepsPerEpoch,
      baseMomentum = 0.85,
      maxMomentum = 0.95,
      ...rest
    } = options;
    // torch's total_steps, epochs and steps_per_epoch default to None, "not given":
    // null is taken the same way here, and nowhere else.
    const totalSteps = givenTotalSteps === null ? undefined : givenTotalSteps;
    const epochs = givenEpochs === null ? undefined : givenEpochs;
    const stepsPerEpoch = givenStepsPerEpoch === null ? undefined : givenStepsPerEpoch;
    let total: number;
    if (totalSteps !== undefined) {
      if (epochs !== undefined || stepsPerEpoch !== undefined) {
        throw new ValueError(`${op}: give either totalSteps or epochs and stepsPerEpoch, not both`);
      }
      total = checkInterval(op, 'totalSteps', totalSteps, { min: 1, integer: true });
    } else if (epochs === undefined && stepsPerEpoch === undefined) {
      throw new ValueError(`${op}: totalSteps is required, or epochs and stepsPerEpoch; got none of them`);
    } else {
      // One of the two is given: the other must be too (named as given, null included).
      total =
        checkInterval(op, 'epochs', givenEpochs, { min: 1, integer: true }) *
        checkInterval(op, 'stepsPerEpoch', givenStepsPerEpoch, { min: 1, integer: true });
    }
    this.setOptions(
      {
        pctStart: 0.3,
        annealStrategy: 'cos',
        cycleMomentum: true,
        divFactor: 25,
        finalDivFactor: 1e4,
        threePhase: false,
        ...rest,
        totalSteps: total,
        maxLrs: this.perGroup(op, 'maxLr', maxLr),
        baseMomentums: this.perGroup(op, 'baseMomentum', baseMomentum),
        maxMomentums: this.perGroup(op, 'maxMomentum', maxMomentum),
      },
      op,
    );
    const groups = this.optimizer.paramGroups;
    groups.forEach((group, i) => {
      group.initialLr = this.maxLrs[i] / this.divFactor;
    });
    this.baseLrs = groups.map((g) => g.initialLr as number);
    if (this.cycleMomentum) {
      groups.forEach((group, i) => {
        this.setMomentum(group, this.maxMomentums[i]);
      });
    }
    this.initialStep();
  }

  /** One value per param group from a number or an array (torch's `_format_param`), unchecked. */
  private perGroup(op: string, name: string, value: unknown): unknown[] {
    const groups = this.optimizer.paramGroups.length;
    if (Array.isArray(value)) {
      if (value.length !== groups) {
        throw new ValueError(`${op}: expected ${groups} values for ${name} (one per param group), got an array of length ${value.length}`);
      }
      return value.slice();
    }
    return Array.from({ length: groups }, () => value);
  }

  /** Writes the cycled momentum: Adam's β1 (keeping β2) or the `momentum` option. */
  private setMomentum(group: object, momentum: number): void {
    const options = group as Record<string, unknown>;
    if (this.useBeta1) options.betas = [momentum, (options.betas as readonly number[])[1]];
    else options.momentum = momentum;
  }

  protected override get options(): Record<string, unknown> {
    return {
      maxLrs: this.maxLrs.slice(),
      totalSteps: this.totalSteps,
      pctStart: this.pctStart,
      annealStrategy: this.annealStrategy,
      cycleMomentum: this.cycleMomentum,
      baseMomentums: this.baseMomentums.slice(),
      maxMomentums: this.maxMomentums.slice(),
      divFactor: this.divFactor,
      finalDivFactor: this.finalDivFactor,
      threePhase: this.threePhase,
    };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    const list = (name: string, values: unknown, single: string, bounds: { min: number; max?: number }): number[] => {
      if (!Array.isArray(values) || values.length !== this.optimizer.paramGroups.length) {
        throw new ValueError(`${op}: ${name} must be one number per param group, got ${describe(values)}`);
      }
      const many = new Set(values).size > 1;
      return values.map((v, i) => checkInterval(op, many ? `${single}[${i}]` : single, v, bounds));
    };
    const maxLrs = list('maxLrs', o.maxLrs, 'maxLr', { min: 0 });
    const totalSteps = checkInterval(op, 'totalSteps', o.totalSteps, { min: 1, integer: true });
    const pctStart = checkInterval(op, 'pctStart', o.pctStart, { min: 0, max: 1 });
    const annealStrategy = checkChoice(op, 'annealStrategy', o.annealStrategy, ['cos', 'linear']);
    const cycleMomentum = checkBoolean(op, 'cycleMomentum', o.cycleMomentum);
    const baseMomentums = list('baseMomentums', o.baseMomentums, 'baseMomentum', { min: 0 });
    const maxMomentums = list('maxMomentums', o.maxMomentums, 'maxMomentum', { min: 0 });
    const divFactor = checkInterval(op, 'divFactor', o.divFactor, { min: 0, minOpen: true });
    const finalDivFactor = checkInterval(op, 'finalDivFactor', o.finalDivFactor, { min: 0, minOpen: true });
    const threePhase = checkBoolean(op, 'threePhase', o.threePhase);
    let useBeta1 = false;
    if (cycleMomentum) {
      const defaults = this.optimizer.defaults as Record<string, unknown>;
      if (!('momentum' in defaults) && !('betas' in defaults)) {
        throw new ValueError(
          `${op}: cycleMomentum needs an optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW); ` +
            `${this.optimizer.constructor.name} has neither. Pass { cycleMomentum: false }`,
        );
      }
      useBeta1 = 'betas' in defaults;
      const tooHigh = useBeta1 ? [...baseMomentums, ...maxMomentums].find((m) => m >= 1) : undefined;
      if (tooHigh !== undefined) {
        throw new ValueError(`${op}: a momentum of ${tooHigh} would set betas[0], which must be in [0, 1)`);
      }
    }
    Object.assign(this, {
      maxLrs, totalSteps, pctStart, annealStrategy, cycleMomentum, baseMomentums, maxMomentums,
      divFactor, finalDivFactor, threePhase, useBeta1,
    });
    // torch: end_step = float(pct_start * total_steps) - 1, and 2·pct_start·total_steps − 2 for the second of three.
    this.phases = threePhase
      ? [
          { endStep: pctStart * totalSteps - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: 2 * pctStart * totalSteps - 2, startLr: 'max', endLr: 'initial', startMomentum: 'base', endMomentum: 'max' },
          { endStep: totalSteps - 1, startLr: 'initial', endLr: 'min', startMomentum: 'max', endMomentum: 'max' },
        ]
      : [
          { endStep: pctStart * totalSteps - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: totalSteps - 1, startLr: 'max', endLr: 'min', startMomentum: 'base', endMomentum: 'max' },
        ];
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    const cosOut = cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2) * cosOut;
  }

  protected override getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) {
      throw new ValueError(
        `OneCycleLR.step: tried to step ${step + 1} times; the cycle has totalSteps ${this.totalSteps} (totalSteps + 1 rates)`,
      );
    }
    const groups = this.optimizer.paramGroups;
    // torch's zip over the groups: each needs the rates this scheduler recorded for it.
    return groups.map((group, g) => {
      if (g >= this.maxLrs.length) {
        throw new ValueError(`OneCycleLR.step: param group ${g} was added after the scheduler was built; it has no maxLr`);
      }
      // torch's group['initial_lr'] and group['min_lr'], set at construction.
      const initial = this.maxLrs[g] / this.divFactor;
      const lrs = { initial, max: this.maxLrs[g], min: initial / this.finalDivFactor };
      const momentums = { max: this.maxMomentums[g], base: this.baseMomentums[g] };
      let startStep = 0;
      for (const [i, phase] of this.phases.entries()) {
        const { endStep } = phase;
        if (step <= endStep || i === this.phases.length - 1) {
          if (endStep === startStep) {
            throw new ValueError(
              `OneCycleLR.step: step ${step} falls in a phase of length 0 (pctStart ${this.pctStart}, totalSteps ${this.totalSteps}); ` +
                'torch divides by zero here too',
            );
          }
          const pct = (step - startStep) / (endStep - startStep);
          const lr = this.anneal(lrs[phase.startLr], lrs[phase.endLr], pct);
          if (this.cycleMomentum) {
            this.setMomentum(group, this.anneal(momentums[phase.startMomentum], momentums[phase.endMomentum], pct));
          }
          return lr;
        }
        startStep = endStep;
      }
      throw new Error('unreachable: the last phase always matches');
    });
  }
}
