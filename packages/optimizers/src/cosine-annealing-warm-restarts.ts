import { checkOptions, ValueError } from '@backprop/ndarray';
import { checkInterval } from './checks';
import { cos, log } from './exact-math';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** The options of {@link CosineAnnealingWarmRestarts}. */
export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs until the first restart, an integer >= 1 (torch's `T_0`). */
  T0: number;
  /** The factor by which each period grows after a restart, an integer >= 1 (default 1; torch's `T_mult`). */
  TMult?: number;
  /** The lowest learning rate (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing with warm restarts (SGDR):
 * `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`. Within a period of
 * T_i epochs the rate is η_min + (base − η_min)·(1 + cos(π·T_cur/T_i))/2,
 * T_cur counting the epochs since the last restart; at T_cur = T_i it
 * restarts at the base rate and the next period is T_i·TMult long.
 *
 * `step()` advances one epoch; `step(epoch)` jumps to `epoch`, which may be
 * fractional (`epoch + batch / batches` to anneal within an epoch), with T_cur
 * and T_i worked out as torch does; the two may be mixed. Torch counts the
 * periods behind `epoch` with a floating-point log, so `step(epoch)` exactly
 * at a restart with TMult > 1 can land at the end of the previous period
 * (η_min) instead of the base rate (T0 1, TMult 3: epoch 121); this does the
 * same, with a correctly rounded log (glibc's rounds a few near-ties the
 * other way; no restart epoch tested lands on one).
 *
 * @example
 * ```ts
 * const schedule = new CosineAnnealingWarmRestarts(opt, { T0: 10, TMult: 2, etaMin: 1e-5 });
 * for (let epoch = 0; epoch < 70; epoch++) {
 *   for (let i = 0; i < batches; i++) { trainBatch(opt); schedule.step(epoch + i / batches); }
 * }
 * ```
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  T0 = 1;
  TMult = 1;
  etaMin = 0;
  /** The current period's length in epochs (torch's `T_i`). */
  TI = 1;
  /** Epochs since the last restart, possibly fractional (torch's `T_cur`). */
  TCur = -1;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super('CosineAnnealingWarmRestarts', optimizer);
    checkOptions('CosineAnnealingWarmRestarts', options, ['T0', 'TMult', 'etaMin']);
    const T0 = (options ?? ({} as Partial<CosineAnnealingWarmRestartsOptions>)).T0;
    this.setOptions({ TMult: 1, etaMin: 0, ...options, TI: T0, TCur: -1 }, 'CosineAnnealingWarmRestarts');
    this.initialStep();
  }

  protected override get options(): Record<string, unknown> {
    return { T0: this.T0, TMult: this.TMult, etaMin: this.etaMin, TI: this.TI, TCur: this.TCur };
  }

  protected override setOptions(o: Record<string, unknown>, op: string): void {
    const T0 = checkInterval(op, 'T0', o.T0, { min: 1, integer: true });
    const TMult = checkInterval(op, 'TMult', o.TMult, { min: 1, integer: true });
    const etaMin = checkInterval(op, 'etaMin', o.etaMin, { min: 0 });
    const TI = checkInterval(op, 'TI', o.TI, { min: 1, integer: true });
    const TCur = checkInterval(op, 'TCur', o.TCur, { min: -1 });
    this.T0 = T0;
    this.TMult = TMult;
    this.etaMin = etaMin;
    this.TI = TI;
    this.TCur = TCur;
  }

  /**
   * Advances one epoch, or jumps to `epoch` (a number >= 0, fractional
   * allowed), and writes the new learning rates into the optimizer.
   */
  override step(epoch?: number): void {
    const op = 'CosineAnnealingWarmRestarts.step';
    let at: number;
    if (epoch === undefined && this.lastEpoch < 0) {
      at = 0;
      this.jumpTo(at);
    } else if (epoch === undefined) {
      at = this.lastEpoch + 1;
      this.TCur = this.TCur + 1;
      if (this.TCur >= this.TI) {
        this.TCur = this.TCur - this.TI;
        this.TI = this.TI * this.TMult;
      }
    } else {
      at = checkInterval(op, 'epoch', epoch, { min: 0 });
      this.jumpTo(at);
    }
    this.stepCount += 1;
    this.lastEpoch = Math.floor(at);
    this.setLrs(this.getLr());
  }

  /** T_cur and T_i at `epoch`, as torch's `step(epoch)`. */
  private jumpTo(epoch: number): void {
    const { T0, TMult } = this;
    if (epoch < T0) {
      this.TI = T0;
      this.TCur = epoch;
    } else if (TMult === 1) {
      this.TCur = epoch % T0;
    } else {
      // torch: n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult)), a quotient of two glibc logs,
      // which at a restart can fall an ulp short of the integer: torch's n, and its T_cur, follow that.
      const n = Math.trunc(log((epoch / T0) * (TMult - 1) + 1) / log(TMult));
      const grown = TMult ** n;
      if (!Number.isSafeInteger(T0 * grown)) {
        throw new ValueError(`CosineAnnealingWarmRestarts.step: epoch ${epoch} is past the last period a number can hold`);
      }
      this.TCur = epoch - (T0 * (grown - 1)) / (TMult - 1);
      this.TI = T0 * grown;
    }
  }

  protected override getLr(): number[] {
    const { etaMin, TCur, TI } = this;
    const c = cos((Math.PI * TCur) / TI);
    return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + c)) / 2);
  }
}
