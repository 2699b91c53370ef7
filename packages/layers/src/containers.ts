/**
 * Composition beyond a chain: `ModuleList` and `ModuleDict` hold named
 * children for a layer that wires them itself, and `Residual` adds a block's
 * output to its input. A layer that owns children (a transformer block, a
 * ResNet block) is an ordinary `NeuralLayer` subclass whose properties are
 * its children: its `forward` calls theirs, its `backward` calls their
 * `backward`s in reverse order and adds the gradients where paths joined (see
 * the layers README for a GPT block and a ResNet basic block).
 */
import { type NDArray, ShapeError, ValueError, add, describe, formatShape, shapesEqual } from '@backprop/ndarray';
import { checkArrayArg, checkOutputGrad } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';

/** Throws unless `layer` is a NeuralLayer not already in `held`. */
function checkChild(op: string, what: string, layer: unknown, held: Iterable<NeuralLayer>): NeuralLayer {
  if (!(layer instanceof NeuralLayer)) throw new ValueError(`${op}: ${what} must be a NeuralLayer, got ${describe(layer)}`);
  for (const other of held) {
    if (other === layer) {
      throw new ValueError(
        `${op}: ${what} (${layer.typeName}) is already in the container; a layer caches its last forward pass, so each instance can appear once: create another`,
      );
    }
  }
  return layer;
}

/** What a container says when it is run as a layer: torch's ModuleList and ModuleDict have no forward either. */
function noForward(name: string): never {
  throw new ValueError(
    `${name} is a container of layers and has no forward or backward of its own: call its layers from the forward and backward of the layer that holds it`,
  );
}

/**
 * Layers in a list, as `torch.nn.ModuleList`: children named by position
 * (`blocks.0.attn.in_proj_weight` when held as `blocks`), printed as torch
 * prints them, with no forward of its own: the layer holding it runs them.
 *
 * @example
 * class Stack extends NeuralLayer {
 *   blocks = new ModuleList([new Linear(8, 8), new Linear(8, 8)]);
 *   forward(x: NDArray) { for (const block of this.blocks) x = block.forward(x); return x; }
 *   backward(g: NDArray) { for (const block of [...this.blocks].reverse()) g = block.backward(g); return g; }
 * }
 */
export class ModuleList extends NeuralLayer implements Iterable<NeuralLayer> {
  readonly #items: NeuralLayer[] = [];

  constructor(layers: Iterable<NeuralLayer> = []) {
    super();
    for (const layer of layers) this.append(layer);
  }

  override get typeName(): string {
    return this.namedAs(ModuleList, 'ModuleList');
  }

  /** The number of layers, as `len(module_list)`. */
  get length(): number {
    return this.#items.length;
  }

  /** The layers, in order (read-only; add with `append`). */
  get layers(): readonly NeuralLayer[] {
    return this.#items;
  }

  /** Layer `index`; a negative index counts from the end, as Python's. */
  at(index: number): NeuralLayer {
    const n = this.#items.length;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new ValueError(`ModuleList.at: index ${describe(index)} is out of range for a list of ${n} layer(s)`);
    }
    return this.#items[index < 0 ? index + n : index];
  }

  /** Adds a layer at the end, named by its position; returns this. */
  append(layer: NeuralLayer): this {
    const index = this.#items.length;
    this.#items.push(checkChild('ModuleList.append', `layer ${index}`, layer, this.#items));
    this.registerLayer(String(index), layer);
    return this;
  }

  [Symbol.iterator](): Iterator<NeuralLayer> {
    return this.#items[Symbol.iterator]();
  }

  forward(): NDArray {
    return noForward('ModuleList');
  }
  backward(): NDArray {
    return noForward('ModuleList');
  }
}

/**
 * Layers by name, as `torch.nn.ModuleDict`: children named by key
 * (`heads.digits.weight` when held as `heads`), in insertion order, with no
 * forward of its own.
 *
 * @example
 * heads = new ModuleDict({ digits: new Linear(64, 10), parity: new Linear(64, 2) });
 * this.heads.get('digits').forward(features);
 */
export class ModuleDict extends NeuralLayer {
  readonly #items = new Map<string, NeuralLayer>();

  constructor(layers: Readonly<Record<string, NeuralLayer>> = {}) {
    super();
    if (layers === null || typeof layers !== 'object' || Array.isArray(layers)) {
      throw new ValueError(`ModuleDict: expected a record of layers keyed by name, got ${describe(layers)}`);
    }
    for (const [key, layer] of Object.entries(layers)) this.set(key, layer);
  }

  override get typeName(): string {
    return this.namedAs(ModuleDict, 'ModuleDict');
  }

  /** The number of layers, as `len(module_dict)`. */
  get size(): number {
    return this.#items.size;
  }

  /** The layer under `key`; an unknown key is an error naming the keys there are. */
  get(key: string): NeuralLayer {
    const layer = this.#items.get(key);
    if (layer === undefined) {
      throw new ValueError(`ModuleDict.get: no layer named ${describe(key)}; the keys are ${[...this.#items.keys()].join(', ') || '(none)'}`);
    }
    return layer;
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  /** Adds a layer under a new key (the child's name in the state dict); returns this. */
  set(key: string, layer: NeuralLayer): this {
    if (this.#items.has(key)) throw new ValueError(`ModuleDict.set: the key ${describe(key)} is already taken`);
    if (typeof key === 'string' && key in this) {
      // torch: KeyError "attribute 'training' already exists"; a key must not hide a property or method.
      throw new ValueError(`ModuleDict.set: the key ${describe(key)} is a property of ModuleDict itself; choose another`);
    }
    checkChild('ModuleDict.set', `layer ${describe(key)}`, layer, this.#items.values());
    this.registerLayer(key, layer);
    this.#items.set(key, layer);
    return this;
  }

  keys(): IterableIterator<string> {
    return this.#items.keys();
  }
  values(): IterableIterator<NeuralLayer> {
    return this.#items.values();
  }
  entries(): IterableIterator<[string, NeuralLayer]> {
    return this.#items.entries();
  }

  forward(): NDArray {
    return noForward('ModuleDict');
  }
  backward(): NDArray {
    return noForward('ModuleDict');
  }
}

/**
 * y = x + block(x): a skip connection around any layer whose output has its
 * input's shape. Backward is the sum of the two paths, dx = g + block′(g); the
 * block is the child `block` (so its parameters are `block.0.weight` and so on).
 *
 * @example
 * const model = new Sequential(new Linear(4, 16), new Residual(new Sequential(new LayerNorm(16), new Linear(16, 16), new GELU())));
 */
export class Residual extends NeuralLayer {
  readonly block: NeuralLayer;
  #shape?: readonly number[];
  #dtype?: NDArray['dtype'];

  constructor(block: NeuralLayer) {
    super();
    this.block = checkChild('Residual', 'block', block, []);
  }

  override get typeName(): string {
    return this.namedAs(Residual, 'Residual');
  }

  protected override label(): string {
    return `Residual(${this.block.typeName})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    checkArrayArg(this.label(), 'input', input);
    const branch = this.block.forward(input);
    if (!shapesEqual(branch.shape, input.shape)) {
      throw new ShapeError(
        `${this.label()}: the block maps an input of shape ${formatShape(input.shape)} to ${formatShape(branch.shape)}; a residual connection needs the same shape`,
      );
    }
    this.#shape = input.shape;
    this.#dtype = input.dtype;
    return add(input, branch, this.output(options, input.shape, input.dtype));
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#shape, this.#dtype ?? 'float32');
    const inputGrad = options?.inputGrad ?? true;
    const branch = this.block.backward(grad, { inputGrad });
    if (!inputGrad) return undefined;
    return add(grad, branch as NDArray, this.output(options, grad.shape, grad.dtype));
  }
}
