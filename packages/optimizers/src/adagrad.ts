import { type NDArray, type Parameter, adagradStep, full } from '@backprop/ndarray';
import { checkBoolean, checkInterval, checkLr } from './checks';
import { Optimizer, type OptimizerSpec, type ParamGroup, type ParamsInput, type OptimizerBehaviour } from './optimizer';

/** The options of {@link Adagrad}, as `torch.optim.Adagrad`'s. */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: step t uses lr / (1 + (t − 1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient, `g + weightDecay·θ` (default 0). */
  weightDecay: number;
  /** The value the sum of squared gradients starts from (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator, outside the square root (default 1e-10). */
  eps: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Per-parameter state of {@link Adagrad}. */
export interface AdagradState {
  /** Steps taken by this parameter (t). */
  step: number;
  /** The sum of squared gradients. */
  sum: NDArray;
}

const SPEC: OptimizerSpec<AdagradOptions> = {
  name: 'Adagrad',
  defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
  normalize: (o, op) => ({
    lr: checkLr(op, o.lr),
    lrDecay: checkInterval(op, 'lrDecay', o.lrDecay, { min: 0 }),
    weightDecay: checkInterval(op, 'weightDecay', o.weightDecay, { min: 0 }),
    initialAccumulatorValue: checkInterval(op, 'initialAccumulatorValue', o.initialAccumulatorValue, { min: 0 }),
    eps: checkInterval(op, 'eps', o.eps, { min: 0 }),
    maximize: checkBoolean(op, 'maximize', o.maximize),
  }),
  counters: ['step'],
  buffers: ['sum'],
  required: () => ['step', 'sum'],
};

/**
 * Adagrad: `torch.optim.Adagrad`, with its exact update (the single-tensor
 * path of torch 1.13). As in torch, each parameter's state is created when
 * the optimizer is built, with the sum at `initialAccumulatorValue`:
 *
 * ```text
 * t ← t + 1
 * g ← −g                          if maximize
 * g ← g + weightDecay·θ           if weightDecay ≠ 0
 * clr ← lr / (1 + (t − 1)·lrDecay)
 * sum ← sum + g²
 * θ ← θ − clr·g / (√sum + eps)
 * ```
 *
 * `clr` is computed here, once per step; the rest runs elementwise as one
 * `@backprop/ndarray` kernel, `adagradStep`, on whichever backend holds the
 * parameter.
 *
 * @example
 * ```ts
 * const opt = new Adagrad(model.parameters(), { lr: 0.1 });
 * ```
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> & OptimizerBehaviour = {}) {
    super(params, options, SPEC);
    for (const group of this.paramGroups) {
      for (const param of group.params) this.stateMap.set(param, this.initState(param, group));
    }
  }

  protected override initState(param: Parameter, group: ParamGroup<AdagradOptions>): AdagradState {
    return { step: 0, sum: full(param.shape, group.initialAccumulatorValue, { dtype: param.dtype }) };
  }

  protected override updateParameter(param: Parameter, state: AdagradState, group: ParamGroup<AdagradOptions>): void {
    state.step += 1;
    // A Python float in torch: computed in double, cast to the dtype by the kernel.
    const clr = group.lr / (1 + (state.step - 1) * group.lrDecay);
    adagradStep({
      param: param.value,
      grad: param.grad,
      maximize: group.maximize,
      weightDecay: group.weightDecay,
      clr,
      sum: state.sum,
      eps: group.eps,
    });
  }
}
