/**
 * apps/mnist's MLP training run, cut into steps so a Web Worker can run it a
 * slice at a time and still answer the page (pause, predict) between slices.
 * The run is `pnpm train`'s, built from the same packages: the digits split
 * and standardized by @backprop/data/mnist (`prepareDigits`), the MLP
 * `Sequential(Linear(784, 128), ReLU(), Linear(128, 10))` initialised from
 * the run's generator, the shuffling of @backprop/data's `DataLoader` drawing
 * from that generator after the weights, SGD with momentum 0.9, cosine
 * annealing stepped per iteration, `trainStep` and `evaluate` on the test
 * digits. So a run here is `pnpm train` with the same flags, step for step
 * (test/trainer.test.ts checks it against the same loop written out).
 */
import { type Batch, DataLoader, evaluate, trainStep } from '@backprop/data';
import type { Normalization, PreparedData } from '@backprop/data/mnist';
import { Linear, ReLU, Sequential, summary } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { type Generator, NDArray, TorchGenerator } from '@backprop/ndarray';
import { CosineAnnealingLR, type Optimizer, SGD } from '@backprop/optimizers';
import type { Evaluation, Progress, RunConfig } from './protocol';

/** SGD's momentum in `pnpm train`'s MLP recipe (apps/mnist's `--optimizer sgd`). */
export const SGD_MOMENTUM = 0.9;

/**
 * `pnpm train`'s MLP, 784 → 128 → ReLU → 10: torch's
 * `nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))`, its
 * weights drawn from `rng` in that order (apps/mnist's `buildModel(mlpArchitecture(), rng)`).
 */
export function buildMlp(rng: Generator): Sequential {
  return new Sequential(new Linear(784, 128, { rng }), new ReLU(), new Linear(128, 10, { rng }));
}

/** `pnpm train`'s MLP recipe (apps/mnist's MODEL_DEFAULTS.mlp), except the run's length. */
export const DEFAULT_CONFIG: RunConfig = { epochs: 5, lr: 0.05, batchSize: 64, seed: 0 };

export class Trainer {
  readonly config: RunConfig;
  readonly model: Sequential;
  readonly totalSteps: number;
  readonly batchesPerEpoch: number;
  private readonly data: PreparedData;
  private readonly loader: DataLoader<Int32Array>;
  private readonly optimizer: Optimizer;
  private readonly scheduler: CosineAnnealingLR;
  private readonly lossFn = new CrossEntropyLoss();
  private batches: Iterator<Batch<Int32Array>> | null = null;
  private stepsDone = 0;
  private samplesDone = 0;
  private trainMs = 0;
  /** The current epoch's loss sum and digits, as trainModel's per-epoch mean. */
  private epochLossSum = 0;
  private epochSamples = 0;
  /** Mean training loss of each finished epoch. */
  readonly epochLosses: number[] = [];

  constructor(data: PreparedData, config: RunConfig) {
    const { epochs, lr, batchSize, seed } = config;
    if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`Trainer: epochs must be an integer >= 1, got ${epochs}`);
    if (!(lr > 0)) throw new RangeError(`Trainer: lr must be > 0, got ${lr}`);
    this.config = { ...config };
    this.data = data;
    // One generator for the run, as apps/mnist's main: the weights first, then each epoch's shuffle.
    const rng = new TorchGenerator(seed);
    this.model = buildMlp(rng);
    this.loader = new DataLoader(data.train, { batchSize, shuffle: true, rng });
    this.batchesPerEpoch = this.loader.length;
    this.totalSteps = epochs * this.loader.length;
    this.optimizer = new SGD(this.model.parameters(), { lr, momentum: SGD_MOMENTUM });
    this.scheduler = new CosineAnnealingLR(this.optimizer, { tMax: this.totalSteps });
    this.model.train();
  }

  get step(): number {
    return this.stepsDone;
  }

  get done(): boolean {
    return this.stepsDone >= this.totalSteps;
  }

  get normalization(): Normalization {
    return this.data.normalization;
  }

  /** The layer table (`summary` from @backprop/layers) for one training batch. */
  summary(): string {
    return summary(this.model, [this.config.batchSize, 784]);
  }

  /**
   * Trains until `budgetMs` has passed, the step `stopAt` is reached or the
   * run ends (at least one step unless it has ended), and reports the
   * batches it ran.
   */
  train(budgetMs: number, stopAt = this.totalSteps): Progress {
    const start = performance.now();
    let lossSum = 0;
    let correct = 0;
    let samples = 0;
    const limit = Math.min(stopAt, this.totalSteps);
    while (this.stepsDone < limit) {
      let next = this.batches?.next();
      if (next === undefined || next.done) {
        // A new epoch: the loader draws its permutation from the run's generator.
        this.batches = this.loader[Symbol.iterator]();
        next = this.batches.next();
      }
      const { x, y } = next.value as Batch<Int32Array>;
      // pnpm train's step: a non-finite logit, loss or gradient stops the run with a DivergedError.
      const { loss, output: logits } = trainStep(this.model, this.lossFn, this.optimizer, x, y, {
        epoch: Math.floor(this.stepsDone / this.batchesPerEpoch) + 1,
        step: (this.stepsDone % this.batchesPerEpoch) + 1,
        lrName: 'learning rate',
      });
      this.scheduler.step();
      this.stepsDone++;
      lossSum += loss * y.length;
      samples += y.length;
      correct += countCorrect(logits, y);
      this.epochLossSum += loss * y.length;
      this.epochSamples += y.length;
      if (this.stepsDone % this.batchesPerEpoch === 0) {
        this.epochLosses.push(this.epochLossSum / this.epochSamples);
        this.epochLossSum = 0;
        this.epochSamples = 0;
      }
      if (performance.now() - start >= budgetMs) break;
    }
    this.trainMs += performance.now() - start;
    this.samplesDone += samples;
    return {
      step: this.stepsDone,
      totalSteps: this.totalSteps,
      epoch: Math.min(this.config.epochs, Math.floor((this.stepsDone - 1) / this.batchesPerEpoch) + 1),
      loss: samples > 0 ? lossSum / samples : Number.NaN,
      accuracy: samples > 0 ? correct / samples : Number.NaN,
      lr: this.optimizer.lr,
      samplesPerSecond: this.trainMs > 0 ? this.samplesDone / (this.trainMs / 1000) : 0,
      trainSeconds: this.trainMs / 1000,
    };
  }

  /** Loss and accuracy on the 2,000 test digits (@backprop/data's `evaluate`, in eval mode, with pnpm train's summed loss). */
  evaluate(): Evaluation {
    const result = evaluate(this.model, this.data.test, { lossFn: new CrossEntropyLoss({ reduction: 'sum' }) });
    return { step: this.stepsDone, testLoss: result.loss, testAccuracy: result.accuracy };
  }

  /**
   * The ten class probabilities (softmax of the logits) of one 28×28 image
   * with pixels in [0, 1], standardized as the training digits were.
   */
  predict(pixels: Float32Array): number[] {
    if (pixels.length !== 784) throw new RangeError(`Trainer.predict: expected 784 pixels (28×28), got ${pixels.length}`);
    const { mean, std } = this.data.normalization;
    const x = new Float32Array(784);
    for (let i = 0; i < 784; i++) x[i] = (pixels[i] - mean) / std;
    const wasTraining = this.model.training;
    this.model.eval();
    const logits = Array.from(this.model.forward(new NDArray(x, [1, 784])).data);
    this.model.train(wasTraining);
    return softmax(logits);
  }
}

/** exp(z − max) / Σ exp(z − max): the probabilities cross-entropy reads from logits. */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

function countCorrect(logits: NDArray, labels: Int32Array): number {
  const classes = logits.shape[1];
  const d = logits.data;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (d[i * classes + j] > d[i * classes + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}
