import { describe, ValueError } from '@backprop/ndarray';
import { type AnyOptimizer, LRScheduler } from './lr-scheduler';

/** A factor of the base rate for an epoch (0, 1, 2, ...): what {@link LambdaLR} calls. */
export type LrLambda = (epoch: number) => number;

/**
 * Sets each group's learning rate to its base rate times a function of the
 * epoch: `torch.optim.lr_scheduler.LambdaLR`. After k steps the rate is
 * base·lrLambda(k) (not chainable: it ignores the rate already there). One
 * function for every group, or one per group.
 *
 * Every factor is checked: a function that returns anything but a finite
 * number >= 0 throws, naming the epoch and the group, instead of handing the
 * optimizer a NaN rate. The functions are not part of the state dict (torch
 * saves only callable objects' fields): build the scheduler with the same
 * functions before loading.
 *
 * @example
 * ```ts
 * // Linear warm-up over 10 epochs, then inverse square root decay.
 * const schedule = new LambdaLR(opt, (epoch) => (epoch < 10 ? (epoch + 1) / 10 : Math.sqrt(10 / (epoch + 1))));
 * ```
 */
export class LambdaLR extends LRScheduler {
  /** One function per param group. */
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: AnyOptimizer, lrLambda: LrLambda | readonly LrLambda[]) {
    super('LambdaLR', optimizer);
    const groups = this.optimizer.paramGroups.length;
    if (Array.isArray(lrLambda)) {
      if (lrLambda.length !== groups) {
        throw new ValueError(
          `LambdaLR: expected ${groups} lrLambdas (one per param group), got an array of length ${lrLambda.length}`,
        );
      }
      lrLambda.forEach((f, i) => {
        if (typeof f !== 'function') {
          throw new ValueError(`LambdaLR: lrLambda[${i}] must be a function of the epoch, got ${describe(f)}`);
        }
      });
      this.lrLambdas = lrLambda.slice();
    } else {
      if (typeof lrLambda !== 'function') {
        throw new ValueError(
          `LambdaLR: lrLambda must be a function of the epoch or an array of them (one per param group), got ${describe(lrLambda)}`,
        );
      }
      this.lrLambdas = Array.from({ length: groups }, () => lrLambda as LrLambda);
    }
    this.initialStep();
  }

  protected override get options(): Record<string, unknown> {
    return {};
  }

  protected override setOptions(): void {}

  protected override getLr(): number[] {
    const epoch = this.lastEpoch;
    // torch's zip: groups added after the scheduler have no function and keep their rate.
    return this.lrLambdas.map((f, i) => {
      const factor: unknown = f(epoch);
      if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
        throw new ValueError(
          `LambdaLR: lrLambda(${epoch}) for param group ${i} returned ${describe(factor)}; expected a finite number >= 0`,
        );
      }
      return this.baseLrs[i] * factor;
    });
  }
}
