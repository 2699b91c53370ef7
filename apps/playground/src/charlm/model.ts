/**
 * The character-level transformer, as apps/charlm builds it
 * (`TransformerModel` of its `src/models.ts`), and the reading of a model
 * file written by `pnpm charlm` (`decodeModel` of its `src/io.ts`), for
 * transformers only. Re-created from the packages because an app never
 * imports another app; the state-dict names are the app's (and torch's), so
 * the app's `model.safetensors` loads here unchanged.
 */
import {
  type BackwardOptions,
  Embedding,
  LayerNorm,
  Linear,
  NeuralLayer,
  StateDictError,
  TransformerEncoder,
  TransformerEncoderLayer,
} from '@backprop/layers';
import { type DType, type Generator, type NDArray, SafetensorsError, ShapeError, add, arange, decodeSafetensors, sum } from '@backprop/ndarray';
import { NamesDataError, Vocabulary } from '@backprop/data/names';

/** apps/charlm's `ModelConfig` of a transformer. */
export interface TransformerConfig {
  model: 'transformer';
  vocabSize: number;
  blockSize: number;
  embedDim: number;
  heads: number;
  layers: number;
}

/**
 * A GPT: token and position embeddings, `layers` pre-LayerNorm blocks of
 * causal multi-head self-attention and a GELU MLP 4 × wider (torch's
 * `TransformerEncoderLayer(norm_first=True, activation='gelu', dropout=0)`
 * with a causal mask), a final LayerNorm and a linear head. `forward` maps
 * int32 ids `[B, T]` (T ≤ blockSize) to logits `[B, T, vocabSize]`.
 *
 * @example
 * const model = new TransformerModel({ model: 'transformer', vocabSize: 27, blockSize: 16, embedDim: 32, heads: 4, layers: 2 }, { rng });
 * const logits = model.forward(ids); // [B, T, 27]
 */
export class TransformerModel extends NeuralLayer {
  readonly config: TransformerConfig;
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly encoder: TransformerEncoder;
  readonly head: Linear;
  private positions: NDArray | undefined;

  constructor(config: TransformerConfig, options: { dtype?: DType; rng?: Generator } = {}) {
    super();
    this.config = { ...config };
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
    const { blockSize } = this.config;
    if (ids.dtype !== 'int32' || ids.ndim !== 2 || ids.shape[1] > blockSize || ids.shape[1] === 0) {
      throw new ShapeError(`transformer: expected int32 token ids [batch, T] with 1 <= T <= ${blockSize}, got ${ids.dtype} [${ids.shape.join(', ')}]`);
    }
    const T = ids.shape[1];
    if (this.positions?.shape[0] !== T) this.positions = arange(0, T, 1, { dtype: 'int32' });
    const x = add(this.wte.forward(ids), this.wpe.forward(this.positions));
    return this.head.forward(this.encoder.forward(x, { isCausal: true }));
  }

  // Token ids have no gradient: backward adds the parameters' gradients and returns nothing.
  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray): NDArray | undefined {
    const g = this.encoder.backward(this.head.backward(outputGrad));
    this.wte.backward(g, { inputGrad: false });
    this.wpe.backward(sum(g, 0), { inputGrad: false }); // positions broadcast over the batch
    return undefined;
  }
}

/** A model file the page cannot sample from; the message says why. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** apps/charlm's bounds on a file's configuration (its io.ts). */
const BOUNDS: Record<string, [number, number]> = {
  vocabSize: [2, 1024],
  blockSize: [2, 1024],
  embedDim: [1, 4096],
  heads: [1, 64],
  layers: [1, 64],
};
const MODELS = ['bigram', 'mlp', 'lstm', 'transformer'];

/** A transformer configuration read from a file (apps/charlm's `parseConfig`); the app's other models are refused by name. */
export function parseTransformerConfig(value: unknown): TransformerConfig {
  const record = value as Record<string, unknown> | null;
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new ModelFileError(`config must be a JSON object, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  if (record.model !== 'transformer') {
    throw new ModelFileError(
      MODELS.includes(record.model as string)
        ? `this page samples from transformers only; the file holds a ${record.model} model (write one with pnpm charlm --model transformer)`
        : `config.model must be 'transformer', got ${JSON.stringify(record.model)}`,
    );
  }
  const config: Record<string, unknown> = { model: 'transformer' };
  for (const [field, [min, max]] of Object.entries(BOUNDS)) {
    const n = record[field];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ModelFileError(`config.${field} of a transformer must be an integer from ${min} to ${max}, got ${JSON.stringify(n)}`);
    }
    config[field] = n;
  }
  const extra = Object.keys(record).filter((key) => !(key in config));
  if (extra.length > 0) throw new ModelFileError(`config of a transformer has unknown fields ${extra.join(', ')}`);
  if ((config.embedDim as number) % (config.heads as number) !== 0) {
    throw new ModelFileError(`config.embedDim (${config.embedDim}) must be divisible by config.heads (${config.heads})`);
  }
  return config as unknown as TransformerConfig;
}

function metadataJson(meta: Record<string, string>, key: string): unknown {
  const text = meta[key];
  if (text === undefined) throw new ModelFileError(`the file's metadata has no '${key}'; is it a model written by pnpm charlm?`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelFileError(`the metadata's '${key}' is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

/** A transformer and its vocabulary read from a model file. */
export interface LoadedModel {
  model: TransformerModel;
  vocab: Vocabulary;
  /** The rest of the metadata (the app's recipe, seed, losses…), as written. */
  extra: Record<string, string>;
}

/**
 * Reads the safetensors bytes `pnpm charlm` writes (`model.safetensors`:
 * the weights under torch's names, metadata `config` and `vocab` as JSON)
 * into a transformer in eval mode. Anything else (not safetensors, no
 * metadata, another model, weights that do not fit) is a {@link ModelFileError}
 * saying what is wrong.
 */
export function decodeModel(bytes: Uint8Array): LoadedModel {
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new ModelFileError(`not a safetensors file: ${error.message.replace('decodeSafetensors: ', '')}`);
    throw error;
  }
  const meta = decoded.metadata ?? {};
  const config = parseTransformerConfig(metadataJson(meta, 'config'));
  const chars = metadataJson(meta, 'vocab');
  let vocab: Vocabulary;
  try {
    if (!Array.isArray(chars) || chars.some((c) => typeof c !== 'string')) throw new NamesDataError('it is not an array of characters');
    vocab = new Vocabulary(chars);
  } catch (error) {
    if (!(error instanceof NamesDataError)) throw error;
    throw new ModelFileError(`the metadata's vocab is not a vocabulary (${error.message}), got ${meta.vocab.slice(0, 80)}`);
  }
  if (vocab.size !== config.vocabSize) {
    throw new ModelFileError(`the vocabulary has ${vocab.size} characters but config.vocabSize is ${config.vocabSize}`);
  }
  const dtypes = new Set(Object.values(decoded.tensors).map((t) => t.dtype));
  if (dtypes.size !== 1 || dtypes.has('int32')) throw new ModelFileError(`the weights must be all float32 or all float64, got ${[...dtypes].join(', ') || 'none'}`);
  // The config decides what the model allocates: the file must hold that many weights (2 bytes each at least) before any is allocated.
  const { vocabSize: V, blockSize: T, embedDim: C, layers } = config;
  const weights = V * C + T * C + layers * (12 * C * C + 13 * C) + 2 * C + C * V + V;
  if (2 * weights > bytes.length) {
    throw new ModelFileError(`its config describes a transformer of ${weights.toLocaleString('en-US')} weights, but the file is only ${bytes.length.toLocaleString('en-US')} bytes`);
  }
  const model = new TransformerModel(config, { dtype: [...dtypes][0] as DType });
  try {
    model.loadStateDict(decoded.tensors);
  } catch (error) {
    if (error instanceof StateDictError) throw new ModelFileError(`the weights do not fit a transformer of this config: ${error.message}`);
    throw error;
  }
  model.eval();
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(meta)) if (key !== 'config' && key !== 'vocab' && key !== 'format') extra[key] = value;
  return { model, vocab, extra };
}
