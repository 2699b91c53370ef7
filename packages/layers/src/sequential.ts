import { type NDArray, ValueError, describe } from '@backprop/ndarray';
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
    let x = input;
    for (const layer of this.items) x = layer.forward(x);
    this.outputShape = x.shape;
    return x;
  }

  backward(outputGrad: NDArray): NDArray {
    return this.backwardTo(0, outputGrad, 'backward');
  }

  /** Backward through every layer but the first, which only accumulates its parameters' grads. */
  override backwardParameters(outputGrad: NDArray): void {
    if (this.items.length === 0) return;
    this.items[0].backwardParameters(this.backwardTo(1, outputGrad, 'backwardParameters'));
  }

  /** Runs `backward` from the last layer down to layer `first`; returns the gradient that layer hands back. */
  private backwardTo(first: number, outputGrad: NDArray, op: string): NDArray {
    if (this.outputShape === undefined) {
      throw new ValueError(
        `${this}: ${op}() called before forward(); run forward(input) first so the layers have the values their gradients need`,
      );
    }
    let g = outputGrad;
    for (let i = this.items.length - 1; i >= first; i--) g = this.items[i].backward(g);
    return g;
  }

  /** Gives each parameter its qualified name, so an optimizer's errors and logs say `2.weight`. */
  private nameParameters(): void {
    for (const [name, parameter] of this.namedParameters()) parameter.name = name;
  }
}
