import type { Parameter } from '@backprop/ndarray';
import { ADAM_SPEC, type AdamState, adamUpdate, initAdamState } from './adam';
import { Optimizer, type OptimizerSpec, type ParamGroup, type ParamsInput, type OptimizerBehaviour } from './optimizer';

/** The options of {@link AdamW}, as `torch.optim.AdamW`'s. */
export interface AdamWOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates [β1, β2] of the first and second moments, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator, outside the square root (default 1e-8). */
  eps: number;
  /** Decoupled weight decay: θ ← θ·(1 − lr·weightDecay) each step (default 1e-2). */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

// The options and their checks are Adam's; only the name and the default decay differ.
const SPEC: OptimizerSpec<AdamWOptions> = {
  ...ADAM_SPEC,
  name: 'AdamW',
  defaults: { ...ADAM_SPEC.defaults, weightDecay: 1e-2 },
};

/**
 * AdamW, Adam with decoupled weight decay: `torch.optim.AdamW`, with its exact
 * update (the single-tensor path of torch 1.13). The decay uses the group's
 * current learning rate, so a scheduler scales it too:
 *
 * ```text
 * θ ← θ·(1 − lr·weightDecay)
 * then Adam's update without the L2 term
 * ```
 *
 * Both run as one `@backprop/ndarray` kernel, `adamStep`, as Adam's do.
 *
 * @example
 * ```ts
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 * const schedule = new CosineAnnealingLR(opt, { tMax: 100 });
 * ```
 */
export class AdamW extends Optimizer<AdamWOptions, AdamState> {
  constructor(params: ParamsInput<AdamWOptions>, options: Partial<AdamWOptions> & OptimizerBehaviour = {}) {
    super(params, options, SPEC);
  }

  protected override initState(param: Parameter, group: ParamGroup<AdamWOptions>): AdamState {
    return initAdamState(param, group.amsgrad);
  }

  protected override updateParameter(param: Parameter, state: AdamState, group: ParamGroup<AdamWOptions>): void {
    adamUpdate(param, state, group, 0, group.weightDecay);
  }
}
