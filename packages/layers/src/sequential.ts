import { NDArray, Slot, ValueError, describe } from '@backprop/ndarray';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';

/**
 * Kept on an error a child threw, so that an enclosing Sequential lengthens
 * the path (`Sequential[1][0] (Linear)`) instead of prefixing a second one:
 * the Sequential that located it, the path below that Sequential, the
 * failing layer's type and the error's own message.
 */
const LOCATION = Symbol('Sequential error location');

interface ErrorLocation {
  by: NeuralLayer;
  path: number[];
  layer: string;
  message: string;
}

/**
 * Layers run one after another, as `torch.nn.Sequential(*layers)`: forward in
 * order, backward in reverse. Children are named by position, so parameters
 * are named `0.weight`, `0.bias`, `2.weight` (and `1.0.weight` inside a nested
 * Sequential) exactly as torch names them, `model[0]` is the first layer, and
 * a PyTorch `state_dict` (e.g. read from safetensors) loads as is.
 *
 * When a layer's input holds integers (token ids into an `Embedding`, first
 * or after a `Flatten`), `backward` stops at that layer, which adds its
 * parameters' gradients, and returns undefined: integer arrays have no
 * gradient, as in torch, where they cannot require grad.
 *
 * A layer instance may appear only once: each caches its last forward pass
 * for backward, so a second use would overwrite the first.
 *
 * An error a layer throws in `forward` or `backward` comes out with the same
 * class (a `ShapeError` is still a `ShapeError`) and its message prefixed by
 * where the layer sits: `Sequential[2] (Linear): Linear(2, 1): expected an
 * input whose last dimension is 2, ...`, and `Sequential[1][0] (Linear): ...`
 * inside a nested Sequential.
 *
 * The arrays passed between the layers (each output but the last, each input
 * gradient but the one returned) live in slots the Sequential owns and hands
 * to each child call (`{ into }`), so a training step at a steady batch size
 * allocates only what it returns. What `forward` and `backward` return to
 * their caller is always a new array, unless that caller handed a slot of
 * its own (an outer Sequential).
 *
 * @example
 * const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
 * Object.keys(model.stateDict()); // ['0.weight', '0.bias', '2.weight', '2.bias']
 * model.loadStateDict(decodeSafetensors(readFileSync('mlp.safetensors')).tensors);
 */
export class Sequential extends NeuralLayer {
  readonly #items: NeuralLayer[] = [];
  /** Slot i holds layer i's output (read by layer i + 1); the last layer writes where the caller says. */
  readonly #outputs: Slot[] = [];
  /** Slot i holds layer i's input gradient (read by layer i − 1's backward); layer 0 writes where the caller says. */
  readonly #inputGrads: Slot[] = [];
  #ran = false;
  /**
   * The first layer of the last pass whose input held integers (token ids
   * into an Embedding), or -1: that layer and those before it have no input
   * gradient, as in torch, where integer tensors cannot require grad.
   */
  #lastIntegerInput = -1;

  constructor(...layers: NeuralLayer[]) {
    super();
    for (const layer of layers) this.append(layer);
  }

  /** The layers, in order (read-only; use `append` to add one). */
  get layers(): readonly NeuralLayer[] {
    return this.#items;
  }

  /** The number of layers, as `len(sequential)`. */
  get length(): number {
    return this.#items.length;
  }

  override get typeName(): string {
    return this.namedAs(Sequential, 'Sequential');
  }

  /** Adds a layer at the end, named by its position, as `Sequential.append`; returns this. */
  append(layer: NeuralLayer): this {
    const index = this.#items.length;
    if (!(layer instanceof NeuralLayer)) {
      throw new ValueError(`Sequential: layer ${index} must be a NeuralLayer, got ${describe(layer)}`);
    }
    if (layer === this) throw new ValueError(`Sequential: layer ${index} is the Sequential itself`);
    const previous = this.#items.indexOf(layer);
    if (previous >= 0) {
      throw new ValueError(
        `Sequential: layer ${index} (${layer}) is the same instance as layer ${previous}; a layer caches its last ` +
          'forward pass for backward, so each instance can appear only once: create another',
      );
    }
    this.#items.push(layer);
    this.#outputs.push(new Slot());
    this.#inputGrads.push(new Slot());
    this.registerLayer(String(index), layer);
    // Each parameter's name becomes its path, so an optimizer's errors say `2.weight`.
    for (const [name, parameter] of this.namedParameters()) parameter.name = name;
    return this;
  }

  protected override label(): string {
    return `Sequential(${this.#items.map((layer) => layer.typeName).join(', ')})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const items = this.#items;
    const last = items.length - 1;
    let x = input;
    this.#lastIntegerInput = -1;
    for (let i = 0; i <= last; i++) {
      if (x instanceof NDArray && x.dtype === 'int32') this.#lastIntegerInput = i;
      try {
        x = items[i].forward(x, { into: i < last ? this.#outputs[i] : options?.into });
      } catch (error) {
        throw this.located(error, i);
      }
    }
    this.#ran = true;
    // A pass-through last layer (Identity, Flatten, Dropout in eval) hands on its input, which may be in a slot.
    return options?.into === undefined ? this.detached(x, this.#outputs) : x;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    if (!this.#ran) {
      throw new ValueError(
        `${this.label()}: backward() called before forward(); run forward(input) first so the layers have the values their gradients need`,
      );
    }
    const items = this.#items;
    // Integer inputs (an Embedding's token ids) have no gradient: from the last layer fed integers down,
    // nothing is differentiable, so that layer only adds its parameters' gradients and the pass ends there.
    const integerAt = this.#lastIntegerInput;
    const inputGrad = (options?.inputGrad ?? true) && integerAt < 0;
    let g: NDArray | undefined = outputGrad;
    for (let i = items.length - 1; i >= Math.max(integerAt, 0); i--) {
      // Layer 0's input gradient is this Sequential's: computed only if asked for, written where the caller says.
      const first = i === 0;
      try {
        g = items[i].backward(g as NDArray, {
          inputGrad: i === integerAt ? false : first ? inputGrad : true,
          into: first ? options?.into : this.#inputGrads[i],
        });
      } catch (error) {
        throw this.located(error, i);
      }
      if (g === undefined && !first && i !== integerAt) {
        throw new ValueError(`${this.label()}: layer ${i} (${items[i].typeName}) returned no input gradient for layer ${i - 1}`);
      }
    }
    if (!inputGrad || g === undefined) return undefined;
    return options?.into === undefined ? this.detached(g, this.#inputGrads) : g;
  }

  /**
   * `error`, thrown by layer `index`, with its message prefixed by where that
   * layer sits (its stack's first line too, which is what Node prints). An
   * error already located by that layer, a nested Sequential, gets the longer
   * path instead of a second prefix. Anything but an `Error` passes unchanged.
   */
  private located(error: unknown, index: number): unknown {
    if (!(error instanceof Error)) return error;
    const child = this.#items[index];
    const inner = (error as Error & { [LOCATION]?: ErrorLocation })[LOCATION];
    const location: ErrorLocation =
      inner !== undefined && inner.by === child
        ? { by: this, path: [index, ...inner.path], layer: inner.layer, message: inner.message }
        : { by: this, path: [index], layer: child.typeName, message: error.message };
    const before = error.message;
    const message = `${this.typeName}${location.path.map((i) => `[${i}]`).join('')} (${location.layer}): ${location.message}`;
    try {
      error.message = message;
      const head = `${error.name}: ${before}`;
      if (typeof error.stack === 'string' && error.stack.startsWith(head)) {
        error.stack = `${error.name}: ${message}${error.stack.slice(head.length)}`;
      }
      Object.defineProperty(error, LOCATION, { value: location, configurable: true });
    } catch {
      // A frozen error keeps its own message.
    }
    return error;
  }

  /** `x` itself, or a copy when it lives in one of `slots` (a later call would overwrite it). */
  private detached(x: NDArray, slots: readonly Slot[]): NDArray {
    for (const slot of slots) if (slot.holds(x)) return x.clone();
    return x;
  }
}
