import { checkChoice, checkOptions, checkSameShape, describe, DTypeError, firstNonFinite, formatShape, isNDArray, type NDArray, Parameter, ShapeError, ValueError, toBackend, unravelIndex } from '@backprop/ndarray';
import { checkInterval, checkLr } from './checks';

/** The option every optimizer has: its learning rate. */
export interface OptimizerOptions {
  lr: number;
}

/**
 * A parameter group as the optimizer holds it: its parameters and every
 * option, resolved against the optimizer's defaults (torch's
 * `optimizer.param_groups[i]`). Options may be changed in place between steps,
 * as in torch; schedulers write `lr`. `initialLr` is set by the first
 * scheduler attached to the optimizer.
 */
export type ParamGroup<O extends OptimizerOptions = OptimizerOptions> = O & {
  params: Parameter[];
  initialLr?: number;
};

/**
 * A parameter group as a constructor or {@link Optimizer.addParamGroup} takes
 * it: parameters plus options that override the optimizer's defaults, as
 * torch's `[{'params': [...], 'lr': 0.1}, ...]`.
 */
export type ParamGroupInput<O extends OptimizerOptions = OptimizerOptions> = Partial<O> & {
  params: Iterable<Parameter> | Parameter;
  initialLr?: number;
};

/** What an optimizer is built from: parameters, or parameter groups. */
export type ParamsInput<O extends OptimizerOptions = OptimizerOptions> =
  | Iterable<Parameter>
  | Iterable<ParamGroupInput<O>>;

/** One entry of a parameter's optimizer state: a counter (`step`) or a buffer. */
export type StateValue = number | NDArray;

/**
 * An optimizer's state as plain data, as torch's `{state, param_groups}`:
 * `state[i]` holds the buffers (copies) of parameter `i`, numbered across the
 * groups in order; each group lists its options and its parameters' numbers.
 * Buffers are NDArrays (write them with `encodeSafetensors`, the rest as JSON).
 */
export interface OptimizerStateDict<O extends OptimizerOptions = OptimizerOptions> {
  state: Record<number, Record<string, StateValue>>;
  paramGroups: Array<O & { params: number[]; initialLr?: number }>;
  /** How many times `step()` has run. */
  stepCount: number;
}

/**
 * How an optimizer describes itself to the {@link Optimizer} base class.
 * Only needed to write a new optimizer.
 */
export interface OptimizerSpec<O extends OptimizerOptions> {
  /** The class name, used in every error message. */
  name: string;
  /** Every option and its default; `undefined` marks a required option (SGD's `lr`). */
  defaults: { [K in keyof O]: O[K] | undefined };
  /** Checks a fully resolved set of options and returns it normalised (copied); throws naming `op`. */
  normalize(options: O, op: string): O;
  /** Integer entries of a parameter's state (`step`). */
  counters: readonly string[];
  /** NDArray entries of a parameter's state, each shaped like the parameter. */
  buffers: readonly string[];
  /** The entries a loaded state must hold for a parameter in a group with these options. */
  required(options: O): readonly string[];
}

/** What `step()` does when a gradient holds NaN or ±Infinity. */
export type NonFinitePolicy = 'error' | 'skip';

/** Options of the optimizer itself, beside the per-group options. */
export interface OptimizerBehaviour {
  /**
   * `'error'` (default): `step()` throws, naming the step and the parameter,
   * and updates nothing. `'skip'`: the whole step is skipped (counted in
   * `skippedSteps`), as PyTorch's GradScaler skips steps with inf/NaN grads.
   */
  nonFinite?: NonFinitePolicy;
}

/**
 * The base of every optimizer, as `torch.optim.Optimizer`: it owns the
 * parameter groups and the per-parameter state, checks gradients, and
 * provides `zeroGrad`, `lr`, `stateDict` and `loadStateDict`. A subclass
 * supplies its {@link OptimizerSpec}, creates a parameter's state and updates
 * one parameter.
 *
 * Parameters are {@link Parameter}s from `@backprop/ndarray`, which layers
 * own; each step reads `param.grad` and updates `param.value` in place,
 * through `@backprop/ndarray`'s ops (a fused kernel per parameter), so the
 * update runs on whichever backend holds the arrays.
 * Every parameter takes part in every step (a zero gradient still moves a
 * parameter under momentum or weight decay), which is torch's behaviour after
 * `zero_grad()` with its 1.13 default `set_to_none=False`.
 */
export abstract class Optimizer<O extends OptimizerOptions = OptimizerOptions, S extends object = object> {
  /** The parameter groups, in order (torch's `param_groups`). */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** The options a group gets when it does not set them (torch's `defaults`). */
  readonly defaults: Readonly<{ [K in keyof O]: O[K] | undefined }>;
  /** How many times `step()` has updated the parameters (skipped steps do not count). */
  stepCount = 0;
  /** What `step()` does with a NaN or infinite gradient: throw (default) or skip the whole step. */
  readonly nonFinite: NonFinitePolicy;
  /** How many steps were skipped for non-finite gradients (with `nonFinite: 'skip'`). */
  skippedSteps = 0;

  /** Per-parameter state, created on a parameter's first step (Adagrad: at construction). */
  protected readonly stateMap = new Map<Parameter, S>();
  protected readonly spec: OptimizerSpec<O>;

  protected constructor(params: ParamsInput<O>, options: (Partial<O> & OptimizerBehaviour) | undefined, spec: OptimizerSpec<O>) {
    this.spec = spec;
    const op = spec.name;
    const keys = Object.keys(spec.defaults);
    checkOptions(op, options, [...keys, 'nonFinite']);
    const { nonFinite = 'error', ...groupOptions } = (options ?? {}) as Partial<O> & OptimizerBehaviour;
    this.nonFinite = checkChoice(op, 'nonFinite', nonFinite, ['error', 'skip']);
    const defaults = { ...spec.defaults } as Record<string, unknown>;
    for (const [key, value] of Object.entries(groupOptions)) {
      if (value !== undefined) defaults[key] = value;
    }
    // Check the defaults now, as torch does, even if every group overrides them.
    // Only a missing lr (SGD's, which has no default) stands in as 0 for the check;
    // a null lr is checked as given, so it fails here instead of training at lr 0.
    const lr = defaults.lr;
    const checked = spec.normalize({ ...defaults, lr: lr === undefined ? 0 : lr } as unknown as O, op) as Record<string, unknown>;
    if (lr === undefined) checked.lr = undefined;
    this.defaults = checked as { [K in keyof O]: O[K] | undefined };

    if (params instanceof Parameter) {
      throw new ValueError(
        `${op}: params must be an iterable of Parameters or of param groups, got ${describe(params)}; wrap it in an array`,
      );
    }
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new ValueError(
        `${op}: params must be an iterable of Parameters or of param groups, got ${describe(params)}`,
      );
    }
    const list = Array.from(params as Iterable<unknown>);
    if (list.length === 0) throw new ValueError(`${op}: optimizer got an empty parameter list`);
    if (list[0] instanceof Parameter) {
      this.addParamGroup({ params: list as Parameter[] } as unknown as ParamGroupInput<O>);
    } else {
      const mixed = list.findIndex((item) => item instanceof Parameter);
      if (mixed >= 0) {
        throw new ValueError(
          `${op}: params[${mixed}] is a Parameter but params[0] is a param group; give all Parameters or all groups`,
        );
      }
      for (const group of list) this.addParamGroup(group as ParamGroupInput<O>);
    }
  }

  /** The class name used in error messages. */
  protected get name(): string {
    return this.spec.name;
  }

  /**
   * Adds a parameter group (torch's `add_param_group`), e.g. to train layers
   * unfrozen part way through. Options it leaves out come from the defaults.
   */
  addParamGroup(group: ParamGroupInput<O>): void {
    const index = this.paramGroups.length;
    const op = `${this.name}: param group ${index}`;
    if (group === null || typeof group !== 'object' || Array.isArray(group) || !('params' in group)) {
      throw new ValueError(
        `${op} must be a Parameter or an object { params, ...options }, got ${describe(group)}`,
      );
    }
    checkOptions(op, group, [...Object.keys(this.spec.defaults), 'params', 'initialLr']);
    const { params, initialLr, ...overrides } = group;
    let list: unknown[];
    if (params instanceof Parameter) {
      list = [params];
    } else if (params !== null && typeof params === 'object' && typeof (params as Iterable<unknown>)[Symbol.iterator] === 'function') {
      list = Array.from(params as Iterable<unknown>);
    } else {
      throw new ValueError(`${op}: params must be an iterable of Parameters, got ${describe(params)}`);
    }
    if (list.length === 0) throw new ValueError(`${op} has an empty parameter list`);
    const seen = new Set<Parameter>(this.paramGroups.flatMap((g) => g.params));
    list.forEach((param, i) => {
      if (!(param instanceof Parameter)) {
        throw new ValueError(`${op}: params[${i}] must be a Parameter, got ${describe(param)}`);
      }
      if (seen.has(param)) {
        throw new ValueError(
          `${op}: params[${i}] ('${param.name}') appears more than once; each parameter may be given once across all param groups`,
        );
      }
      seen.add(param);
    });
    const merged = { ...this.defaults } as Record<string, unknown>;
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) merged[key] = value;
    }
    if (merged.lr === undefined) {
      throw new ValueError(
        `${op} has no lr and ${this.name} has no default learning rate (torch.optim.${this.name} requires lr); pass e.g. { lr: 0.01 }`,
      );
    }
    const resolved = this.spec.normalize(merged as unknown as O, op) as ParamGroup<O>;
    resolved.params = list as Parameter[];
    if (initialLr !== undefined) resolved.initialLr = checkLr(op, initialLr, 'initialLr');
    this.paramGroups.push(resolved);
  }

  /** Every parameter, group after group: the numbering of `stateDict().state`. */
  get params(): Parameter[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Per-parameter state (torch's `optimizer.state`): read it, don't change it. */
  get state(): ReadonlyMap<Parameter, Readonly<S>> {
    return this.stateMap;
  }

  /**
   * The learning rate. Reading it needs every group to share one rate (read
   * `paramGroups[i].lr` otherwise); setting it sets every group's, as a
   * scheduler does.
   */
  get lr(): number {
    const lrs = this.paramGroups.map((g) => g.lr);
    if (lrs.some((lr) => lr !== lrs[0])) {
      throw new ValueError(
        `${this.name}.lr: the ${lrs.length} param groups have different learning rates (${lrs.join(', ')}); read paramGroups[i].lr instead`,
      );
    }
    return lrs[0];
  }

  set lr(value: number) {
    checkLr(`${this.name}.lr`, value);
    for (const group of this.paramGroups) group.lr = value;
  }

  /** Sets every parameter's gradient to zero (torch's `zero_grad()`). */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const param of group.params) param.zeroGrad();
    }
  }

  /**
   * Updates every parameter from its gradient, as `optimizer.step()`. All
   * gradients are checked first (shape and dtype as the value's, finite), so
   * a bad one throws before anything changes. `closure`, if given, runs first
   * and its result is returned, as in torch.
   */
  step(closure?: () => number): number | undefined {
    let loss: number | undefined;
    if (closure !== undefined) {
      if (typeof closure !== 'function') {
        throw new ValueError(`${this.name}.step: closure must be a function, got ${describe(closure)}`);
      }
      loss = closure();
    }
    const op = `${this.name}.step`;
    let index = 0;
    for (const [g, group] of this.paramGroups.entries()) {
      // Options may be changed in place between steps (a scheduler sets lr, a
      // user may set betas): check them all again, as cheap as it is, so a bad
      // value fails here instead of turning the parameters into NaN.
      checkLr(op, group.lr, `paramGroups[${g}].lr`);
      this.spec.normalize(group as unknown as O, `${op}: paramGroups[${g}]`);
      for (const param of group.params) this.checkGrad(op, param, index++);
    }
    // Every gradient is checked before any parameter moves, so a bad one leaves the model as it was.
    const bad = this.firstNonFiniteGrad();
    if (bad !== undefined) {
      if (this.nonFinite === 'skip') {
        this.skippedSteps++;
        return loss;
      }
      const { param, index: i, flat } = bad;
      // The one read back to the host, for the message only.
      const value = param.grad.data[flat];
      throw new ValueError(
        `${op}: step ${this.stepCount + 1}: the grad of '${param.name}' (parameter ${i}) holds ${value} at index ` +
          `[${unravelIndex(flat, param.grad.shape).join(', ')}] (shape ${formatShape(param.grad.shape)}); ` +
          "no parameter was updated. Lower the learning rate, or pass { nonFinite: 'skip' } to skip such steps " +
          'as a mixed-precision loss scaler does',
      );
    }
    for (const group of this.paramGroups) {
      for (const param of group.params) {
        let state = this.stateMap.get(param);
        if (state === undefined) {
          state = this.initState(param, group);
          this.stateMap.set(param, state);
        }
        this.updateParameter(param, state, group);
      }
    }
    this.stepCount++;
    return loss;
  }

  /** The first NaN or ±Infinity among the gradients, in parameter order. */
  private firstNonFiniteGrad(): { param: Parameter; index: number; flat: number } | undefined {
    let index = 0;
    for (const group of this.paramGroups) {
      for (const param of group.params) {
        // A kernel (branch-free on a healthy gradient), so a gradient that
        // lives on a device is scanned there and nothing is read back.
        const flat = firstNonFinite(param.grad, `${this.name}.step: the grad of '${param.name}' (parameter ${index})`);
        if (flat >= 0) return { param, index, flat };
        index++;
      }
    }
    return undefined;
  }

  private checkGrad(op: string, param: Parameter, index: number): void {
    const label = `parameter ${index} ('${param.name}')`;
    const grad: unknown = param.grad;
    if (!isNDArray(grad)) {
      throw new ValueError(`${op}: the grad of ${label} must be an NDArray, got ${describe(grad)}`);
    }
    checkSameShape(op, `${label}`, param.value, 'its grad', grad);
    if (grad.dtype !== param.value.dtype) {
      throw new DTypeError(
        `${op}: the grad of ${label} is ${grad.dtype} but the parameter is ${param.value.dtype}; expected the same dtype`,
      );
    }
  }

  /** A fresh state for a parameter about to take its first step. */
  protected abstract initState(param: Parameter, group: ParamGroup<O>): S;

  /**
   * Applies one update to one parameter, in torch's order of floating-point
   * operations, through ndarray's ops (its fused step kernel) and never a loop
   * over `.data`, so the update runs on whichever backend holds the arrays.
   */
  protected abstract updateParameter(param: Parameter, state: S, group: ParamGroup<O>): void;

  /**
   * The optimizer's state as plain data (copies: later steps leave it
   * unchanged), as torch's `state_dict()`.
   */
  stateDict(): OptimizerStateDict<O> {
    const state: Record<number, Record<string, StateValue>> = {};
    const paramGroups: Array<O & { params: number[]; initialLr?: number }> = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const { params, ...options } = group;
      const numbers: number[] = [];
      for (const param of params) {
        const entry = this.stateMap.get(param) as Record<string, StateValue> | undefined;
        if (entry !== undefined && Object.keys(entry).length > 0) {
          const copy: Record<string, StateValue> = {};
          for (const [key, value] of Object.entries(entry)) {
            if (value !== undefined) copy[key] = isNDArray(value) ? value.clone() : value;
          }
          state[index] = copy;
        }
        numbers.push(index++);
      }
      paramGroups.push({ ...copyOptions(options), params: numbers } as O & { params: number[] });
    }
    return { state, paramGroups, stepCount: this.stepCount };
  }

  /**
   * Restores what {@link stateDict} returned, into an optimizer of the same
   * class built over parameters of the same shapes (torch's
   * `load_state_dict`). Everything is checked before anything changes: the
   * number of groups and of parameters in each, the options, each state
   * entry's name and each buffer's shape. Buffers are copied and converted to
   * their parameter's dtype.
   */
  loadStateDict(dict: OptimizerStateDict<O>): void {
    const op = `${this.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || typeof dict.state !== 'object' || dict.state === null || !Array.isArray(dict.paramGroups)) {
      throw new ValueError(
        `${op}: expected an object { state, paramGroups, stepCount } as stateDict() returns, got ${describe(dict)}`,
      );
    }
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new ValueError(
        `${op}: the state dict has ${dict.paramGroups.length} param groups but this optimizer has ${this.paramGroups.length}`,
      );
    }
    // Saved numbers map to this optimizer's parameters by position, as torch's id_map.
    const byNumber = new Map<number, { param: Parameter; group: number }>();
    const groups: ParamGroup<O>[] = [];
    dict.paramGroups.forEach((saved, g) => {
      const where = `${op}: paramGroups[${g}]`;
      const current = this.paramGroups[g];
      if (saved === null || typeof saved !== 'object' || !Array.isArray(saved.params)) {
        throw new ValueError(`${where} must be an object { params, ...options }, got ${describe(saved)}`);
      }
      if (saved.params.length !== current.params.length) {
        throw new ValueError(
          `${where} has ${saved.params.length} parameters but this optimizer's group ${g} has ${current.params.length}`,
        );
      }
      saved.params.forEach((n, i) => {
        checkInterval(where, `params[${i}]`, n, { min: 0, integer: true });
        if (byNumber.has(n)) throw new ValueError(`${where}: parameter number ${n} appears more than once`);
        byNumber.set(n, { param: current.params[i], group: g });
      });
      const { params: _numbers, initialLr, ...options } = saved;
      checkOptions(where, options, [...Object.keys(this.spec.defaults), 'initialLr']);
      const { params, initialLr: currentInitialLr, ...currentOptions } = current;
      const merged = { ...currentOptions, ...options } as unknown as O;
      const resolved = this.spec.normalize(merged, where) as ParamGroup<O>;
      resolved.params = params;
      // A saved null is checked (and rejected), not taken as absent.
      const nextInitialLr = initialLr === undefined ? currentInitialLr : initialLr;
      if (nextInitialLr !== undefined) resolved.initialLr = checkLr(where, nextInitialLr, 'initialLr');
      groups.push(resolved);
    });
    const stepCount =
      dict.stepCount === undefined ? this.stepCount : checkInterval(op, 'stepCount', dict.stepCount, { min: 0, integer: true });

    const known = [...this.spec.counters, ...this.spec.buffers];
    const state = new Map<Parameter, S>();
    for (const [key, entry] of Object.entries(dict.state)) {
      const n = Number(key);
      const target = byNumber.get(n);
      if (target === undefined) {
        throw new ValueError(
          `${op}: state has an entry for parameter ${key} but the param groups list no parameter with that number`,
        );
      }
      const { param } = target;
      const where = `${op}: state[${key}] (parameter '${param.name}', shape ${formatShape(param.shape)})`;
      if (entry === null || typeof entry !== 'object') {
        throw new ValueError(`${where} must be an object of buffers, got ${describe(entry)}`);
      }
      const loaded: Record<string, StateValue> = {};
      for (const [name, value] of Object.entries(entry)) {
        if (!known.includes(name)) {
          throw new ValueError(
            `${where}: unknown state entry '${name}'; ${this.name} keeps ${known.map((k) => `'${k}'`).join(', ')}`,
          );
        }
        if (this.spec.counters.includes(name)) {
          loaded[name] = checkInterval(where, name, value, { min: 0, integer: true });
        } else {
          if (!isNDArray(value)) {
            throw new ValueError(`${where}: ${name} must be an NDArray, got ${describe(value)}`);
          }
          if (value.shape.length !== param.shape.length || value.shape.some((d, i) => d !== param.shape[i])) {
            throw new ShapeError(
              `${where}: ${name} has shape ${formatShape(value.shape)}; expected the parameter's shape ${formatShape(param.shape)}`,
            );
          }
          // A copy of the parameter's dtype, where the parameter lives (uploaded when it is on a GPU).
          loaded[name] = toBackend(value.dtype === param.dtype ? value.clone() : value.astype(param.dtype));
        }
      }
      for (const name of this.spec.required(groups[target.group])) {
        if (!(name in loaded)) throw new ValueError(`${where}: the entry '${name}' is missing`);
      }
      state.set(param, loaded as S);
    }
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
    this.stateMap.clear();
    for (const [param, entry] of state) this.stateMap.set(param, entry);
    this.stepCount = stepCount;
  }
}

/** A copy of a group's options that shares no arrays with it (betas). */
export function copyOptions(options: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) out[key] = Array.isArray(value) ? value.slice() : value;
  return out;
}
