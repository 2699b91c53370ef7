import {
  type DType,
  NDArray,
  Parameter,
  type Slot,
  ValueError,
  checkOptions,
  copyInto,
  describe,
  formatShape,
  shapesEqual,
  toBackend,
  zeros,
} from '@backprop/ndarray';
import { checkBoolean } from './checks';

/** Options of {@link NeuralLayer.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Require the dict's keys to match the layer's exactly (default true), as
   * `torch.nn.Module.load_state_dict(strict=True)`. With `false`, missing and
   * unexpected keys are reported in the result instead of thrown; a shape
   * mismatch is an error either way.
   */
  strict?: boolean;
}

/** What {@link NeuralLayer.loadStateDict} returns, as torch's `_IncompatibleKeys`. */
export interface LoadStateDictResult {
  /** Keys the layer has and the dict lacks (their parameters were left as they were). */
  missingKeys: string[];
  /** Keys the dict has and the layer does not (ignored). */
  unexpectedKeys: string[];
}

/**
 * Thrown by {@link NeuralLayer.loadStateDict} when a state dict does not fit the
 * layer. Like torch, it reports every problem at once: missing keys, unexpected
 * keys and shape mismatches. Nothing is loaded when it is thrown.
 */
export class StateDictError extends Error {
  override name = 'StateDictError';
  constructor(
    message: string,
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly mismatches: string[],
  ) {
    super(message);
  }
}

/** Options a caller passes to {@link NeuralLayer.forward}. */
export interface ForwardOptions {
  /**
   * Where to write the output, when the caller will not keep it past this
   * layer's next forward pass: a `Sequential` hands each child a slot for the
   * array it passes to the next child, so a steady training step allocates
   * nothing inside the model. A layer may ignore it (then it returns a new
   * array, which is always correct); given none, it must return a new array.
   */
  into?: Slot;
}

/** Options a caller passes to {@link NeuralLayer.backward}. */
export interface BackwardOptions {
  /**
   * Whether to compute dLoss/dInput (default true). With `false` the layer
   * still adds every parameter's gradient, but may skip the input gradient
   * (nothing needs it when the input is data: the first `Linear` of an MLP
   * saves a third of its multiply-adds) and return undefined, as PyTorch
   * skips it for an input that does not require grad.
   */
  inputGrad?: boolean;
  /** Where to write dLoss/dInput when the caller drops it after its next call (see {@link ForwardOptions.into}). */
  into?: Slot;
}

/**
 * The base of every layer: an explicit forward pass that caches what its
 * backward pass needs, and a backward pass that returns the gradient with
 * respect to the input and *adds* into each parameter's `grad` (PyTorch's
 * accumulation: call `zeroGrad()` between steps).
 *
 * It also carries what `torch.nn.Module` gives every module: a `Parameter` or
 * a layer assigned to a property is part of the layer (its parameters, state
 * dict, `zeroGrad`, `train`/`eval`), named by the property (`weight`, and
 * `0.weight` or `block.fc.bias` below a container), as `Module.__setattr__`
 * registers them; arrays of them count too (`blocks.0.weight`, as a
 * `ModuleList`). `String(layer)` is torch's `print(module)`.
 *
 * Reuse is the caller's to offer and the layer's to take: `forward` and
 * `backward` receive an optional slot to write their result into (a
 * `Sequential` passes one for every array that stays between its children).
 * A layer that ignores it returns new arrays and is correct; an input a layer
 * receives may be overwritten by the layer that produced it on that layer's
 * next call, so keep what backward needs until then, and `clone()` anything
 * kept longer.
 *
 * A layer instance caches its last forward pass, so it can appear only once
 * in a model; create another instance to use the same kind of layer twice.
 *
 * @example
 * class Scale extends NeuralLayer {
 *   factor = new Parameter(ones([1]));    // found by parameters(), named 'factor'
 *   private input?: NDArray;
 *   forward(input: NDArray) { this.input = input; return mul(input, this.factor.value); }
 *   backward(outputGrad: NDArray) {
 *     add(this.factor.grad, sum(mul(outputGrad, this.input!)), this.factor.grad);
 *     return mul(outputGrad, this.factor.value);
 *   }
 * }
 */
export abstract class NeuralLayer {
  /** True in training mode (the default), false after `eval()`; as `module.training`. */
  training = true;

  /** Arrays registered by {@link registerBuffer}, by name, in registration order. */
  readonly #buffers = new Map<string, { value: NDArray; persistent: boolean }>();

  /** Runs the layer on `input` and remembers what `backward` needs. */
  abstract forward(input: NDArray, options?: ForwardOptions): NDArray;

  /**
   * Given dLoss/dOutput for the last `forward`, adds dLoss/dParameter into
   * each parameter's `grad` and returns dLoss/dInput (undefined only when
   * called with `{ inputGrad: false }` by a layer that skipped it).
   */
  abstract backward(outputGrad: NDArray): NDArray;
  abstract backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;

  /**
   * The layer's type as printing and errors show it: its class's name (this
   * package's layers spell theirs out, so a bundler's renaming never shows).
   */
  get typeName(): string {
    return this.constructor.name;
  }

  /** `name` for an instance of `own` itself, its own class name for a subclass's (a user's `class Block extends Sequential`). */
  protected namedAs(own: abstract new (...args: never[]) => NeuralLayer, name: string): string {
    return this.constructor === own ? name : this.constructor.name;
  }

  /**
   * What `String(layer)` shows between the parentheses, as torch's
   * `extra_repr()`: `in_features=784, out_features=128, bias=True`.
   */
  extraRepr(): string {
    return '';
  }

  /**
   * The layer as `print(module)` shows it in PyTorch: one line for a leaf
   * (`Linear(in_features=784, out_features=128, bias=True)`), a tree of
   * `(name): child` lines for a container.
   */
  toString(): string {
    const extra = this.extraRepr();
    const lines = extra === '' ? [] : extra.split('\n');
    const children = this.namedChildren();
    for (const [name, child] of children) {
      lines.push(`(${name}): ${child.toString().split('\n').join('\n  ')}`);
    }
    if (lines.length === 0) return `${this.typeName}()`;
    if (children.length === 0 && lines.length === 1) return `${this.typeName}(${lines[0]})`;
    return `${this.typeName}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** The layer as its error messages name it: short, one line (`Linear(10, 2)`). */
  protected label(): string {
    return `${this.typeName}()`;
  }

  /**
   * The array this call's result goes into: the caller's slot when it gave
   * one, else a new zero-filled array (the result leaves the layer).
   */
  protected output(options: ForwardOptions | BackwardOptions | undefined, shape: readonly number[], dtype: DType): NDArray {
    const slot = options?.into;
    return slot === undefined ? zeros(shape, { dtype }) : slot.take(shape, dtype);
  }

  /**
   * Makes `parameter` part of this layer under `name`, as
   * `register_parameter` does; the same as assigning it to the property
   * `name` (which is what this does), for names that are not identifiers
   * or not fields of the class (torch's `in_proj_weight`).
   */
  protected registerParameter(name: string, parameter: Parameter): void {
    checkName(this.label(), name);
    if (this.#buffers.has(name)) throw new ValueError(`${this.label()}: '${name}' is already a buffer of this layer`);
    if (!(parameter instanceof Parameter)) {
      throw new ValueError(`${this.label()}: parameter '${name}' must be a Parameter, got ${describe(parameter)}`);
    }
    Object.defineProperty(this, name, { value: parameter, enumerable: true, writable: true, configurable: true });
    parameter.name = name;
  }

  /**
   * Makes `value` a buffer of this layer under `name`, as `register_buffer`
   * does: state that is not learned but belongs to the model (BatchNorm's
   * `running_mean`, `running_var`, `num_batches_tracked`). A persistent buffer
   * (the default) is in `stateDict()` after the layer's own parameters, and
   * `loadStateDict` copies into it. Returns `value`, so a layer keeps it in a
   * field; update it in place (an op's `out`, `copyInto`), never reassign it,
   * since loading a state dict writes into the registered array.
   *
   * @example readonly runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
   */
  protected registerBuffer(name: string, value: NDArray, options: { persistent?: boolean } = {}): NDArray {
    const op = `${this.typeName}.registerBuffer`;
    checkName(op, name);
    checkOptions(op, options, ['persistent']);
    const persistent = checkBoolean(op, 'persistent', options.persistent ?? true);
    if (!(value instanceof NDArray)) throw new ValueError(`${op}: buffer '${name}' must be an NDArray, got ${describe(value)}`);
    if (this.#buffers.has(name) || Object.hasOwn(this, name)) {
      throw new ValueError(`${op}: the layer already has a buffer, parameter or child named '${name}'`);
    }
    this.#buffers.set(name, { value, persistent });
    return value;
  }

  /**
   * Every buffer with its qualified name (`0.running_mean`), own buffers first
   * then each child's, as `named_buffers()`; non-persistent buffers included.
   */
  namedBuffers(): [string, NDArray][] {
    return this.bufferEntries('', new Set());
  }

  private bufferEntries(prefix: string, visiting: Set<NeuralLayer>): [string, NDArray][] {
    if (visiting.has(this)) {
      throw new ValueError(`${this.label()}: the layer contains itself (a child property points back up the tree)`);
    }
    visiting.add(this);
    const out: [string, NDArray][] = [];
    for (const [name, { value }] of this.#buffers) out.push([prefix + name, value]);
    for (const [name, child] of this.namedChildren()) out.push(...child.bufferEntries(`${prefix}${name}.`, visiting));
    visiting.delete(this);
    return out;
  }

  /** Every buffer, as `buffers()`. */
  buffers(): NDArray[] {
    return this.namedBuffers().map(([, value]) => value);
  }

  /** Makes `layer` a child of this one under `name`, as `Module.add_module` does: the same as assigning the property. */
  protected registerLayer(name: string, layer: NeuralLayer): void {
    checkName(this.label(), name);
    if (!(layer instanceof NeuralLayer)) {
      throw new ValueError(`${this.label()}: child '${name}' must be a NeuralLayer, got ${describe(layer)}`);
    }
    Object.defineProperty(this, name, { value: layer, enumerable: true, writable: true, configurable: true });
  }

  /**
   * Direct children with their names, as `named_children()`: every layer
   * held by an own property (or an array property, as `name.i`), in the
   * order the properties were created.
   */
  namedChildren(): [string, NeuralLayer][] {
    const out: [string, NeuralLayer][] = [];
    for (const [name, value] of members(this)) if (value instanceof NeuralLayer) out.push([name, value]);
    return out;
  }

  /**
   * Every parameter with its qualified name (`0.weight`, `1.0.bias`), own
   * parameters first then each child's, as `named_parameters()`. A parameter
   * reachable twice is listed once, under its first name.
   */
  namedParameters(): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [name, parameter] of this.stateEntries('', new Set())) {
      if (!(parameter instanceof Parameter) || seen.has(parameter)) continue;
      seen.add(parameter);
      out.push([name, parameter]);
    }
    return out;
  }

  /** Every parameter, as `parameters()`: what an optimizer takes. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, parameter]) => parameter);
  }

  /** Sets every parameter's gradient to zero, as `zero_grad(set_to_none=False)`. */
  zeroGrad(): void {
    for (const parameter of this.parameters()) parameter.zeroGrad();
  }

  /** Training mode (`mode = true`) or evaluation mode for this layer and all its children; returns this. */
  train(mode = true): this {
    checkBoolean(`${this.label()}.train`, 'mode', mode);
    this.training = mode;
    for (const [, child] of this.namedChildren()) child.train(mode);
    return this;
  }

  /** Evaluation mode, as `module.eval()`: the same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Copies of every parameter's value and every persistent buffer keyed by
   * qualified name, in torch's order (each layer's parameters, then its
   * buffers, then its children's), so `encodeSafetensors(model.stateDict())`
   * writes what `safetensors.torch.save_file(model.state_dict())` does.
   */
  stateDict(): Record<string, NDArray> {
    const out: Record<string, NDArray> = {};
    for (const [name, entry] of this.stateEntries('', new Set())) out[name] = arrayOf(entry).clone();
    return out;
  }

  /**
   * Copies the dict's values into the existing parameters and buffers in
   * place (so an optimizer holding them keeps working), converting the dtype
   * if it differs (an int64 `num_batches_tracked` read as int32 included), as
   * `load_state_dict` does. Everything is checked before anything is
   * copied: with `strict` (the default) missing and unexpected keys are
   * reported together in one {@link StateDictError}, and a shape mismatch
   * names the key and both shapes.
   *
   * @example model.loadStateDict(decodeSafetensors(bytes).tensors)
   */
  loadStateDict(
    stateDict: Readonly<Record<string, unknown>>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const op = `${this.label()}.loadStateDict`;
    checkOptions(op, options, ['strict']);
    const strict = checkBoolean(op, 'strict', options.strict ?? true);
    if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict)) {
      throw new ValueError(`${op}: expected a record of NDArrays keyed by parameter name, got ${describe(stateDict)}`);
    }
    const own = this.stateEntries('', new Set());
    const ownKeys = new Set(own.map(([name]) => name));
    const missingKeys = own.map(([name]) => name).filter((name) => !Object.hasOwn(stateDict, name));
    const unexpectedKeys = Object.keys(stateDict).filter((key) => !ownKeys.has(key));
    const mismatches: string[] = [];
    for (const [name, entry] of own) {
      if (!Object.hasOwn(stateDict, name)) continue;
      const value = stateDict[name];
      const target = arrayOf(entry);
      if (!(value instanceof NDArray)) {
        mismatches.push(`${name}: expected an NDArray, got ${describeValue(value)}`);
      } else if (!shapesEqual(value.shape, target.shape)) {
        mismatches.push(
          `size mismatch for ${name}: copying a value of shape ${formatShape(value.shape)} from the state dict, ` +
            `the shape in the layer is ${formatShape(target.shape)}`,
        );
      }
    }
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) problems.push(`missing key(s): ${quoteAll(missingKeys)}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected key(s): ${quoteAll(unexpectedKeys)}`);
    problems.push(...mismatches);
    if (problems.length > 0) {
      throw new StateDictError(
        `${op}: error(s) in loading the state dict; nothing was loaded:\n  ${problems.join('\n  ')}`,
        missingKeys,
        unexpectedKeys,
        mismatches,
      );
    }
    for (const [name, entry] of own) {
      const value = stateDict[name];
      const target = arrayOf(entry);
      // A copy (astype rounds float64 → float32 to nearest, as param.copy_ does), uploaded first where the model
      // lives on a GPU and the state dict on the host (read from a file, or another model's).
      if (value instanceof NDArray) copyInto(target, toBackend(value.dtype === target.dtype ? value : value.astype(target.dtype)));
    }
    return { missingKeys, unexpectedKeys };
  }

  /**
   * What the state dict holds, in its order, repeats included: each layer's
   * parameters, then its persistent buffers, then its children's entries.
   * `visiting` stops a cycle.
   */
  private stateEntries(prefix: string, visiting: Set<NeuralLayer>): [string, Parameter | NDArray][] {
    if (visiting.has(this)) {
      throw new ValueError(`${this.label()}: the layer contains itself (a child property points back up the tree)`);
    }
    visiting.add(this);
    const out: [string, Parameter | NDArray][] = [];
    const children: [string, NeuralLayer][] = [];
    for (const [name, value] of members(this)) {
      if (value instanceof Parameter) out.push([prefix + name, value]);
      else children.push([name, value]);
    }
    for (const [name, { value, persistent }] of this.#buffers) if (persistent) out.push([prefix + name, value]);
    for (const [name, child] of children) out.push(...child.stateEntries(`${prefix}${name}.`, visiting));
    visiting.delete(this);
    return out;
  }
}

/** The array a state-dict entry reads and loads: a parameter's value, or the buffer itself. */
function arrayOf(entry: Parameter | NDArray): NDArray {
  return entry instanceof Parameter ? entry.value : entry;
}

/**
 * The parameters and layers a layer holds: its own enumerable properties
 * whose value is a Parameter or a NeuralLayer, or an array of them (item i
 * named `name.i`), in property order.
 */
function members(layer: NeuralLayer): [string, Parameter | NeuralLayer][] {
  const out: [string, Parameter | NeuralLayer][] = [];
  for (const name of Object.keys(layer)) {
    const value = (layer as unknown as Record<string, unknown>)[name];
    if (value instanceof Parameter || value instanceof NeuralLayer) out.push([name, value]);
    else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (item instanceof Parameter || item instanceof NeuralLayer) out.push([`${name}.${i}`, item]);
      });
    }
  }
  return out;
}

function checkName(op: string, name: unknown): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new ValueError(`${op}: a parameter or child name must be a non-empty string without '.', got ${describe(name)}`);
  }
}

function quoteAll(keys: string[]): string {
  return keys.map((k) => `"${k}"`).join(', ');
}

function describeValue(value: unknown): string {
  if (value !== null && typeof value === 'object' && 'dtype' in value && 'shape' in value) {
    const t = value as { dtype: unknown; shape: readonly number[] };
    return `a ${String(t.dtype)} tensor of shape ${formatShape(t.shape)}`;
  }
  return describe(value);
}
