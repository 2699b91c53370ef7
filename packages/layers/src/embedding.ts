import {
  type DType,
  DTypeError,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  Slot,
  ValueError,
  arange,
  checkBoolean,
  checkChoice,
  checkOptions,
  checkRange,
  defaultGenerator,
  describe,
  expandDims,
  fillNormal,
  formatShape,
  indexAdd,
  notEqual,
  take,
  where,
  zeros,
} from '@backprop/ndarray';
import { checkArrayArg, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /**
   * A row whose embedding stays as it is and gets no gradient (a padding
   * token), zeroed at initialisation; negative counts from the end, as torch
   * (−1 is the last row). Default null: none.
   */
  paddingIdx?: number | null;
  /** Weight dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Generator for the initial weights; the global one that `manualSeed` seeds by default. */
  rng?: Generator;
  /** torch's `max_norm` (renormalising rows on lookup): not supported; only null is accepted. */
  maxNorm?: null;
  /** torch's `scale_grad_by_freq`: not supported; only false is accepted. */
  scaleGradByFreq?: false;
  /** torch's `sparse` gradients: not supported; only false is accepted. */
  sparse?: false;
}

/** Options of {@link Embedding.fromPretrained}. */
export interface EmbeddingFromPretrainedOptions {
  /** Keep the table fixed (default true, as torch): it is then a buffer, not a parameter (see {@link Embedding.frozen}). */
  freeze?: boolean;
  /** As {@link EmbeddingOptions.paddingIdx}; the row is not zeroed (torch leaves pretrained values), only kept from the gradient. */
  paddingIdx?: number | null;
  maxNorm?: null;
  scaleGradByFreq?: false;
  sparse?: false;
}

const UNSUPPORTED = ['maxNorm', 'scaleGradByFreq', 'sparse'] as const;
const EMBEDDING_OPTIONS = ['paddingIdx', 'dtype', 'rng', ...UNSUPPORTED] as const;
const PRETRAINED_OPTIONS = ['freeze', 'paddingIdx', ...UNSUPPORTED] as const;

/** How `fromPretrained` hands its table to the constructor without a public option (a symbol key is not an option `checkOptions` sees). */
const PRETRAINED = Symbol('pretrained');
interface PretrainedTable {
  weight: NDArray;
  freeze: boolean;
}

/**
 * A lookup table of learned vectors, as `torch.nn.Embedding(numEmbeddings, embeddingDim, padding_idx)`:
 * row i of `weight` [numEmbeddings, embeddingDim] is the embedding of index i.
 *
 * The input is an int32 array of indices of any shape; the output has that
 * shape plus [embeddingDim]. An index outside [0, numEmbeddings) is an error
 * naming the first one and its position (torch also refuses negatives).
 * Backward adds each output gradient row into the gradient row of its index
 * (`indexAdd`: repeated indices add up), except at `paddingIdx`.
 *
 * Initialisation is torch's: N(0, 1) by `normal_`, then the padding row set to
 * zero, so `manualSeed(s); new Embedding(10, 4)` equals
 * `torch.manual_seed(s); nn.Embedding(10, 4)` bit for bit.
 *
 * Integer indices have no gradient: `backward` must be called with
 * `{ inputGrad: false }`. As the first layer of a `Sequential`, call
 * `model.backward(outputGrad, { inputGrad: false })` (as `trainStep` does).
 *
 * @example
 * const embed = new Embedding(1000, 32, { paddingIdx: 0 });
 * const tokens = array([[5, 9, 0], [7, 7, 2]], { dtype: 'int32' });
 * const vectors = embed.forward(tokens);                  // [2, 3, 32]
 * embed.backward(onesLike(vectors), { inputGrad: false }); // embed.weight.grad: row 7 got two rows of ones
 */
export class Embedding extends NeuralLayer {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding row, normalised to [0, numEmbeddings) as torch stores it, or null. */
  readonly paddingIdx: number | null;
  readonly dtype: DType;
  /**
   * True for a frozen pretrained table: then `weight` is registered as a
   * buffer named `weight` (in `stateDict()`, not in `parameters()`), so an
   * optimizer never updates it; torch keeps a Parameter with
   * `requires_grad=False` instead, which its optimizers skip.
   */
  readonly frozen: boolean;

  readonly #weight: Parameter;
  /** The last input (int32 indices) and output shape, for backward. */
  #input?: NDArray;
  #outputShape?: readonly number[];
  /** Backward's scratch with a padding row: which ids are not it, and the gradient rows with its rows zeroed. */
  readonly #keep = new Slot();
  readonly #rows = new Slot();

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    const op = `Embedding(${describe(numEmbeddings)}, ${describe(embeddingDim)})`;
    checkOptions(op, options, EMBEDDING_OPTIONS);
    checkUnsupported(op, options as Record<string, unknown>);
    this.numEmbeddings = checkSize(op, 'numEmbeddings', numEmbeddings, 1);
    this.embeddingDim = checkSize(op, 'embeddingDim', embeddingDim, 0);
    this.paddingIdx = normalizePaddingIdx(op, options.paddingIdx ?? null, numEmbeddings);
    const pretrained = (options as { [PRETRAINED]?: PretrainedTable })[PRETRAINED];
    if (pretrained === undefined) {
      this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
      this.frozen = false;
      this.#weight = new Parameter(zeros([numEmbeddings, embeddingDim], { dtype: this.dtype }), 'weight');
      this.resetParameters(checkRng(op, options.rng));
    } else {
      this.dtype = pretrained.weight.dtype;
      this.frozen = pretrained.freeze;
      this.#weight = new Parameter(pretrained.weight, 'weight'); // torch uses the given tensor itself, not a copy
    }
    if (this.frozen) this.registerBuffer('weight', this.#weight.value);
    else this.registerParameter('weight', this.#weight);
  }

  /**
   * An embedding whose table is `weight` [numEmbeddings, embeddingDim] (used
   * as it is, not copied, and nothing drawn), as `nn.Embedding.from_pretrained`.
   * With `freeze` (the default) backward leaves it alone and it is not among
   * the parameters.
   *
   * @example const embed = Embedding.fromPretrained(array([[1, 2.3, 3], [4, 5.1, 6.3]]));
   */
  static fromPretrained(weight: NDArray, options: EmbeddingFromPretrainedOptions = {}): Embedding {
    const op = 'Embedding.fromPretrained';
    checkOptions(op, options, PRETRAINED_OPTIONS);
    checkArrayArg(op, 'weight', weight);
    if (weight.ndim !== 2) {
      throw new ShapeError(`${op}: weight must be 2-D [numEmbeddings, embeddingDim], got shape ${formatShape(weight.shape)}`);
    }
    if (weight.dtype !== 'float32' && weight.dtype !== 'float64') {
      throw new DTypeError(`${op}: weight must be float32 or float64, got ${weight.dtype}`);
    }
    const freeze = checkBoolean(op, 'freeze', options.freeze ?? true);
    const { freeze: _, ...rest } = options;
    const table: PretrainedTable = { weight, freeze };
    return new Embedding(weight.shape[0], weight.shape[1], { ...rest, [PRETRAINED]: table } as EmbeddingOptions);
  }

  /** The table [numEmbeddings, embeddingDim]: a parameter, or (frozen) the holder of the buffer `weight`. */
  get weight(): Parameter {
    return this.#weight;
  }

  /** Draws fresh values as torch's `reset_parameters`: N(0, 1), then the padding row zeroed. */
  resetParameters(rng: Generator = defaultGenerator): void {
    fillNormal(this.#weight.value, 0, 1, rng);
    if (this.paddingIdx !== null) {
      // weight[paddingIdx] = 0, through ops: keep every row but the padding one.
      const keep = notEqual(arange(0, this.numEmbeddings, 1, { dtype: 'int32' }).reshape([this.numEmbeddings, 1]), this.paddingIdx);
      where(keep, this.#weight.value, 0, this.#weight.value);
    }
  }

  override get typeName(): string {
    return this.namedAs(Embedding, 'Embedding');
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, padding_idx=${this.paddingIdx}`}`;
  }

  protected override label(): string {
    return `${this.typeName}(${this.numEmbeddings}, ${this.embeddingDim})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    if (input.dtype !== 'int32') {
      throw new DTypeError(
        `${op}: input must be int32 indices into the ${this.numEmbeddings} rows of the table, got dtype ${input.dtype} ` +
          "(convert with .astype('int32'))",
      );
    }
    checkRange(op, 'input', input, 0, this.numEmbeddings - 1, ` (indices into the ${this.numEmbeddings} rows of the embedding table)`);
    const outputShape = [...input.shape, this.embeddingDim];
    const out = take(this.#weight.value, input, 0, this.output(options, outputShape, this.dtype));
    this.#input = input;
    this.#outputShape = outputShape;
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#outputShape, this.dtype);
    if (options?.inputGrad !== false) {
      throw new ValueError(
        `${this.label()}.backward: the input is integer indices, which have no gradient; call backward(outputGrad, { inputGrad: false }) ` +
          '(for a Sequential that starts with an Embedding: model.backward(outputGrad, { inputGrad: false }), as trainStep does)',
      );
    }
    if (this.frozen) return undefined;
    const input = this.#input!;
    let rows = grad;
    if (this.paddingIdx !== null) {
      // The padding row gets nothing: zero the rows of the gradient that point at it (where, not ·0, so NaN stays out).
      const keep = notEqual(input, this.paddingIdx, this.#keep.take(input.shape, 'int32'));
      rows = where(expandDims(keep, -1), grad, 0, this.#rows.take(grad.shape, this.dtype));
    }
    indexAdd(this.#weight.grad, 0, input, rows);
    return undefined;
  }
}

function checkUnsupported(op: string, options: Record<string, unknown>): void {
  const defaults: Record<(typeof UNSUPPORTED)[number], unknown> = { maxNorm: null, scaleGradByFreq: false, sparse: false };
  for (const name of UNSUPPORTED) {
    const value = options[name];
    if (value !== undefined && value !== defaults[name]) {
      throw new ValueError(`${op}: ${name} is not supported (got ${describe(value)}); leave it out (torch's default, ${String(defaults[name])})`);
    }
  }
}

function normalizePaddingIdx(op: string, value: unknown, numEmbeddings: number): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -numEmbeddings || value >= numEmbeddings) {
    throw new ValueError(
      `${op}: paddingIdx must be null or an integer in [${-numEmbeddings}, ${numEmbeddings - 1}] (negative counts from the end), got ${describe(value)}`,
    );
  }
  return value < 0 ? numEmbeddings + value : value;
}
