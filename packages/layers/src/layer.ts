import {
  NDArray,
  type Parameter,
  ValueError,
  checkOptions,
  describe,
  formatShape,
  shapesEqual,
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

/**
 * The base of every layer: an explicit forward pass that caches what its
 * backward pass needs, and a backward pass that returns the gradient with
 * respect to the input and *adds* into each parameter's `grad` (PyTorch's
 * accumulation: call `zeroGrad()` between steps).
 *
 * It also carries what `torch.nn.Module` gives every module: parameters named
 * by their path (`0.weight`), `train()`/`eval()`, and state dicts.
 *
 * A layer instance caches the input (or output) of its last forward pass, so
 * it can appear only once in a model; create another instance to use the same
 * kind of layer twice.
 *
 * @example
 * class Scale extends NeuralLayer {
 *   readonly factor = new Parameter(ones([1]), 'factor');
 *   private input?: NDArray;
 *   constructor() { super(); this.registerParameter('factor', this.factor); }
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

  private readonly ownParameters = new Map<string, Parameter>();
  private readonly childLayers = new Map<string, NeuralLayer>();

  /** Runs the layer on `input` and remembers what `backward` needs. */
  abstract forward(input: NDArray): NDArray;

  /**
   * Given dLoss/dOutput for the last `forward`, adds dLoss/dParameter into
   * each parameter's `grad` and returns dLoss/dInput.
   */
  abstract backward(outputGrad: NDArray): NDArray;

  /**
   * The backward pass of a training step whose input is data: adds
   * dLoss/dParameter into each parameter's `grad` exactly as `backward` does,
   * but skips dLoss/dInput, which nothing needs when the input is a batch of
   * samples. PyTorch skips it the same way for an input that does not require
   * grad; for the first `Linear` of an MLP it is a third of the multiply-adds.
   *
   * Layers that can save work override it (the linear and convolution
   * layers skip a gemm; `Sequential` runs `backward` through every layer but
   * the first); the default runs `backward` and drops its result, so every
   * layer supports it.
   *
   * @example
   * lossFn.forward(model.forward(x), y);
   * model.backwardParameters(lossFn.backward()); // same grads as model.backward(...)
   * optimizer.step();
   */
  backwardParameters(outputGrad: NDArray): void {
    this.backward(outputGrad);
  }

  /** The layer as errors name it, e.g. `Linear(10, 2)` (torch's repr, shortened). */
  toString(): string {
    return `${this.constructor.name}()`;
  }

  /**
   * Makes `parameter` part of this layer under `name` (in registration order,
   * which is the state dict's order), as assigning an `nn.Parameter` does.
   */
  protected registerParameter(name: string, parameter: Parameter): void {
    checkName(this.toString(), name);
    this.ownParameters.set(name, parameter);
    parameter.name = name;
  }

  /** Makes `layer` a child of this one under `name`, as `Module.add_module` does. */
  protected registerLayer(name: string, layer: NeuralLayer): void {
    checkName(this.toString(), name);
    if (!(layer instanceof NeuralLayer)) {
      throw new ValueError(`${this.toString()}: child '${name}' must be a NeuralLayer, got ${describe(layer)}`);
    }
    this.childLayers.set(name, layer);
  }

  /** Direct children with their names, as `named_children()`. */
  namedChildren(): [string, NeuralLayer][] {
    return [...this.childLayers];
  }

  /**
   * Every parameter with its qualified name (`0.weight`, `1.0.bias`), own
   * parameters first then each child's, as `named_parameters()`. A parameter
   * reachable twice is listed once, under its first name.
   */
  namedParameters(): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [name, parameter] of this.namedParameterEntries('')) {
      if (seen.has(parameter)) continue;
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
    checkBoolean(`${this.toString()}.train`, 'mode', mode);
    this.training = mode;
    for (const child of this.childLayers.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode, as `module.eval()`: the same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Copies of every parameter's value keyed by qualified name, in torch's
   * order, so `encodeSafetensors(model.stateDict())` writes what
   * `safetensors.torch.save_file(model.state_dict())` does.
   */
  stateDict(): Record<string, NDArray> {
    const out: Record<string, NDArray> = {};
    for (const [name, parameter] of this.namedParameterEntries('')) out[name] = parameter.value.clone();
    return out;
  }

  /**
   * Copies the dict's values into the existing parameters in place (so an
   * optimizer holding them keeps working), converting the dtype if it differs,
   * as `load_state_dict` does. Everything is checked before anything is
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
    const op = `${this.toString()}.loadStateDict`;
    checkOptions(op, options, ['strict']);
    const strict = checkBoolean(op, 'strict', options.strict ?? true);
    if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict)) {
      throw new ValueError(`${op}: expected a record of NDArrays keyed by parameter name, got ${describe(stateDict)}`);
    }
    const own = this.namedParameterEntries('');
    const ownKeys = new Set(own.map(([name]) => name));
    const missingKeys = own.map(([name]) => name).filter((name) => !Object.hasOwn(stateDict, name));
    const unexpectedKeys = Object.keys(stateDict).filter((key) => !ownKeys.has(key));
    const mismatches: string[] = [];
    for (const [name, parameter] of own) {
      if (!Object.hasOwn(stateDict, name)) continue;
      const value = stateDict[name];
      if (!(value instanceof NDArray)) {
        mismatches.push(`${name}: expected a float32 or float64 NDArray, got ${describeValue(value)}`);
      } else if (!shapesEqual(value.shape, parameter.shape)) {
        mismatches.push(
          `size mismatch for ${name}: copying a value of shape ${formatShape(value.shape)} from the state dict, ` +
            `the shape in the layer is ${formatShape(parameter.shape)}`,
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
    for (const [name, parameter] of own) {
      const value = stateDict[name];
      // TypedArray.set converts float64 → float32 with round-to-nearest, as param.copy_ does.
      if (value instanceof NDArray) parameter.value.data.set(value.data);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** All (name, parameter) pairs including repeats: what the state dict holds. */
  private namedParameterEntries(prefix: string): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, parameter] of this.ownParameters) out.push([prefix + name, parameter]);
    for (const [name, child] of this.childLayers) out.push(...child.namedParameterEntries(`${prefix}${name}.`));
    return out;
  }
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
