/**
 * The page's live run: apps/charlm's transformer recipe (its `src/train.ts`:
 * `trainModel`, `lrFactor`, `evaluateLoss`) on the names of the app's fixed
 * training split, cut into slices so the worker answers the page between
 * them. The model is smaller than the app's (see LIVE_MODEL); the recipe is
 * the app's, except the run's length.
 */
import { type Batch, DataLoader, DivergedError, TensorDataset } from '@backprop/data';
import { CrossEntropyLoss } from '@backprop/losses';
import { type NDArray, TorchGenerator, narrow } from '@backprop/ndarray';
import { AdamW, LambdaLR, clipGradNorm } from '@backprop/optimizers';
import { IGNORE, Vocabulary, blockSizeFor, encodeNames, sampleNames, splitNames } from '@backprop/data/names';
import { TransformerModel, type TransformerConfig } from './model';
import type { NamesProgress, NamesRunConfig } from './protocol';

/**
 * The transformer trained live: C = 32, 4 heads, 2 blocks (28 k weights),
 * against the app's C = 48, 4 heads, 3 blocks (85 k): about a third of the
 * work a step, so a run of a thousand steps takes a minute or so in a tab.
 */
export const LIVE_MODEL = { embedDim: 32, heads: 4, layers: 2 } as const;

/** apps/charlm's transformer recipe (RECIPES.transformer), without its length. */
export const RECIPE = { batchSize: 32, lr: 5e-3, warmupSteps: 100, finalLrFraction: 0.1, weightDecay: 0.01, betas: [0.9, 0.99] as [number, number], clip: 1 };

/** The validation loss the page shows is over this many names of the validation split (its first), so it costs a fraction of a second. */
export const VAL_NAMES = 500;

/** The generator seed of the samples posted during training: the same draws every time, so the names change only as the model does. */
export const SAMPLE_SEED = 1234;

/** apps/charlm's `lrFactor`: a linear warm-up to 1, then a cosine down to `finalLrFraction` at the last step. */
export function lrFactor(step: number, steps: number): number {
  const { warmupSteps, finalLrFraction } = RECIPE;
  if (step < warmupSteps) return (step + 1) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, steps - 1 - warmupSteps));
  return finalLrFraction + (1 - finalLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** `[B, T, V]` logits as `[B·T, V]` rows, one per target. */
const flat = (logits: NDArray): NDArray => logits.reshape([logits.shape[0] * logits.shape[1], logits.shape[2]]);

export class NamesTrainer {
  readonly config: NamesRunConfig;
  readonly vocab: Vocabulary;
  readonly model: TransformerModel;
  readonly trainSize: number;
  /** Names of the validation split the loss is measured on ({@link VAL_NAMES}). */
  readonly valSize: number;
  private readonly val: { x: NDArray; y: NDArray };
  private readonly loader: DataLoader<NDArray>;
  private readonly optimizer: AdamW;
  private readonly schedule: LambdaLR;
  private readonly lossFn = new CrossEntropyLoss({ ignoreIndex: IGNORE });
  private batches: Iterator<Batch<NDArray>> | null = null;
  private stepsDone = 0;
  private namesDone = 0;
  private trainMs = 0;

  /** `names`: the whole corpus, split here as the app splits it; the model trains on the training part. */
  constructor(names: readonly string[], config: NamesRunConfig) {
    if (!Number.isInteger(config.steps) || config.steps < 1) throw new RangeError(`NamesTrainer: steps must be an integer >= 1, got ${config.steps}`);
    this.config = { ...config };
    const split = splitNames(names);
    this.vocab = Vocabulary.of(names);
    const blockSize = blockSizeFor(names);
    const train = encodeNames(split.train, this.vocab, blockSize);
    this.val = encodeNames(split.val.slice(0, VAL_NAMES), this.vocab, blockSize);
    this.trainSize = split.train.length;
    this.valSize = this.val.x.shape[0];
    // One generator, as the app's run: the weights first, then each epoch's order of the names.
    const rng = new TorchGenerator(config.seed);
    const modelConfig: TransformerConfig = { model: 'transformer', vocabSize: this.vocab.size, blockSize, ...LIVE_MODEL };
    this.model = new TransformerModel(modelConfig, { rng });
    this.loader = new DataLoader(new TensorDataset(train.x, train.y), { batchSize: RECIPE.batchSize, shuffle: true, rng, dropLast: true });
    this.optimizer = new AdamW(this.model.parameters(), { lr: RECIPE.lr, betas: RECIPE.betas, weightDecay: RECIPE.weightDecay });
    this.schedule = new LambdaLR(this.optimizer, (step) => lrFactor(step, config.steps));
    this.model.train();
  }

  get step(): number {
    return this.stepsDone;
  }

  get done(): boolean {
    return this.stepsDone >= this.config.steps;
  }

  /** Trains until `budgetMs` has passed or the step `stopAt` (or the run's end) is reached, at least one step unless the run has ended. */
  train(budgetMs: number, stopAt = this.config.steps): NamesProgress {
    const start = performance.now();
    const limit = Math.min(stopAt, this.config.steps);
    let lossSum = 0;
    let steps = 0;
    while (this.stepsDone < limit) {
      let next = this.batches?.next();
      if (next === undefined || next.done) {
        this.batches = this.loader[Symbol.iterator]();
        next = this.batches.next();
      }
      const { x, y } = next.value as Batch<NDArray>;
      const logits = this.model.forward(x);
      const loss = this.lossFn.forward(flat(logits), y.reshape([y.size]));
      if (!Number.isFinite(loss)) throw new DivergedError(`the training loss is ${loss} at step ${this.stepsDone + 1}`, 1, this.stepsDone + 1);
      this.model.backward(this.lossFn.backward().reshape(logits.shape), { inputGrad: false });
      clipGradNorm(this.model.parameters(), RECIPE.clip);
      this.optimizer.step();
      this.optimizer.zeroGrad();
      this.schedule.step();
      this.stepsDone++;
      this.namesDone += x.shape[0];
      lossSum += loss;
      steps++;
      if (performance.now() - start >= budgetMs) break;
    }
    this.trainMs += performance.now() - start;
    return {
      step: this.stepsDone,
      totalSteps: this.config.steps,
      loss: steps > 0 ? lossSum / steps : Number.NaN,
      lr: this.optimizer.paramGroups[0].lr,
      namesPerSecond: this.trainMs > 0 ? this.namesDone / (this.trainMs / 1000) : 0,
    };
  }

  /** apps/charlm's `evaluateLoss`: mean nats per character over the first {@link VAL_NAMES} validation names, in eval mode. */
  valLoss(batchSize = 1024): number {
    const loss = new CrossEntropyLoss({ ignoreIndex: IGNORE, reduction: 'sum' });
    this.model.eval();
    let total = 0;
    let count = 0;
    try {
      const n = this.val.x.shape[0];
      for (let at = 0; at < n; at += batchSize) {
        const rows = Math.min(batchSize, n - at);
        const y = narrow(this.val.y, at, rows);
        total += loss.forward(flat(this.model.forward(narrow(this.val.x, at, rows))), y.reshape([y.size]));
        for (const target of y.data as Int32Array) if (target !== IGNORE) count++;
      }
    } finally {
      this.model.train();
    }
    return total / count;
  }

  /** `count` names at temperature 1 from a fresh generator seeded {@link SAMPLE_SEED}. */
  samples(count: number): string[] {
    return sampleNames(this.model, this.vocab, { count, temperature: 1, rng: new TorchGenerator(SAMPLE_SEED) });
  }
}
