import { Embedding, LayerNorm, Linear, NeuralLayer, TransformerEncoder, TransformerEncoderLayer } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { add, arange, type DType, type Generator, NDArray, sum, TorchGenerator } from '@backprop/ndarray';
import { AdamW, clipGradNorm } from '@backprop/optimizers';

/** The target id the loss skips (CrossEntropyLoss's ignoreIndex), as apps/charlm pads its rows. */
export const IGNORE = -1;

/** The model and recipe of a step: apps/charlm's default transformer and its AdamW recipe (constant rate, no schedule). */
export interface CharlmConfig {
  vocabSize: number;
  blockSize: number;
  embedDim: number;
  heads: number;
  layers: number;
  batchSize: number;
  lr: number;
  betas: [number, number];
  weightDecay: number;
  /** clip_grad_norm_'s max_norm. */
  clip: number;
}

/** apps/charlm's `MODEL_SIZES.transformer` and `RECIPES.transformer` (27 characters, 16 a row); `--quick` shrinks the model and the batch. */
export function charlmConfig(quick: boolean): CharlmConfig {
  const recipe = { vocabSize: 27, blockSize: 16, lr: 5e-3, betas: [0.9, 0.99] as [number, number], weightDecay: 0.01, clip: 1 };
  if (quick) return { ...recipe, embedDim: 16, heads: 2, layers: 1, batchSize: 4 };
  return { ...recipe, embedDim: 48, heads: 4, layers: 3, batchSize: 32 };
}

/**
 * apps/charlm's `TransformerModel`, built here from @backprop/layers (apps
 * never import another app): token and position embeddings, `layers`
 * pre-LayerNorm blocks (`TransformerEncoderLayer(C, heads, dim_feedforward=4C,
 * dropout=0, activation='gelu', batch_first=True, norm_first=True)`) under a
 * causal mask, a final LayerNorm, a linear head. Built in torch's order
 * (wte, wpe, the block, the final norm, the head), so that `TorchGenerator(seed)`
 * draws the weights `torch.manual_seed(seed)` does in torch_charlm.py.
 * `forward(ids [B, T] int32)` → logits `[B, T, vocab]`.
 */
export class CharTransformer extends NeuralLayer {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly encoder: TransformerEncoder;
  readonly head: Linear;
  private readonly positions: NDArray;

  constructor(config: CharlmConfig, options: { dtype: DType; rng: Generator }) {
    super();
    const { vocabSize: V, blockSize: T, embedDim: C } = config;
    this.wte = new Embedding(V, C, options);
    this.wpe = new Embedding(T, C, options);
    const block = new TransformerEncoderLayer(C, config.heads, {
      dimFeedforward: 4 * C,
      dropout: 0,
      activation: 'gelu',
      batchFirst: true,
      normFirst: true,
      ...options,
    });
    this.encoder = new TransformerEncoder(block, config.layers, { norm: new LayerNorm(C, { dtype: options.dtype }) });
    this.head = new Linear(C, V, options);
    this.positions = arange(0, T, 1, { dtype: 'int32' });
  }

  forward(ids: NDArray): NDArray {
    const x = add(this.wte.forward(ids), this.wpe.forward(this.positions));
    return this.head.forward(this.encoder.forward(x, { isCausal: true }));
  }

  // Token ids have no gradient: backward adds the parameters' gradients and returns nothing.
  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray): NDArray | undefined {
    const g = this.encoder.backward(this.head.backward(outputGrad));
    this.wte.backward(g, { inputGrad: false });
    this.wpe.backward(sum(g, 0), { inputGrad: false }); // positions broadcast over the batch
    return undefined;
  }
}

/** One batch: inputs and targets, `[B, T]` int32 each, row-major, as both sides read them. */
export interface CharlmBatch {
  x: number[];
  y: number[];
}

/**
 * `count` batches of name-like rows, the same on both sides (sent to
 * torch_charlm.py as lists): each row is a "name" of 3 to blockSize − 2
 * letters (ids 1..26) drawn from `TorchGenerator(seed)`, the input the
 * boundary token 0 then the letters then 0s, the target the letters, 0 (the
 * end), then −1 (ignored), as apps/charlm encodes names.
 */
export function charlmBatches(config: CharlmConfig, count: number, seed: number): CharlmBatch[] {
  const rng = new TorchGenerator(seed);
  const { batchSize: B, blockSize: T, vocabSize: V } = config;
  const batches: CharlmBatch[] = [];
  for (let n = 0; n < count; n++) {
    const x: number[] = [];
    const y: number[] = [];
    for (let b = 0; b < B; b++) {
      const length = 3 + rng.randint(T - 4);
      const letters = Array.from({ length }, () => 1 + rng.randint(V - 1));
      for (let t = 0; t < T; t++) {
        x.push(t === 0 ? 0 : t <= length ? letters[t - 1] : 0);
        y.push(t < length ? letters[t] : t === length ? 0 : IGNORE);
      }
    }
    batches.push({ x, y });
  }
  return batches;
}

/**
 * One training step as apps/charlm's `trainModel` takes it: forward,
 * `CrossEntropyLoss(ignoreIndex −1)` on `[B·T, V]`, backward (no input
 * gradient), `clipGradNorm(·, clip)`, `AdamW.step()`, `zeroGrad()`. The model
 * is built from `TorchGenerator(seed)`; `step(i)` trains on batch i mod count
 * and returns the loss.
 */
export function makeOursStep(config: CharlmConfig, dtype: DType, seed: number, batches: CharlmBatch[]): (i: number) => number {
  const model = new CharTransformer(config, { dtype, rng: new TorchGenerator(seed) });
  model.train();
  const { batchSize: B, blockSize: T, vocabSize: V } = config;
  const arrays = batches.map((b) => ({
    x: new NDArray(Int32Array.from(b.x), [B, T]),
    y: new NDArray(Int32Array.from(b.y), [B * T]),
  }));
  const params = model.parameters();
  const optimizer = new AdamW(params, { lr: config.lr, betas: config.betas, weightDecay: config.weightDecay });
  const lossFn = new CrossEntropyLoss({ ignoreIndex: IGNORE });
  return (i) => {
    const { x, y } = arrays[i % arrays.length];
    const logits = model.forward(x);
    const loss = lossFn.forward(logits.reshape([B * T, V]), y);
    model.backward(lossFn.backward().reshape(logits.shape));
    clipGradNorm(params, config.clip);
    optimizer.step();
    optimizer.zeroGrad();
    return loss;
  };
}
