import {
  type BackwardOptions,
  Embedding,
  LSTM,
  LayerNorm,
  Linear,
  NeuralLayer,
  Sequential,
  Tanh,
  TransformerEncoder,
  TransformerEncoderLayer,
} from '@backprop/layers';
import {
  type DType,
  type Generator,
  type NDArray,
  ShapeError,
  add,
  arange,
  array,
  div,
  log,
  sum,
  take,
  zeros,
} from '@backprop/ndarray';

export const MODEL_NAMES = ['bigram', 'mlp', 'lstm', 'transformer'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Every model reads `blockSize` token ids a row and predicts the next token at each position. */
interface Common {
  vocabSize: number;
  blockSize: number;
}
export type ModelConfig =
  | (Common & { model: 'bigram' })
  | (Common & { model: 'mlp'; context: number; embedDim: number; hidden: number })
  | (Common & { model: 'lstm'; embedDim: number; hidden: number; layers: number })
  | (Common & { model: 'transformer'; embedDim: number; heads: number; layers: number });

/** The sizes each model has unless the config says otherwise (the README measures these). */
export const MODEL_SIZES = {
  bigram: {},
  mlp: { context: 4, embedDim: 24, hidden: 256 },
  lstm: { embedDim: 32, hidden: 128, layers: 1 },
  transformer: { embedDim: 48, heads: 4, layers: 3 },
} as const;

/** A model's configuration with the default sizes. */
export function configFor(model: ModelName, vocabSize: number, blockSize: number): ModelConfig {
  return { model, vocabSize, blockSize, ...MODEL_SIZES[model] } as ModelConfig;
}

/**
 * A character-level language model: `forward(ids)` maps token ids
 * `[B, T]` (int32, T ≤ blockSize) to next-token logits `[B, T, vocabSize]`,
 * where position t sees tokens 0..t only; `backward` adds every parameter's
 * gradient (ids have none).
 */
export abstract class LanguageModel extends NeuralLayer {
  abstract readonly config: ModelConfig;

  protected checkIds(ids: NDArray): void {
    const { blockSize } = this.config;
    if (ids.dtype !== 'int32' || ids.ndim !== 2 || ids.shape[1] > blockSize || ids.shape[1] === 0) {
      throw new ShapeError(
        `${this.config.model}: expected int32 token ids [batch, T] with 1 <= T <= ${blockSize}, got ${ids.dtype} [${ids.shape.join(', ')}]`,
      );
    }
  }

  // Token ids have no gradient: backward adds the parameters' gradients and returns nothing.
  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray): NDArray | undefined {
    this.backwardParams(outputGrad);
    return undefined;
  }

  protected abstract backwardParams(outputGrad: NDArray): void;
}

/**
 * The count baseline: P(next | current) from how often each pair of
 * characters follows in the training names, each count plus one (add-one
 * smoothing). Nothing to train; its logits are the log-probabilities.
 */
export class Bigram extends LanguageModel {
  readonly config: ModelConfig & { model: 'bigram' };
  /** `log_probs[a, b]` = log P(b | a), rows normalised. */
  readonly logProbs: NDArray;

  constructor(config: ModelConfig & { model: 'bigram' }, dtype: DType = 'float32') {
    super();
    this.config = config;
    this.logProbs = this.registerBuffer('log_probs', zeros([config.vocabSize, config.vocabSize], { dtype }));
  }

  /** Sets the table from the pairs (input, target) of `x` and `y` (`[N, T]`, targets −1 ignored). */
  fit(x: NDArray, y: NDArray): this {
    const V = this.config.vocabSize;
    const counts = new Float64Array(V * V).fill(1);
    const xs = x.data as Int32Array;
    const ys = y.data as Int32Array;
    for (let i = 0; i < xs.length; i++) if (ys[i] >= 0) counts[xs[i] * V + ys[i]] += 1;
    const table = array(counts, { shape: [V, V] });
    this.logProbs.data.set(log(div(table, sum(table, 1, true))).data);
    return this;
  }

  forward(ids: NDArray): NDArray {
    this.checkIds(ids);
    return take(this.logProbs, ids);
  }

  protected backwardParams(): void {}
}

/**
 * Bengio et al. (2003): the embeddings of the last `context` characters
 * (the current one first; before the name starts, a blank token of its own,
 * id vocabSize), concatenated, through a tanh hidden layer to the logits.
 * makemore's `MLP`.
 */
export class MLPModel extends LanguageModel {
  readonly config: ModelConfig & { model: 'mlp' };
  readonly wte: Embedding;
  readonly mlp: Sequential;
  private contextShape: readonly number[] = [];

  constructor(config: ModelConfig & { model: 'mlp' }, options: { dtype?: DType; rng?: Generator } = {}) {
    super();
    this.config = config;
    const { vocabSize: V, context: k, embedDim: C, hidden: H } = config;
    this.wte = new Embedding(V + 1, C, options);
    this.mlp = new Sequential(new Linear(k * C, H, options), new Tanh(), new Linear(H, V, options));
  }

  /** The ids of each position's context, `[B, T, k]`: position t, t − 1, …, blank before the start. */
  contextIds(ids: NDArray): NDArray {
    const [B, T] = ids.shape;
    const { context: k, vocabSize: blank } = this.config;
    const src = ids.data as Int32Array;
    const out = new Int32Array(B * T * k);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < k; j++) out[(b * T + t) * k + j] = t - j >= 0 ? src[b * T + t - j] : blank;
      }
    }
    return array(out, { shape: [B, T, k] });
  }

  forward(ids: NDArray): NDArray {
    this.checkIds(ids);
    const [B, T] = ids.shape;
    const embedded = this.wte.forward(this.contextIds(ids)); // [B, T, k, C]
    this.contextShape = embedded.shape;
    return this.mlp.forward(embedded.reshape([B, T, this.config.context * this.config.embedDim]));
  }

  protected backwardParams(outputGrad: NDArray): void {
    const g = this.mlp.backward(outputGrad);
    this.wte.backward(g.reshape(this.contextShape), { inputGrad: false });
  }
}

/** Embeddings, an LSTM over the sequence, a linear head. */
export class LSTMModel extends LanguageModel {
  readonly config: ModelConfig & { model: 'lstm' };
  readonly wte: Embedding;
  readonly lstm: LSTM;
  readonly head: Linear;

  constructor(config: ModelConfig & { model: 'lstm' }, options: { dtype?: DType; rng?: Generator } = {}) {
    super();
    this.config = config;
    const { vocabSize: V, embedDim: C, hidden: H, layers } = config;
    this.wte = new Embedding(V, C, options);
    this.lstm = new LSTM(C, H, { numLayers: layers, batchFirst: true, ...options });
    this.head = new Linear(H, V, options);
  }

  forward(ids: NDArray): NDArray {
    this.checkIds(ids);
    return this.head.forward(this.lstm.forward(this.wte.forward(ids)));
  }

  protected backwardParams(outputGrad: NDArray): void {
    this.wte.backward(this.lstm.backward(this.head.backward(outputGrad)), { inputGrad: false });
  }
}

/**
 * A GPT: token and position embeddings, `layers` pre-LayerNorm blocks of
 * causal multi-head self-attention and a GELU MLP (4 × wider), each around a
 * residual (PyTorch's `TransformerEncoderLayer(norm_first=True,
 * activation='gelu', dropout=0)` with a causal mask), a final LayerNorm and
 * a linear head.
 */
export class TransformerModel extends LanguageModel {
  readonly config: ModelConfig & { model: 'transformer' };
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly encoder: TransformerEncoder;
  readonly head: Linear;
  private positions: NDArray | undefined;

  constructor(config: ModelConfig & { model: 'transformer' }, options: { dtype?: DType; rng?: Generator } = {}) {
    super();
    this.config = config;
    const { vocabSize: V, blockSize: T, embedDim: C, heads, layers } = config;
    this.wte = new Embedding(V, C, options);
    this.wpe = new Embedding(T, C, options);
    const block = new TransformerEncoderLayer(C, heads, {
      dimFeedforward: 4 * C,
      dropout: 0,
      activation: 'gelu',
      batchFirst: true,
      normFirst: true,
      ...options,
    });
    this.encoder = new TransformerEncoder(block, layers, { norm: new LayerNorm(C, { dtype: options.dtype }) });
    this.head = new Linear(C, V, options);
  }

  forward(ids: NDArray): NDArray {
    this.checkIds(ids);
    const T = ids.shape[1];
    if (this.positions?.shape[0] !== T) this.positions = arange(0, T, 1, { dtype: 'int32' });
    const x = add(this.wte.forward(ids), this.wpe.forward(this.positions));
    return this.head.forward(this.encoder.forward(x, { isCausal: true }));
  }

  protected backwardParams(outputGrad: NDArray): void {
    const g = this.encoder.backward(this.head.backward(outputGrad));
    this.wte.backward(g, { inputGrad: false });
    this.wpe.backward(sum(g, 0), { inputGrad: false }); // positions broadcast over the batch
  }
}

/**
 * How many numbers a model of `config` holds (its parameters, and the
 * bigram's table), computed from the config alone: what a model file must
 * hold before the app builds the model it describes.
 */
export function stateSize(config: ModelConfig): number {
  const { vocabSize: V } = config;
  switch (config.model) {
    case 'bigram':
      return V * V;
    case 'mlp': {
      const { context: k, embedDim: C, hidden: H } = config;
      return (V + 1) * C + (k * C * H + H) + (H * V + V);
    }
    case 'lstm': {
      const { embedDim: C, hidden: H, layers } = config;
      let lstm = 0;
      for (let layer = 0; layer < layers; layer++) lstm += 4 * H * ((layer === 0 ? C : H) + H) + 8 * H;
      return V * C + lstm + H * V + V;
    }
    case 'transformer': {
      const { blockSize: T, embedDim: C, layers } = config;
      // Per block: attention (in_proj 3C² + 3C, out_proj C² + C), MLP (C·4C + 4C, 4C·C + C), two LayerNorms (4C).
      const block = 4 * C * C + 4 * C + 8 * C * C + 5 * C + 4 * C;
      return V * C + T * C + layers * block + 2 * C + C * V + V;
    }
  }
}

/** Builds the model a config describes; `rng` draws its initial weights as torch's `manual_seed` would. */
export function buildModel(config: ModelConfig, options: { dtype?: DType; rng?: Generator } = {}): LanguageModel {
  switch (config.model) {
    case 'bigram':
      return new Bigram(config, options.dtype);
    case 'mlp':
      return new MLPModel(config, options);
    case 'lstm':
      return new LSTMModel(config, options);
    case 'transformer':
      return new TransformerModel(config, options);
  }
}
