import { type NDArray, ValueError, describe } from '@backprop/ndarray';
import { detached, isReusing, markReusing, resultStaysInside, setResultStaysInside } from './buffers';
import { NeuralLayer } from './layer';

/**
 * Layers run one after another, as `torch.nn.Sequential(*layers)`: forward in
 * order, backward in reverse. Children are named by position, so parameters
 * are named `0.weight`, `0.bias`, `2.weight` (and `1.0.weight` inside a nested
 * Sequential) exactly as torch names them; each Parameter's `name` is set to
 * that path, and a PyTorch `state_dict` (e.g. read from safetensors) loads as is.
 *
 * A layer instance may appear only once: each caches its last forward pass
 * for backward, so a second use would overwrite the first.
 *
 * The arrays passed between the layers (each output but the last, each input
 * gradient but the one returned) are reused from step to step: each layer
 * overwrites its own on its next call, so a training step at a steady batch
 * size allocates only what it returns. What `forward` and `backward` return is
 * always a new array. A Sequential holding a layer of another class (a user's
 * subclass included) reuses nothing, since such a layer may keep its input.
 *
 * @example
 * const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
 * Object.keys(model.stateDict()); // ['0.weight', '0.bias', '2.weight', '2.bias']
 * model.loadStateDict(decodeSafetensors(readFileSync('mlp.safetensors')).tensors);
 */
export class Sequential extends NeuralLayer {
  private readonly items: NeuralLayer[] = [];
  private outputShape?: readonly number[];

  constructor(...layers: NeuralLayer[]) {
    super();
    markReusing(this, new.target, Sequential);
    for (const layer of layers) this.append(layer);
  }

  /** The layers, in order (read-only; use `append` to add one). */
  get layers(): readonly NeuralLayer[] {
    return this.items;
  }

  /** The number of layers, as `len(sequential)`. */
  get length(): number {
    return this.items.length;
  }

  /** Adds a layer at the end, named by its position, as `Sequential.append`; returns this. */
  append(layer: NeuralLayer): this {
    const index = this.items.length;
    if (!(layer instanceof NeuralLayer)) {
      throw new ValueError(`Sequential: layer ${index} must be a NeuralLayer, got ${describe(layer)}`);
    }
    if (layer === this) throw new ValueError(`Sequential: layer ${index} is the Sequential itself`);
    const previous = this.items.indexOf(layer);
    if (previous >= 0) {
      throw new ValueError(
        `Sequential: layer ${index} (${layer}) is the same instance as layer ${previous}; a layer caches its last ` +
          'forward pass for backward, so each instance can appear only once: create another',
      );
    }
    this.items.push(layer);
    this.registerLayer(String(index), layer);
    this.nameParameters();
    return this;
  }

  override toString(): string {
    return `Sequential(${this.items.map((layer) => layer.toString()).join(', ')})`;
  }

  forward(input: NDArray): NDArray {
    const items = this.items;
    const last = items.length - 1;
    // Every output but the last feeds the next layer, so it may be reused; the
    // last is reused only when this Sequential's own caller (an outer
    // Sequential) hands the result on. Flag set and restored by hand: no closure.
    const caller = resultStaysInside();
    const reuse = this.reusesBuffers();
    let x = input;
    try {
      for (let i = 0; i <= last; i++) {
        setResultStaysInside(reuse && (i < last || caller));
        x = items[i].forward(x);
      }
    } finally {
      setResultStaysInside(caller);
    }
    // A pass-through last layer (Identity, Flatten, Dropout in eval) hands on its input.
    if (!caller) x = detached(x);
    this.outputShape = x.shape;
    return x;
  }

  backward(outputGrad: NDArray): NDArray {
    return this.backwardTo(0, outputGrad, 'backward', false);
  }

  /** Backward through every layer but the first, which only accumulates its parameters' grads. */
  override backwardParameters(outputGrad: NDArray): void {
    // A replaced backward (a subclass's, or a hook on the instance) is never bypassed.
    if (this.backward !== Sequential.prototype.backward) {
      this.backward(outputGrad);
      return;
    }
    if (this.items.length === 0) return;
    const g = this.backwardTo(1, outputGrad, 'backwardParameters', true);
    // Whatever the first layer computes is dropped (the default backwardParameters
    // runs backward and discards the input gradient), so it may reuse its buffers.
    const caller = resultStaysInside();
    try {
      setResultStaysInside(this.reusesBuffers());
      this.items[0].backwardParameters(g);
    } finally {
      setResultStaysInside(caller);
    }
  }

  /**
   * Runs `backward` from the last layer down to layer `first`; returns the
   * gradient that layer hands back. `handedOn` says that gradient goes to
   * another layer rather than to this Sequential's caller.
   */
  private backwardTo(first: number, outputGrad: NDArray, op: string, handedOn: boolean): NDArray {
    if (this.outputShape === undefined) {
      throw new ValueError(
        `${this}: ${op}() called before forward(); run forward(input) first so the layers have the values their gradients need`,
      );
    }
    const items = this.items;
    const caller = resultStaysInside();
    const keepLast = handedOn || caller;
    const reuse = this.reusesBuffers();
    let g = outputGrad;
    try {
      for (let i = items.length - 1; i >= first; i--) {
        setResultStaysInside(reuse && (i > first || keepLast));
        g = items[i].backward(g);
      }
    } finally {
      setResultStaysInside(caller);
    }
    return keepLast ? g : detached(g);
  }

  /**
   * Whether the layers may pass reused arrays to each other: only when every
   * layer, nested ones included, is one of this package's own classes, whose
   * reads of their input and output gradient are known (see buffers.ts).
   */
  private reusesBuffers(): boolean {
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      const layer = items[i];
      if (!isReusing(layer)) return false;
      if (layer instanceof Sequential && !layer.reusesBuffers()) return false;
    }
    return true;
  }

  /** Gives each parameter its qualified name, so an optimizer's errors and logs say `2.weight`. */
  private nameParameters(): void {
    for (const [name, parameter] of this.namedParameters()) parameter.name = name;
  }
}
