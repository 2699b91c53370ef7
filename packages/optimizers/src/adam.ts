import type { Parameter } from '@backprop/ndarray';
import { type AdamState, adamUpdate, initAdamState } from './adam-update';
import { checkBetas } from './betas';
import { checkBoolean, checkInterval, checkLr } from './checks';
import { Optimizer, type OptimizerSpec, type ParamGroup, type ParamsInput, type OptimizerBehaviour } from './optimizer';

export type { AdamState } from './adam-update';

/** The options of {@link Adam}, as `torch.optim.Adam`'s. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates [β1, β2] of the first and second moments, each in [0, 1) (default [0.9, 0.999]). */
  betas: readonly [number, number];
  /** Added to the denominator, outside the square root (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient, `g + weightDecay·θ` (default 0). For decoupled decay use {@link AdamW}. */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Adam's spec; AdamW's is the same but for its name and default weightDecay. */
export const ADAM_SPEC: OptimizerSpec<AdamOptions> = {
  name: 'Adam',
  defaults: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false },
  normalize: (o, op) => ({
    lr: checkLr(op, o.lr),
    betas: checkBetas(op, o.betas),
    eps: checkInterval(op, 'eps', o.eps, { min: 0 }),
    weightDecay: checkInterval(op, 'weightDecay', o.weightDecay, { min: 0 }),
    amsgrad: checkBoolean(op, 'amsgrad', o.amsgrad),
    maximize: checkBoolean(op, 'maximize', o.maximize),
  }),
  counters: ['step'],
  buffers: ['expAvg', 'expAvgSq', 'maxExpAvgSq'],
  required: (o) => (o.amsgrad ? ['step', 'expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['step', 'expAvg', 'expAvgSq']),
};

/**
 * Adam: `torch.optim.Adam`, with its exact update (the single-tensor path of
 * torch 1.13), for g the gradient and t the parameter's step count:
 *
 * ```text
 * g ← −g                           if maximize
 * g ← g + weightDecay·θ            if weightDecay ≠ 0
 * m ← β1·m + (1 − β1)·g
 * v ← β2·v + (1 − β2)·g²
 * v̂ ← max(v̂, v) if amsgrad, else v̂ ← v
 * θ ← θ − (lr / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + eps)
 * ```
 *
 * @example
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * ```
 */
export class Adam extends Optimizer<AdamOptions, AdamState> {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> & OptimizerBehaviour = {}) {
    super(params, options, ADAM_SPEC);
  }

  protected override initState(param: Parameter, group: ParamGroup<AdamOptions>): AdamState {
    return initAdamState(param, group.amsgrad);
  }

  protected override updateParameter(param: Parameter, state: AdamState, group: ParamGroup<AdamOptions>): void {
    adamUpdate(param, state, { ...group, l2: group.weightDecay, decoupled: null });
  }
}
