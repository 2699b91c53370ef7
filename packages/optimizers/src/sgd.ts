import { type NDArray, type Parameter, ValueError, sgdStep, zerosLike } from '@backprop/ndarray';
import { checkBoolean, checkInterval, checkLr } from './checks';
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
 * The rule runs elementwise as one `@backprop/ndarray` kernel, `sgdStep`, on
 * whichever backend holds the parameter.
 *
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * model.backward(lossFn.backward(), { inputGrad: false });
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
    // The buffer starts as a copy of g: zeros that the first step overwrites
    // (`first`), created on first use so momentum switched on later works.
    const first = group.momentum !== 0 && state.momentumBuffer === undefined;
    if (first) state.momentumBuffer = zerosLike(param.value);
    // The rule above, elementwise, in one kernel (ndarray's sgdStep); with
    // momentum 0 the buffer, if any, is left as it is.
    sgdStep({
      param: param.value,
      grad: param.grad,
      maximize: group.maximize,
      weightDecay: group.weightDecay,
      momentum: group.momentum,
      momentumBuffer: state.momentumBuffer,
      first,
      dampening: group.dampening,
      nesterov: group.nesterov,
      lr: group.lr,
    });
  }
}
