import { type NDArray, type Parameter, rmspropStep, zerosLike } from '@backprop/ndarray';
import { checkBoolean, checkInterval, checkLr } from './checks';
import { Optimizer, type OptimizerSpec, type ParamGroup, type ParamsInput, type OptimizerBehaviour } from './optimizer';

/** The options of {@link RMSprop}, as `torch.optim.RMSprop`'s. */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant α of the squared-gradient average, >= 0 (default 0.99). */
  alpha: number;
  /** Added to the denominator, outside the square root (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient, `g + weightDecay·θ` (default 0). */
  weightDecay: number;
  /** Momentum factor μ >= 0 (default 0). */
  momentum: number;
  /** Divide by an estimate of the gradient's variance, v − ḡ², instead of v (default false). */
  centered: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Per-parameter state of {@link RMSprop}. */
export interface RMSpropState {
  /** Steps taken by this parameter. */
  step: number;
  /** Running average of squared gradients v (torch's `square_avg`). */
  squareAvg: NDArray;
  /** Momentum buffer b, when momentum > 0. */
  momentumBuffer?: NDArray;
  /** Running average of gradients ḡ (torch's `grad_avg`), when centered. */
  gradAvg?: NDArray;
}

const SPEC: OptimizerSpec<RMSpropOptions> = {
  name: 'RMSprop',
  defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
  normalize: (o, op) => ({
    lr: checkLr(op, o.lr),
    alpha: checkInterval(op, 'alpha', o.alpha, { min: 0 }),
    eps: checkInterval(op, 'eps', o.eps, { min: 0 }),
    weightDecay: checkInterval(op, 'weightDecay', o.weightDecay, { min: 0 }),
    momentum: checkInterval(op, 'momentum', o.momentum, { min: 0 }),
    centered: checkBoolean(op, 'centered', o.centered),
    maximize: checkBoolean(op, 'maximize', o.maximize),
  }),
  counters: ['step'],
  buffers: ['squareAvg', 'momentumBuffer', 'gradAvg'],
  required: (o) => [
    'step',
    'squareAvg',
    ...(o.momentum > 0 ? ['momentumBuffer'] : []),
    ...(o.centered ? ['gradAvg'] : []),
  ],
};

/**
 * RMSprop: `torch.optim.RMSprop`, with its exact update (the single-tensor
 * path of torch 1.13); note eps is added outside the square root, unlike
 * TensorFlow's:
 *
 * ```text
 * g ← −g                          if maximize
 * g ← g + weightDecay·θ           if weightDecay ≠ 0
 * v ← α·v + (1 − α)·g²
 * if centered: ḡ ← α·ḡ + (1 − α)·g;  avg ← √(v − ḡ²) + eps
 * else:                               avg ← √v + eps
 * if momentum > 0: b ← μ·b + g/avg (b starts at 0);  θ ← θ − lr·b
 * else:            θ ← θ − lr·g/avg
 * ```
 *
 * The rule runs elementwise as one `@backprop/ndarray` kernel, `rmspropStep`,
 * on whichever backend holds the parameter.
 *
 * @example
 * ```ts
 * const opt = new RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9 });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> & OptimizerBehaviour = {}) {
    super(params, options, SPEC);
  }

  protected override initState(param: Parameter): RMSpropState {
    return { step: 0, squareAvg: zerosLike(param.value) };
  }

  protected override updateParameter(param: Parameter, state: RMSpropState, group: ParamGroup<RMSpropOptions>): void {
    state.step += 1;
    const centered = group.centered;
    const useMomentum = group.momentum > 0;
    // Buffers are created on first use, so options switched on later work.
    if (useMomentum && state.momentumBuffer === undefined) state.momentumBuffer = zerosLike(param.value);
    if (centered && state.gradAvg === undefined) state.gradAvg = zerosLike(param.value);
    rmspropStep({
      param: param.value,
      grad: param.grad,
      maximize: group.maximize,
      weightDecay: group.weightDecay,
      squareAvg: state.squareAvg,
      alpha: group.alpha,
      gradAvg: centered ? state.gradAvg : undefined,
      eps: group.eps,
      momentum: group.momentum,
      momentumBuffer: useMomentum ? state.momentumBuffer : undefined,
      lr: group.lr,
    });
  }
}
