import { type NDArray, type Parameter, ValueError, zerosLike } from '@backprop/ndarray';
import { checkBoolean, checkInterval, checkLr } from './checks';
import { fma, round } from './exact-math';
import { Optimizer, type OptimizerSpec, type ParamGroup, type ParamGroupInput, type OptimizerBehaviour } from './optimizer';

/** The options of {@link SGD}, as `torch.optim.SGD`'s. */
export interface SGDOptions {
  /** Learning rate (required: torch's SGD has no default). */
  lr: number;
  /** Momentum factor μ >= 0 (default 0: plain SGD). */
  momentum: number;
  /** Dampening τ of the momentum's gradient term (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient, `g + weightDecay·θ` (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false); needs `momentum > 0` and `dampening = 0`. */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Per-parameter state of {@link SGD}: the momentum buffer, once momentum has run. */
export interface SGDState {
  momentumBuffer?: NDArray;
}

const SPEC: OptimizerSpec<SGDOptions> = {
  name: 'SGD',
  defaults: { lr: undefined, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
  normalize(o, op) {
    const out: SGDOptions = {
      lr: checkLr(op, o.lr),
      momentum: checkInterval(op, 'momentum', o.momentum, { min: 0 }),
      dampening: checkInterval(op, 'dampening', o.dampening),
      weightDecay: checkInterval(op, 'weightDecay', o.weightDecay, { min: 0 }),
      nesterov: checkBoolean(op, 'nesterov', o.nesterov),
      maximize: checkBoolean(op, 'maximize', o.maximize),
    };
    if (out.nesterov && (out.momentum <= 0 || out.dampening !== 0)) {
      throw new ValueError(
        `${op}: nesterov momentum requires momentum > 0 and dampening = 0, got momentum ${out.momentum} and dampening ${out.dampening}`,
      );
    }
    return out;
  },
  counters: [],
  buffers: ['momentumBuffer'],
  required: () => [],
};

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and
 * weight decay: `torch.optim.SGD`, with its exact update (the single-tensor
 * path of torch 1.13), for g the gradient:
 *
 * ```text
 * g ← −g                      if maximize
 * g ← g + weightDecay·θ       if weightDecay ≠ 0
 * if momentum ≠ 0:
 *   b ← g (a copy)            on the first step
 *   b ← μ·b + (1 − τ)·g       afterwards
 *   g ← g + μ·b  if nesterov, else g ← b
 * θ ← θ − lr·g
 * ```
 *
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * model.backward(lossFn.backward());
 * opt.step();
 * opt.zeroGrad();
 * ```
 */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: Iterable<Parameter>, options: Partial<SGDOptions> & OptimizerBehaviour & { lr: number });
  constructor(params: Iterable<ParamGroupInput<SGDOptions>>, options?: Partial<SGDOptions> & OptimizerBehaviour);
  constructor(
    params: Iterable<Parameter> | Iterable<ParamGroupInput<SGDOptions>>,
    options?: Partial<SGDOptions> & OptimizerBehaviour,
  ) {
    super(params, options, SPEC);
  }

  protected override initState(): SGDState {
    return {};
  }

  protected override updateParameter(param: Parameter, state: SGDState, group: ParamGroup<SGDOptions>): void {
    const f32 = param.dtype === 'float32';
    const value = param.value.data;
    const grad = param.grad.data;
    const sign = group.maximize ? -1 : 1;
    const decay = group.weightDecay !== 0;
    const weightDecay = round(group.weightDecay, f32);
    const negLr = round(-group.lr, f32);
    if (group.momentum === 0) {
      for (let i = 0; i < value.length; i++) {
        let g = sign * grad[i];
        if (decay) g = fma(weightDecay, value[i], g, f32);
        value[i] = fma(negLr, g, value[i], f32);
      }
      return;
    }
    const momentum = round(group.momentum, f32);
    const gradScale = round(1 - group.dampening, f32);
    const nesterov = group.nesterov;
    const unitScale = gradScale === 1;
    const first = state.momentumBuffer === undefined;
    if (first) state.momentumBuffer = zerosLike(param.value);
    const buffer = state.momentumBuffer!.data;
    for (let i = 0; i < value.length; i++) {
      let g = sign * grad[i];
      if (decay) g = fma(weightDecay, value[i], g, f32);
      const kept = round(buffer[i] * momentum, f32);
      // With τ = 0, (1 − τ)·g + μb is a plain sum, and a sum of two floats rounded
      // once in double and once to float is already correctly rounded: the same
      // bits as the fused multiply-add, several times faster.
      const b = first ? g : unitScale ? round(g + kept, f32) : fma(gradScale, g, kept, f32);
      buffer[i] = b;
      g = nesterov ? fma(momentum, b, g, f32) : b;
      value[i] = fma(negLr, g, value[i], f32);
    }
  }
}
