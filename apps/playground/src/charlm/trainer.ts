/**
 * The page's live run: apps/charlm's transformer recipe (its `src/train.ts`:
 * `trainModel`, `lrFactor`, `evaluateLoss`) on the names of the app's fixed
 * training split, cut into slices so the worker answers the page between
 * them. The model is smaller than the app's (see LIVE_MODEL); the recipe is
 * the app's, except the run's length. The model lives on the backend the
 * trainer is given (the CPU's or a WebGPU backend) and one loop trains on
 * both: `toBackend` for each batch, `lossFn.compute`, `clipGradNorm(…, {
 * read: false })`, the losses read once per slice; on the CPU the numbers are
 * the ones `forward` and a read norm gave, bit for bit.
 */
import { type Batch, DataLoader, DivergedError, TensorDataset } from '@backprop/data';
import { CrossEntropyLoss } from '@backprop/losses';
import { type Backend, type NDArray, TorchGenerator, firstNonFinite, getBackend, narrow, toBackend } from '@backprop/ndarray';
import { AdamW, LambdaLR, clipGradNorm } from '@backprop/optimizers';
import { IGNORE, Vocabulary, blockSizeFor, encodeNames, splitNames } from '@backprop/data/names';
import { onHost, readScalars, within } from '../run-on';
import { TransformerModel, type TransformerConfig } from './model';
import type { NamesProgress, NamesRunConfig } from './protocol';
import { sampleNamesOn } from './sample';

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

/** Options of a {@link NamesTrainer}. */
export interface NamesTrainerOptions {
  /** Where the model lives and trains: a CPU backend or a WebGPU backend (default: the active backend). */
  backend?: Backend;
}

export class NamesTrainer {
  readonly config: NamesRunConfig;
  /** The backend the model lives on and every step runs on. */
  readonly backend: Backend;
  readonly vocab: Vocabulary;
  readonly model: TransformerModel;
  readonly trainSize: number;
  /** Names of the validation split the loss is measured on ({@link VAL_NAMES}). */
  readonly valSize: number;
  private readonly val: { x: NDArray; y: NDArray };
  /** The validation names on the backend, in batches, with their counted targets (uploaded at the first use). */
  private valBatches: { batchSize: number; batches: { x: NDArray; y: NDArray }[]; count: number } | null = null;
  private readonly loader: DataLoader<NDArray>;
  private readonly optimizer: AdamW;
  private readonly schedule: LambdaLR;
  private readonly lossFn = new CrossEntropyLoss({ ignoreIndex: IGNORE });
  private readonly valLossFn = new CrossEntropyLoss({ ignoreIndex: IGNORE, reduction: 'sum' });
  private batches: Iterator<Batch<NDArray>> | null = null;
  private stepsDone = 0;
  private namesDone = 0;
  private trainMs = 0;

  /** `names`: the whole corpus, split here as the app splits it; the model trains on the training part. */
  constructor(names: readonly string[], config: NamesRunConfig, options: NamesTrainerOptions = {}) {
    if (!Number.isInteger(config.steps) || config.steps < 1) throw new RangeError(`NamesTrainer: steps must be an integer >= 1, got ${config.steps}`);
    this.config = { ...config };
    this.backend = options.backend ?? getBackend();
    const split = splitNames(names);
    this.vocab = Vocabulary.of(names);
    const blockSize = blockSizeFor(names);
    // The names stay on the host; batches are uploaded one at a time.
    const train = onHost(() => encodeNames(split.train, this.vocab, blockSize));
    this.val = onHost(() => encodeNames(split.val.slice(0, VAL_NAMES), this.vocab, blockSize));
    this.trainSize = split.train.length;
    this.valSize = this.val.x.shape[0];
    // One generator, as the app's run: the weights first, then each epoch's order of the names.
    const rng = new TorchGenerator(config.seed);
    const modelConfig: TransformerConfig = { model: 'transformer', vocabSize: this.vocab.size, blockSize, ...LIVE_MODEL };
    this.model = within(this.backend, () => new TransformerModel(modelConfig, { rng }));
    this.loader = new DataLoader(new TensorDataset(train.x, train.y), { batchSize: RECIPE.batchSize, shuffle: true, rng, dropLast: true });
    [this.optimizer, this.schedule] = within(this.backend, () => {
      const optimizer = new AdamW(this.model.parameters(), { lr: RECIPE.lr, betas: RECIPE.betas, weightDecay: RECIPE.weightDecay });
      return [optimizer, new LambdaLR(optimizer, (step) => lrFactor(step, config.steps))] as const;
    });
    this.model.train();
  }

  get step(): number {
    return this.stepsDone;
  }

  get done(): boolean {
    return this.stepsDone >= this.config.steps;
  }

  /**
   * Trains until `budgetMs` has passed or the step `stopAt` (or the run's end) is reached, at least one step unless
   * the run has ended. The steps read nothing (the webgpu README's loop: `compute`, `clipGradNorm(…, { read: false })`);
   * their losses are read once at the end, so the time measured is the backend's, the GPU's work included.
   */
  async train(budgetMs: number, stopAt = this.config.steps): Promise<NamesProgress> {
    const start = performance.now();
    const limit = Math.min(stopAt, this.config.steps);
    const first = this.stepsDone + 1;
    const losses: NDArray[] = [];
    within(this.backend, () => {
      while (this.stepsDone < limit) {
        const { x, y } = onHost(() => this.nextBatch());
        const logits = this.model.forward(toBackend(x));
        const loss = this.lossFn.compute(flat(logits), toBackend(y).reshape([y.size]));
        // The CPU answers now; a GPU checks on the device and answers at the read below.
        if (firstNonFinite(loss) >= 0) throw new DivergedError(`the training loss is ${loss.item()} at step ${this.stepsDone + 1}`, 1, this.stepsDone + 1);
        this.model.backward(this.lossFn.backward().reshape(logits.shape), { inputGrad: false });
        clipGradNorm(this.model.parameters(), RECIPE.clip, { read: false });
        this.optimizer.step();
        this.optimizer.zeroGrad();
        this.schedule.step();
        this.stepsDone++;
        this.namesDone += x.shape[0];
        losses.push(loss);
        if (performance.now() - start >= budgetMs) break;
      }
    });
    let values: Float32Array;
    try {
      values = await readScalars(this.backend, losses);
    } catch (error) {
      if ((error as Error | null)?.name !== 'DeviceCheckError') throw error;
      throw new DivergedError(`training diverged between steps ${first} and ${this.stepsDone}: ${(error as Error).message}`, 1, first);
    }
    let lossSum = 0;
    for (const loss of values) lossSum += loss;
    this.trainMs += performance.now() - start;
    return {
      step: this.stepsDone,
      totalSteps: this.config.steps,
      loss: values.length > 0 ? lossSum / values.length : Number.NaN,
      lr: this.optimizer.paramGroups[0].lr,
      namesPerSecond: this.trainMs > 0 ? this.namesDone / (this.trainMs / 1000) : 0,
    };
  }

  /** The next batch of the loader, cut on the host; a new epoch draws its order of the names from the run's generator. */
  private nextBatch(): Batch<NDArray> {
    let next = this.batches?.next();
    if (next === undefined || next.done) {
      this.batches = this.loader[Symbol.iterator]();
      next = this.batches.next();
    }
    return next.value as Batch<NDArray>;
  }

  /**
   * apps/charlm's `evaluateLoss`: mean nats per character over the first {@link VAL_NAMES} validation names, in
   * eval mode; the summed losses computed on the backend and read once.
   */
  async valLoss(batchSize = 1024): Promise<number> {
    const { batches, count } = this.uploadVal(batchSize);
    const sums = within(this.backend, () => {
      this.model.eval();
      try {
        return batches.map(({ x, y }) => this.valLossFn.compute(flat(this.model.forward(x)), y));
      } finally {
        this.model.train();
      }
    });
    let total = 0;
    for (const value of await readScalars(this.backend, sums)) total += value;
    return total / count;
  }

  /** The validation names in batches on the backend, and how many targets count (not IGNORE), from the host. */
  private uploadVal(batchSize: number): { batches: { x: NDArray; y: NDArray }[]; count: number } {
    if (this.valBatches?.batchSize !== batchSize) {
      const batches: { x: NDArray; y: NDArray }[] = [];
      let count = 0;
      const n = this.val.x.shape[0];
      for (let at = 0; at < n; at += batchSize) {
        const rows = Math.min(batchSize, n - at);
        const [x, y] = onHost(() => [narrow(this.val.x, at, rows), narrow(this.val.y, at, rows)]);
        for (const target of y.data as Int32Array) if (target !== IGNORE) count++;
        batches.push(within(this.backend, () => ({ x: toBackend(x), y: toBackend(y).reshape([y.size]) })));
      }
      this.valBatches = { batchSize, batches, count };
    }
    return this.valBatches;
  }

  /** `count` names at temperature 1 from a fresh generator seeded {@link SAMPLE_SEED}. */
  samples(count: number): Promise<string[]> {
    return sampleNamesOn(this.model, this.vocab, { count, temperature: 1, rng: new TorchGenerator(SAMPLE_SEED) }, this.backend);
  }
}
