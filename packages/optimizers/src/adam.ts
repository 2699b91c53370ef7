import { type NDArray, type Parameter, adamStep, zerosLike } from '@backprop/ndarray';
import { checkBetas } from './betas';
import { checkBoolean, checkInterval, checkLr } from './checks';
import { powInt } from './exact-math';
import { Optimizer, type OptimizerSpec, type ParamGroup, type ParamsInput, type OptimizerBehaviour } from './optimizer';

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

/** Per-parameter state of {@link Adam} and {@link AdamW}. */
export interface AdamState {
  /** Steps taken by this parameter (t). */
  step: number;
  /** First moment m (torch's `exp_avg`). */
  expAvg: NDArray;
  /** Second moment v (torch's `exp_avg_sq`). */
  expAvgSq: NDArray;
  /** The running maximum of v (torch's `max_exp_avg_sq`), with `amsgrad` only. */
  maxExpAvgSq?: NDArray;
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
 * t ← t + 1
 * g ← −g                           if maximize
 * g ← g + weightDecay·θ            if weightDecay ≠ 0
 * m ← β1·m + (1 − β1)·g
 * v ← β2·v + (1 − β2)·g²
 * v̂ ← max(v̂, v) if amsgrad, else v̂ ← v
 * θ ← θ − (lr / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + eps)
 * ```
 *
 * The bias corrections 1 − β^t are computed here, once per step, in double
 * as Python computes them; the rest runs elementwise as one
 * `@backprop/ndarray` kernel, `adamStep`, on whichever backend holds the
 * parameter.
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
    adamUpdate(param, state, group, group.weightDecay, null);
  }
}

/** A fresh Adam or AdamW state: t = 0 and zeroed moments. @internal */
export function initAdamState(param: Parameter, amsgrad: boolean): AdamState {
  const state: AdamState = { step: 0, expAvg: zerosLike(param.value), expAvgSq: zerosLike(param.value) };
  if (amsgrad) state.maxExpAvgSq = zerosLike(param.value);
  return state;
}

/**
 * One step of Adam (`l2` the gradient's L2 term, `decoupled` null) or AdamW
 * (`l2` 0, `decoupled` its weight decay), shared as torch's
 * `_single_tensor_adam` and `_single_tensor_adamw` are. @internal
 */
export function adamUpdate(
  param: Parameter,
  state: AdamState,
  group: AdamOptions,
  l2: number,
  decoupled: number | null,
): void {
  const [beta1, beta2] = group.betas;
  state.step += 1;
  // Python floats in torch: 1 − β^t in double, with glibc's (correctly rounded)
  // pow, which the bias corrections magnify a thousandfold if it is an ulp off.
  const biasCorrection1 = 1 - powInt(beta1, state.step);
  const biasCorrection2 = 1 - powInt(beta2, state.step);
  // Created here too when amsgrad is switched on after the first step.
  if (group.amsgrad && state.maxExpAvgSq === undefined) state.maxExpAvgSq = zerosLike(param.value);
  adamStep({
    param: param.value,
    grad: param.grad,
    maximize: group.maximize,
    weightDecay: l2,
    decoupledDecay: decoupled,
    expAvg: state.expAvg,
    beta1,
    expAvgSq: state.expAvgSq,
    beta2,
    maxExpAvgSq: group.amsgrad ? state.maxExpAvgSq : undefined,
    lr: group.lr,
    biasCorrection1,
    biasCorrection2,
    eps: group.eps,
  });
}
