/**
 * apps/mnist's MLP training run, cut into steps so a Web Worker can run it a
 * slice at a time and still answer the page (pause, predict) between slices.
 * The run is `pnpm train`'s, built from the same packages: the digits split
 * and standardized by @backprop/data/mnist (`prepareDigits`), the MLP
 * `Sequential(Linear(784, 128), ReLU(), Linear(128, 10))` initialised from
 * the run's generator, the shuffling of @backprop/data's `DataLoader` drawing
 * from that generator after the weights, SGD with momentum 0.9, cosine
 * annealing stepped per iteration, `trainStep`'s step and `evaluate`'s
 * metrics on the test digits. So a run here is `pnpm train` with the same
 * flags, step for step (test/trainer.test.ts checks it against the same loop
 * written out).
 *
 * The model lives on the backend the trainer is given: the CPU's, or a WebGPU
 * backend. One loop serves both (the webgpu README's: `toBackend` for each
 * batch, `lossFn.compute`, counts on the backend, one read per slice), which
 * is why `trainStep` and `evaluate`, which read numbers synchronously, are
 * written out here; on the CPU the numbers are theirs, bit for bit.
 */
import { type Batch, DataLoader, DivergedError } from '@backprop/data';
import type { Normalization, PreparedData } from '@backprop/data/mnist';
import { Linear, ReLU, Sequential, summary } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import {
  type Backend,
  type Generator,
  NDArray,
  TorchGenerator,
  ValueError,
  argmax,
  equal,
  firstNonFinite,
  getBackend,
  narrow,
  sum,
  toBackend,
  zeros,
} from '@backprop/ndarray';
import { CosineAnnealingLR, type Optimizer, SGD } from '@backprop/optimizers';
import type { Evaluation, Progress, RunConfig } from './protocol';
import { onHost, readScalars, within } from './run-on';

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

/** Test digits per forward pass of an evaluation (as `evaluate` of @backprop/data: the result does not depend on it). */
const EVAL_BATCH = 500;

/** Options of a {@link Trainer}. */
export interface TrainerOptions {
  /**
   * Where the model lives and trains: a CPU backend of @backprop/ndarray or
   * a WebGPU backend of @backprop/webgpu (default: the active backend).
   */
  backend?: Backend;
}

/** What a step leaves on the backend until the slice reads it: the mean loss and the digits classified right. */
interface StepResult {
  loss: NDArray;
  correct: NDArray;
  size: number;
  /** Whether the step ended an epoch. */
  epochEnd: boolean;
}

export class Trainer {
  readonly config: RunConfig;
  /** The backend the model lives on and every step runs on. */
  readonly backend: Backend;
  readonly model: Sequential;
  readonly totalSteps: number;
  readonly batchesPerEpoch: number;
  private readonly data: PreparedData;
  private readonly loader: DataLoader<Int32Array>;
  private readonly optimizer: Optimizer;
  private readonly scheduler: CosineAnnealingLR;
  private readonly lossFn = new CrossEntropyLoss();
  private readonly evalLossFn = new CrossEntropyLoss({ reduction: 'sum' });
  private batches: Iterator<Batch<Int32Array>> | null = null;
  /** The test digits on the backend, uploaded at the first evaluation. */
  private testBatches: { x: NDArray; y: NDArray }[] | null = null;
  private stepsDone = 0;
  private samplesDone = 0;
  private trainMs = 0;
  /** The current epoch's loss sum and digits, as trainModel's per-epoch mean. */
  private epochLossSum = 0;
  private epochSamples = 0;
  /** Mean training loss of each finished epoch. */
  readonly epochLosses: number[] = [];

  constructor(data: PreparedData, config: RunConfig, options: TrainerOptions = {}) {
    const { epochs, lr, batchSize, seed } = config;
    if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`Trainer: epochs must be an integer >= 1, got ${epochs}`);
    if (!(lr > 0)) throw new RangeError(`Trainer: lr must be > 0, got ${lr}`);
    this.config = { ...config };
    this.data = data;
    this.backend = options.backend ?? getBackend();
    // One generator for the run, as apps/mnist's main: the weights first, then each epoch's shuffle.
    // The weights are drawn on the host and land on the backend (uploaded once on a GPU): the same values on either.
    const rng = new TorchGenerator(seed);
    this.model = within(this.backend, () => buildMlp(rng));
    this.loader = new DataLoader(data.train, { batchSize, shuffle: true, rng });
    this.batchesPerEpoch = this.loader.length;
    this.totalSteps = epochs * this.loader.length;
    [this.optimizer, this.scheduler] = within(this.backend, () => {
      const optimizer = new SGD(this.model.parameters(), { lr, momentum: SGD_MOMENTUM });
      return [optimizer, new CosineAnnealingLR(optimizer, { tMax: this.totalSteps })] as const;
    });
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
    return within(this.backend, () => summary(this.model, [this.config.batchSize, 784]));
  }

  /**
   * Trains until `budgetMs` has passed, the step `stopAt` is reached or the
   * run ends (at least one step unless it has ended), and reports the
   * batches it ran. The steps run without a read (the webgpu README's loop:
   * `compute`, argmax and the count of right answers on the backend); their
   * losses and counts are read once, at the end of the slice, so the time
   * measured is the backend's, the GPU's work included.
   */
  async train(budgetMs: number, stopAt = this.totalSteps): Promise<Progress> {
    const start = performance.now();
    const limit = Math.min(stopAt, this.totalSteps);
    const first = this.stepsDone + 1;
    const steps: StepResult[] = [];
    within(this.backend, () => {
      while (this.stepsDone < limit) {
        steps.push(this.trainStep(onHost(() => this.nextBatch())));
        this.scheduler.step();
        this.stepsDone++;
        if (performance.now() - start >= budgetMs) break;
      }
    });
    let values: Float32Array;
    try {
      values = await readScalars(this.backend, steps.flatMap((s) => [s.loss, s.correct]));
    } catch (error) {
      // A GPU answers the checks of its steps (a NaN in an output, a loss or a gradient) at this read.
      if ((error as Error | null)?.name !== 'DeviceCheckError') throw error;
      const last = this.stepsDone;
      const epoch = Math.floor((first - 1) / this.batchesPerEpoch) + 1;
      throw new DivergedError(
        `training diverged at epoch ${epoch}, between steps ${first} and ${last} of the run: ${(error as Error).message}; try a smaller learning rate`,
        epoch,
        ((first - 1) % this.batchesPerEpoch) + 1,
      );
    }
    let lossSum = 0;
    let correct = 0;
    let samples = 0;
    steps.forEach((s, i) => {
      const loss = values[2 * i];
      lossSum += loss * s.size;
      samples += s.size;
      correct += values[2 * i + 1];
      this.epochLossSum += loss * s.size;
      this.epochSamples += s.size;
      if (s.epochEnd) {
        this.epochLosses.push(this.epochLossSum / this.epochSamples);
        this.epochLossSum = 0;
        this.epochSamples = 0;
      }
    });
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

  /** The next batch of the loader, cut on the host; a new epoch draws its permutation from the run's generator. */
  private nextBatch(): Batch<Int32Array> {
    let next = this.batches?.next();
    if (next === undefined || next.done) {
      this.batches = this.loader[Symbol.iterator]();
      next = this.batches.next();
    }
    return next.value as Batch<Int32Array>;
  }

  /**
   * pnpm train's step (`trainStep` of @backprop/data, written out so that
   * nothing is read): forward, the loss where the model is, backward, the
   * update. A non-finite output, loss or gradient stops the run with a
   * DivergedError naming the step: at once on the CPU, at the slice's read
   * on a GPU (which checks values on the device).
   */
  private trainStep({ x, y }: Batch<Int32Array>): StepResult {
    const epoch = Math.floor(this.stepsDone / this.batchesPerEpoch) + 1;
    const step = (this.stepsDone % this.batchesPerEpoch) + 1;
    const where = `training diverged at epoch ${epoch}, step ${step}`;
    const labels = toBackend(new NDArray(y, [y.length]));
    const output = this.model.forward(toBackend(x));
    const bad = firstNonFinite(output); // the CPU answers now; a GPU at the next read
    if (bad >= 0) {
      throw new DivergedError(
        `${where}: the model's output is ${output.data[bad]} at index ${bad} of the batch (learning rate ${this.optimizer.lr}); try a smaller learning rate`,
        epoch,
        step,
      );
    }
    const loss = this.lossFn.compute(output, labels);
    if (firstNonFinite(loss) >= 0) throw new DivergedError(`${where}: the loss is ${loss.item()}; try a smaller learning rate`, epoch, step);
    const correct = countCorrect(output, labels);
    this.model.backward(this.lossFn.backward(), { inputGrad: false });
    try {
      this.optimizer.step(); // refuses a NaN/Inf gradient (on a GPU: reported at the next read)
    } catch (error) {
      // By name as well as by class, as trainStep: a program may load ndarray's CommonJS and ES module builds side by side.
      if (error instanceof ValueError || (error as Error | null)?.name === 'ValueError') throw new DivergedError(`${where}: ${(error as Error).message}`, epoch, step);
      throw error;
    }
    this.optimizer.zeroGrad();
    return { loss, correct, size: y.length, epochEnd: (this.stepsDone + 1) % this.batchesPerEpoch === 0 };
  }

  /**
   * Loss and accuracy on the 2,000 test digits, in eval mode, with pnpm
   * train's summed loss (`evaluate` of @backprop/data, written out): the
   * losses and the counts of right answers are computed on the backend and
   * read once.
   */
  async evaluate(): Promise<Evaluation> {
    const step = this.stepsDone;
    const results = within(this.backend, () => {
      const batches = this.uploadTest();
      const wasTraining = this.model.training;
      this.model.eval();
      try {
        const losses: NDArray[] = [];
        const corrects: NDArray[] = [];
        for (const { x, y } of batches) {
          const output = this.model.forward(x);
          losses.push(this.evalLossFn.compute(output, y));
          corrects.push(countCorrect(output, y));
        }
        return [...losses, ...corrects];
      } finally {
        this.model.train(wasTraining);
      }
    });
    const values = await readScalars(this.backend, results);
    const half = values.length / 2;
    let lossSum = 0;
    let correct = 0;
    for (let i = 0; i < half; i++) {
      lossSum += values[i];
      correct += values[half + i];
    }
    const count = this.data.test.length;
    return { step, testLoss: lossSum / count, testAccuracy: correct / count };
  }

  /** The test digits in batches of {@link EVAL_BATCH}, on the backend (copied there once; on the CPU, views of the dataset). */
  private uploadTest(): { x: NDArray; y: NDArray }[] {
    if (this.testBatches === null) {
      const { inputs, labels } = this.data.test;
      const batches: { x: NDArray; y: NDArray }[] = [];
      for (let at = 0; at < labels.length; at += EVAL_BATCH) {
        const rows = Math.min(EVAL_BATCH, labels.length - at);
        const x = onHost(() => narrow(inputs, at, rows));
        batches.push({ x: toBackend(x), y: toBackend(new NDArray(labels.subarray(at, at + rows), [rows])) });
      }
      this.testBatches = batches;
    }
    return this.testBatches;
  }

  /**
   * The ten class probabilities (softmax of the logits) of one 28×28 image
   * with pixels in [0, 1], standardized as the training digits were.
   */
  async predict(pixels: Float32Array): Promise<number[]> {
    if (pixels.length !== 784) throw new RangeError(`Trainer.predict: expected 784 pixels (28×28), got ${pixels.length}`);
    const { mean, std } = this.data.normalization;
    const x = new Float32Array(784);
    for (let i = 0; i < 784; i++) x[i] = (pixels[i] - mean) / std;
    const logits = within(this.backend, () => {
      const wasTraining = this.model.training;
      this.model.eval();
      try {
        return this.model.forward(toBackend(new NDArray(x, [1, 784])));
      } finally {
        this.model.train(wasTraining);
      }
    });
    // Ten numbers: read as they are, the softmax taken here in float64 (as on the CPU before there was a choice).
    return softmax(Array.from(await logits.toHost()));
  }
}

/** exp(z − max) / Σ exp(z − max): the probabilities cross-entropy reads from logits. */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/**
 * How many rows of `logits` have their largest value (the first, on ties) at
 * their label: argmax, equal and sum on the backend, a 0-d float32 array
 * (exact: at most 2²⁴ rows). float32, because an int32 sum runs in float64,
 * which a GPU does not have.
 */
function countCorrect(logits: NDArray, labels: NDArray): NDArray {
  return sum(equal(argmax(logits, 1), labels, zeros([labels.size], { dtype: 'float32' })));
}
