/**
 * The transformer encoder of "Attention Is All You Need", as torch.nn's
 * `TransformerEncoderLayer` and `TransformerEncoder`: composite layers whose
 * children carry torch's attribute names, so a torch state dict loads as is.
 */
import {
  type DType,
  type FloatArray,
  type Generator,
  type NDArray,
  ShapeError,
  Slot,
  ValueError,
  add,
  checkBoolean,
  checkChoice,
  checkNumber,
  checkOptions,
  describe,
  formatShape,
} from '@backprop/ndarray';
import { GELU, ReLU } from './activations';
import { MultiheadAttention } from './attention';
import { checkArrayArg, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { ModuleList } from './containers';
import { Dropout } from './dropout';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { Linear } from './linear';
import { LayerNorm } from './normalization';

/** The activations {@link TransformerEncoderLayer} takes by name, as torch's string `activation`. */
export type TransformerActivation = 'relu' | 'gelu';

/** Options of {@link TransformerEncoderLayer}, as torch's keyword arguments. */
export interface TransformerEncoderLayerOptions {
  /** The feedforward network's hidden width (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability of the attention weights and the three Dropout children in training mode (default 0.1). */
  dropout?: number;
  /** The feedforward network's activation: 'relu' (default) or 'gelu' (exact, erf). */
  activation?: TransformerActivation;
  /** Both LayerNorms' eps (default 1e-5). */
  layerNormEps?: number;
  /** Input and output [N, L, E] instead of torch's default [L, N, E]. */
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before attention and feedforward) instead of post-norm (default false, as torch). */
  normFirst?: boolean;
  /** Biases in every Linear, LayerNorm and the attention (default true); `false` is torch ≥ 2.1's `bias=False`. */
  bias?: boolean;
  /** Parameter dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Generator for the initial weights and the dropout masks; the global one (`manualSeed`) by default. */
  rng?: Generator;
}

const LAYER_OPTIONS = ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst', 'bias', 'dtype', 'rng'] as const;

/** Options of {@link TransformerEncoderLayer.forward} and {@link TransformerEncoder.forward}, as torch's `forward` arguments. */
export interface TransformerEncoderForwardOptions extends ForwardOptions {
  /**
   * torch's `src_mask`: the self-attention's `attnMask`, [L, L] or
   * [N·nhead, L, L]; int32 1 = not allowed to attend, or a float mask added
   * to the scores (`generate_square_subsequent_mask`'s −∞ above the diagonal).
   */
  mask?: NDArray;
  /** torch's `src_key_padding_mask`: [N, L] (unbatched [L]); int32 1 = padding, or a float mask added to the scores. */
  srcKeyPaddingMask?: NDArray;
  /**
   * Each position attends to itself and the positions before it (torch 2's
   * `is_causal`; here the mask is applied, not a hint). Not together with `mask`.
   */
  isCausal?: boolean;
}

const FORWARD_OPTIONS = ['into', 'mask', 'srcKeyPaddingMask', 'isCausal'] as const;

/**
 * One encoder layer, as `torch.nn.TransformerEncoderLayer(dModel, nhead,
 * dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
 * norm_first)`: self-attention and a feedforward network
 * ff(x) = linear2(dropout(activation(linear1(x)))), each with a residual
 * connection and a LayerNorm.
 *
 * - post-norm (default): x = norm1(x + dropout1(sa(x))); x = norm2(x + dropout2(ff(x)))
 * - pre-norm (`normFirst`): x = x + dropout1(sa(norm1(x))); x = x + dropout2(ff(norm2(x)))
 *
 * Shapes: [L, N, dModel] ([N, L, dModel] with `batchFirst`) or unbatched
 * [L, dModel]; the output has the input's shape. The children are torch's,
 * created in torch's order (so the same seed gives torch's initial weights):
 * `self_attn` (MultiheadAttention), `linear1`, `dropout`, `linear2`, `norm1`,
 * `norm2`, `dropout1`, `dropout2`; the state-dict keys are torch's
 * (`self_attn.in_proj_weight`, `linear1.weight`, `norm2.bias`, ...). The
 * activation is a function in torch, not a child, and here too.
 *
 * Backward runs the children's backward passes in reverse; each residual
 * adds the gradient that skips its branch to the one through it.
 *
 * @example
 * const layer = new TransformerEncoderLayer(64, 4, { dimFeedforward: 256, dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true });
 * const y = layer.forward(x, { isCausal: true });   // x, y: [N, L, 64]
 * const dx = layer.backward(outputGrad);
 */
export class TransformerEncoderLayer extends NeuralLayer {
  readonly dModel: number;
  readonly nhead: number;
  readonly dimFeedforward: number;
  readonly activation: TransformerActivation;
  readonly batchFirst: boolean;
  readonly normFirst: boolean;
  readonly dtype: DType;
  /** Where the initial weights came from, and the dropout masks come from. */
  readonly rng: Generator;

  // Children, in torch's order of creation (that order is the order of the draws and of the state dict).
  declare readonly self_attn: MultiheadAttention;
  declare readonly linear1: Linear;
  declare readonly dropout: Dropout;
  declare readonly linear2: Linear;
  declare readonly norm1: LayerNorm;
  declare readonly norm2: LayerNorm;
  declare readonly dropout1: Dropout;
  declare readonly dropout2: Dropout;

  /** The activation as a layer of its own (a private field: not a child, as torch's function is not). */
  readonly #activation: ReLU | GELU;
  /** The options it was created with (but rng), for {@link clone}. */
  readonly #config: Omit<TransformerEncoderLayerOptions, 'rng'>;
  #pass?: { shape: readonly number[] };

  // What passes between the children, kept from call to call (a steady step allocates only what it returns).
  readonly #norm1Out = new Slot();
  readonly #attnOut = new Slot();
  readonly #drop1Out = new Slot();
  readonly #residual1 = new Slot();
  readonly #norm2Out = new Slot();
  readonly #linear1Out = new Slot();
  readonly #activationOut = new Slot();
  readonly #dropoutOut = new Slot();
  readonly #linear2Out = new Slot();
  readonly #drop2Out = new Slot();
  readonly #residual2 = new Slot();
  readonly #grads = Array.from({ length: 10 }, () => new Slot());

  constructor(dModel: number, nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    const op = `TransformerEncoderLayer(${describe(dModel)}, ${describe(nhead)})`;
    checkOptions(op, options, LAYER_OPTIONS);
    this.dModel = checkSize(op, 'dModel', dModel, 1);
    this.nhead = checkSize(op, 'nhead', nhead, 1);
    if (dModel % nhead !== 0) {
      throw new ValueError(`${op}: dModel (${dModel}) must be divisible by nhead (${nhead}); each head gets dModel / nhead features`);
    }
    this.dimFeedforward = checkSize(op, 'dimFeedforward', orDefault(options.dimFeedforward, 2048), 1);
    const p = checkNumber(op, 'dropout', orDefault(options.dropout, 0.1), { min: 0, max: 1 });
    this.activation = checkChoice(op, 'activation', orDefault(options.activation, 'relu'), ['relu', 'gelu'] as const);
    const eps = checkNumber(op, 'layerNormEps', orDefault(options.layerNormEps, 1e-5), { min: 0 });
    this.batchFirst = checkBoolean(op, 'batchFirst', orDefault(options.batchFirst, false));
    this.normFirst = checkBoolean(op, 'normFirst', orDefault(options.normFirst, false));
    const bias = checkBoolean(op, 'bias', orDefault(options.bias, true));
    this.dtype = checkChoice(op, 'dtype', orDefault(options.dtype, 'float32'), ['float32', 'float64'] as const);
    this.rng = checkRng(op, options.rng);
    this.#config = {
      dimFeedforward: this.dimFeedforward,
      dropout: p,
      activation: this.activation,
      layerNormEps: eps,
      batchFirst: this.batchFirst,
      normFirst: this.normFirst,
      bias,
      dtype: this.dtype,
    };
    const { dtype, rng } = this;
    this.registerLayer('self_attn', new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst: this.batchFirst, bias, dtype, rng }));
    this.registerLayer('linear1', new Linear(dModel, this.dimFeedforward, { bias, dtype, rng }));
    this.registerLayer('dropout', new Dropout(p, { rng }));
    this.registerLayer('linear2', new Linear(this.dimFeedforward, dModel, { bias, dtype, rng }));
    this.registerLayer('norm1', new LayerNorm(dModel, { eps, bias, dtype }));
    this.registerLayer('norm2', new LayerNorm(dModel, { eps, bias, dtype }));
    this.registerLayer('dropout1', new Dropout(p, { rng }));
    this.registerLayer('dropout2', new Dropout(p, { rng }));
    this.#activation = this.activation === 'relu' ? new ReLU() : new GELU();
  }

  override get typeName(): string {
    return this.namedAs(TransformerEncoderLayer, 'TransformerEncoderLayer');
  }

  protected override label(): string {
    return `${this.typeName}(${this.dModel}, ${this.nhead})`;
  }

  /**
   * A new layer of the same configuration holding a copy of this one's
   * current parameters, drawing nothing from the generator while it is
   * built, its dropout drawing from the same generator afterwards: what
   * torch's `copy.deepcopy(layer)` gives {@link TransformerEncoder}.
   */
  clone(): TransformerEncoderLayer {
    const muted = new MutedGenerator(this.rng);
    const copy = new TransformerEncoderLayer(this.dModel, this.nhead, { ...this.#config, rng: muted });
    muted.muted = false;
    (copy as { rng: Generator }).rng = this.rng;
    copy.loadStateDict(this.stateDict());
    copy.train(this.training);
    return copy;
  }

  forward(input: NDArray, options: TransformerEncoderForwardOptions = {}): NDArray {
    const op = this.label();
    checkOptions(op, options, FORWARD_OPTIONS);
    const x = checkArrayArg(op, 'input', input);
    const E = this.dModel;
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== E) {
      const layout = this.batchFirst ? `[N, L, ${E}]` : `[L, N, ${E}]`;
      throw new ShapeError(`${op}: input has shape ${formatShape(x.shape)}; expected ${layout} or unbatched [L, ${E}]`);
    }
    checkDTypeMatch(op, 'input', x, this.dtype);
    if (options.mask !== undefined && options.isCausal === true) {
      // torch 2 takes is_causal as a hint about the mask; here it applies the mask itself, so one of them is enough.
      throw new ValueError(`${op}: give mask or isCausal, not both (isCausal applies the causal mask itself)`);
    }
    const attnOptions = { attnMask: options.mask, keyPaddingMask: options.srcKeyPaddingMask, isCausal: options.isCausal };
    const { shape } = x;
    const dtype = this.dtype;
    let out: NDArray;
    if (this.normFirst) {
      const n1 = this.norm1.forward(x, { into: this.#norm1Out });
      const h = add(x, this.selfAttention(n1, attnOptions), this.#residual1.take(shape, dtype));
      const n2 = this.norm2.forward(h, { into: this.#norm2Out });
      out = add(h, this.feedforward(n2), this.output(options, shape, dtype));
    } else {
      const h = add(x, this.selfAttention(x, attnOptions), this.#residual1.take(shape, dtype));
      const n1 = this.norm1.forward(h, { into: this.#norm1Out });
      const h2 = add(n1, this.feedforward(n1), this.#residual2.take(shape, dtype));
      out = this.norm2.forward(h2, { into: options.into });
    }
    this.#pass = { shape };
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const g = checkOutputGrad(this.label(), outputGrad, this.#pass?.shape, this.dtype);
    const inputGrad = options?.inputGrad ?? true;
    const { shape } = g;
    const dtype = this.dtype;
    const slots = this.#grads;
    if (this.normFirst) {
      // out = h + ff(norm2(h)): the gradient at h skips the branch and runs through it.
      const gn2 = this.norm2.backward(this.feedforwardBackward(g), { into: slots[0] }) as NDArray;
      const gh = add(g, gn2, slots[1].take(shape, dtype));
      // h = x + sa(norm1(x)).
      const gn1 = this.norm1.backward(this.selfAttentionBackward(gh, true) as NDArray, { inputGrad, into: slots[2] });
      if (!inputGrad) return undefined;
      return add(gh, gn1 as NDArray, this.output(options, shape, dtype));
    }
    // out = norm2(n1 + ff(n1)), n1 = norm1(x + sa(x)).
    const gh2 = this.norm2.backward(g, { into: slots[0] }) as NDArray;
    const gn1 = add(gh2, this.feedforwardBackward(gh2), slots[1].take(shape, dtype));
    const gh = this.norm1.backward(gn1, { into: slots[2] }) as NDArray;
    const gsa = this.selfAttentionBackward(gh, inputGrad);
    if (!inputGrad) return undefined;
    return add(gh, gsa as NDArray, this.output(options, shape, dtype));
  }

  /** dropout1(self_attn(x, x, x)). */
  private selfAttention(x: NDArray, attnOptions: { attnMask?: NDArray; keyPaddingMask?: NDArray; isCausal?: boolean }): NDArray {
    const attended = this.self_attn.forward(x, { ...attnOptions, into: this.#attnOut });
    return this.dropout1.forward(attended, { into: this.#drop1Out });
  }

  private selfAttentionBackward(g: NDArray, inputGrad: boolean): NDArray | undefined {
    const slots = this.#grads;
    const ga = this.dropout1.backward(g, { into: slots[3] }) as NDArray;
    return this.self_attn.backward(ga, { inputGrad, into: slots[4] });
  }

  /** dropout2(linear2(dropout(activation(linear1(x))))). */
  private feedforward(x: NDArray): NDArray {
    const f1 = this.linear1.forward(x, { into: this.#linear1Out });
    const a = this.#activation.forward(f1, { into: this.#activationOut });
    const d = this.dropout.forward(a, { into: this.#dropoutOut });
    const f2 = this.linear2.forward(d, { into: this.#linear2Out });
    return this.dropout2.forward(f2, { into: this.#drop2Out });
  }

  private feedforwardBackward(g: NDArray): NDArray {
    const slots = this.#grads;
    const g2 = this.dropout2.backward(g, { into: slots[5] }) as NDArray;
    const gd = this.linear2.backward(g2, { into: slots[6] }) as NDArray;
    const ga = this.dropout.backward(gd, { into: slots[7] }) as NDArray;
    const gf1 = this.#activation.backward(ga, { into: slots[8] }) as NDArray;
    return this.linear1.backward(gf1, { into: slots[9] }) as NDArray;
  }
}

/** Options of {@link TransformerEncoder}. */
export interface TransformerEncoderOptions {
  /** A LayerNorm applied after the last layer (torch's `norm`), under `norm.` in the state dict; none by default. */
  norm?: LayerNorm | null;
}

/**
 * A stack of `numLayers` encoder layers, as `torch.nn.TransformerEncoder(encoderLayer, numLayers, norm)`:
 * the layers are copies of `encoderLayer` with its weights (torch deep-copies
 * it, so every layer starts from the same values; `encoderLayer` itself is
 * not part of the stack), named `layers.0.…`, `layers.1.…`, then the optional
 * final `norm`. `forward` passes its masks to every layer.
 *
 * @example
 * const layer = new TransformerEncoderLayer(64, 4, { dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true });
 * const encoder = new TransformerEncoder(layer, 2, { norm: new LayerNorm(64) });
 * const y = encoder.forward(x, { isCausal: true });
 */
export class TransformerEncoder extends NeuralLayer {
  readonly numLayers: number;
  declare readonly layers: ModuleList;
  declare readonly norm: LayerNorm | null;

  /** The arrays between the layers (and before the norm), and their gradients. */
  readonly #outputs: Slot[];
  readonly #grads: Slot[];
  #pass?: { shape: readonly number[]; dtype: DType };

  constructor(encoderLayer: TransformerEncoderLayer, numLayers: number, options: TransformerEncoderOptions = {}) {
    super();
    const op = `TransformerEncoder(${encoderLayer instanceof TransformerEncoderLayer ? 'TransformerEncoderLayer' : describe(encoderLayer)}, ${describe(numLayers)})`;
    checkOptions(op, options, ['norm']);
    if (!(encoderLayer instanceof TransformerEncoderLayer)) {
      throw new ValueError(`${op}: encoderLayer must be a TransformerEncoderLayer, got ${describe(encoderLayer)}`);
    }
    if (Object.getPrototypeOf(encoderLayer) !== TransformerEncoderLayer.prototype) {
      // clone() rebuilds a TransformerEncoderLayer from its options; a subclass's copies would silently lose what it adds.
      throw new ValueError(
        `${op}: encoderLayer is a ${encoderLayer.constructor.name}, a subclass of TransformerEncoderLayer, which cannot be copied; stack your layers in a ModuleList instead`,
      );
    }
    this.numLayers = checkSize(op, 'numLayers', numLayers, 1);
    const norm = options.norm ?? null;
    if (norm !== null && !(norm instanceof LayerNorm)) throw new ValueError(`${op}: norm must be a LayerNorm or null, got ${describe(norm)}`);
    if (norm !== null && (norm.normalizedShape.length !== 1 || norm.normalizedShape[0] !== encoderLayer.dModel || norm.dtype !== encoderLayer.dtype)) {
      throw new ValueError(
        `${op}: norm is ${norm}, ${norm.dtype}; expected a LayerNorm over the layers' dModel (${encoderLayer.dModel}), ${encoderLayer.dtype}`,
      );
    }
    this.registerLayer('layers', new ModuleList(Array.from({ length: numLayers }, () => encoderLayer.clone())));
    Object.defineProperty(this, 'norm', { value: norm, enumerable: true, writable: true, configurable: true });
    this.#outputs = Array.from({ length: numLayers }, () => new Slot());
    this.#grads = Array.from({ length: numLayers }, () => new Slot());
  }

  override get typeName(): string {
    return this.namedAs(TransformerEncoder, 'TransformerEncoder');
  }

  protected override label(): string {
    return `${this.typeName}(${this.numLayers} layers)`;
  }

  /** The encoder layers, in order. */
  private get stack(): TransformerEncoderLayer[] {
    return this.layers.layers as TransformerEncoderLayer[];
  }

  forward(input: NDArray, options: TransformerEncoderForwardOptions = {}): NDArray {
    const op = this.label();
    checkOptions(op, options, FORWARD_OPTIONS);
    checkArrayArg(op, 'input', input);
    const { into, ...masks } = options;
    const stack = this.stack;
    let x = input;
    stack.forEach((layer, i) => {
      const last = i === stack.length - 1 && this.norm === null;
      x = layer.forward(x, { ...masks, into: last ? into : this.#outputs[i] });
    });
    if (this.norm !== null) x = this.norm.forward(x, { into });
    this.#pass = { shape: x.shape, dtype: x.dtype };
    return x;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    let g = checkOutputGrad(this.label(), outputGrad, this.#pass?.shape, this.#pass?.dtype ?? 'float32');
    const inputGrad = options?.inputGrad ?? true;
    const stack = this.stack;
    const n = stack.length;
    if (this.norm !== null) g = this.norm.backward(g, { into: this.#grads[n - 1] }) as NDArray;
    for (let i = n - 1; i > 0; i--) g = stack[i].backward(g, { into: this.#grads[i - 1] }) as NDArray;
    return stack[0].backward(g, { inputGrad, into: options?.into });
  }
}

/** `value`, or `fallback` when the option is absent (undefined only: null is a bad value, and the check says so). */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/** Forwards to `inner`, or fills with `low` / the mean while muted: builds a layer whose values are replaced anyway. */
class MutedGenerator implements Generator {
  muted = true;
  constructor(private readonly inner: Generator) {}
  uniform(out: FloatArray, low: number, high: number): void {
    if (this.muted) out.fill(low);
    else this.inner.uniform(out, low, high);
  }
  normal(out: FloatArray, mean: number, std: number): void {
    if (this.muted) out.fill(mean);
    else this.inner.normal(out, mean, std);
  }
  randint(n: number): number {
    return this.muted ? 0 : this.inner.randint(n);
  }
}
