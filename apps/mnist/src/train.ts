import type { NeuralLayer } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { type Generator, type NDArray, ValueError } from '@backprop/ndarray';
import { Adam, AdamW, CosineAnnealingLR, type Optimizer, SGD } from '@backprop/optimizers';
import type { Dataset } from './dataset';
import { type Evaluation, evaluate } from './evaluate';
import { DataLoader } from './loader';

/** The optimizers `--optimizer` offers. */
export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** SGD's momentum when `--optimizer sgd` (the PyTorch reference recipe's). */
export const SGD_MOMENTUM = 0.9;

/** How a run trains. */
export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** The peak learning rate; cosine annealing takes it to 0 over the run. */
  lr: number;
  optimizer: OptimizerName;
  /** Shape of one sample as the model takes it (`[784]` or `[1, 28, 28]`). */
  sampleShape: readonly number[];
  /** Draws each epoch's shuffle (the same generator that initialised the model, continuing its stream). */
  rng: Generator;
  /** Learning-rate schedule: cosine annealing per iteration (default), or a constant rate. */
  schedule?: 'cosine' | 'constant';
}

/** One line of `metrics.json`: what an epoch did. */
export interface EpochMetrics {
  epoch: number;
  /** Mean cross-entropy over the epoch's training batches, weighted by batch size. */
  trainLoss: number;
  testLoss: number;
  /** Fraction of the test digits classified correctly. */
  testAccuracy: number;
  /** Training throughput: samples / training seconds (evaluation excluded). */
  samplesPerSecond: number;
  /** Seconds spent training this epoch (forward, backward, step). */
  seconds: number;
  /** Seconds spent evaluating on the test set after it. */
  evalSeconds: number;
  /** The learning rate of the epoch's last step. */
  lr: number;
}

/** Progress of the current epoch, reported after every batch. */
export interface BatchProgress {
  epoch: number;
  /** Batches done this epoch (1-based after the first). */
  batch: number;
  batches: number;
  /** Running mean training loss of this epoch. */
  loss: number;
  /** The loss of this batch alone. */
  batchLoss: number;
  /** Samples trained this epoch, and the seconds it took. */
  samples: number;
  seconds: number;
}

/** Callbacks through which a run reports (the terminal report, or nothing in tests). */
export interface TrainHooks {
  onEpochStart?(epoch: number, batches: number, samples: number): void;
  onBatch?(progress: BatchProgress): void;
  onEpochEnd?(metrics: EpochMetrics, evaluation: Evaluation): void;
}

/** What {@link trainModel} returns. */
export interface TrainResult {
  history: EpochMetrics[];
  /** The test-set evaluation after the last epoch. */
  final: Evaluation;
}

/** Training produced a loss or logits that are not finite numbers, so it stopped. */
export class DivergedError extends Error {
  override name = 'DivergedError';
  constructor(
    message: string,
    readonly epoch: number,
    readonly step: number,
  ) {
    super(message);
  }
}

/** The optimizer `name` over `params`, as the app configures it (SGD with momentum 0.9). */
export function createOptimizer(name: OptimizerName, params: ReturnType<NeuralLayer['parameters']>, lr: number): Optimizer {
  switch (name) {
    case 'sgd':
      return new SGD(params, { lr, momentum: SGD_MOMENTUM });
    case 'adam':
      return new Adam(params, { lr });
    case 'adamw':
      return new AdamW(params, { lr });
  }
}

function firstNonFinite(a: NDArray): number {
  const d = a.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
  return -1;
}

/** Where a step sits in the run, for the messages of a {@link DivergedError}. */
export interface StepPosition {
  epoch: number;
  step: number;
  /** How the learning rate is set, for the advice: `--lr` here, "learning rate" on a page. */
  lrName?: string;
}

/**
 * One training step, PyTorch's with the backward pass explicit:
 * `forward → loss → backwardParameters → step → zeroGrad`; returns the
 * batch's mean loss and leaves the logits in `logits` of the result. Stops
 * with a {@link DivergedError} naming the epoch and step as soon as a logit,
 * the loss or a gradient is not finite, rather than training on NaN. The
 * scheduler is the caller's.
 */
export function trainStep(
  model: NeuralLayer,
  lossFn: CrossEntropyLoss,
  optimizer: Optimizer,
  x: NDArray,
  y: Int32Array,
  { epoch, step, lrName = '--lr' }: StepPosition,
): { loss: number; logits: NDArray } {
  const where = `training diverged at epoch ${epoch}, step ${step}`;
  const logits = model.forward(x);
  const bad = firstNonFinite(logits);
  if (bad >= 0) {
    throw new DivergedError(
      `${where}: logit ${bad} of the batch is ${logits.data[bad]} (learning rate ${optimizer.lr}); try a smaller ${lrName}`,
      epoch,
      step,
    );
  }
  const loss = lossFn.forward(logits, y);
  if (!Number.isFinite(loss)) throw new DivergedError(`${where}: the loss is ${loss}; try a smaller ${lrName}`, epoch, step);
  model.backwardParameters(lossFn.backward());
  try {
    optimizer.step(); // refuses a NaN/Inf gradient, naming the step and the parameter
  } catch (error) {
    if (error instanceof ValueError) throw new DivergedError(`${where}: ${error.message}`, epoch, step);
    throw error;
  }
  optimizer.zeroGrad();
  return { loss, logits };
}

/**
 * The training loop, PyTorch's with the backward pass explicit: for each
 * mini-batch `forward → loss → backward → step → zeroGrad`, then the
 * scheduler. With `schedule: 'cosine'` the rate follows
 * `CosineAnnealingLR(tMax = epochs × batches per epoch)` stepped once per
 * iteration, so it falls smoothly from `lr` to 0 over the whole run (per
 * epoch gives the same accuracy here within noise, in PyTorch as in this
 * app). After every epoch the model is evaluated on `test`.
 *
 * Stops with a {@link DivergedError} naming the epoch and step as soon as a
 * loss or a logit is not finite, rather than training on NaN.
 */
export function trainModel(
  model: NeuralLayer,
  train: Dataset,
  test: Dataset,
  options: TrainOptions,
  hooks: TrainHooks = {},
): TrainResult {
  const { epochs, batchSize, lr, optimizer: optimizerName, sampleShape, rng, schedule = 'cosine' } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`trainModel: epochs must be an integer >= 1, got ${epochs}`);
  const loader = new DataLoader(train, { batchSize, shuffle: true, rng, sampleShape });
  const params = model.parameters();
  const optimizer = createOptimizer(optimizerName, params, lr);
  const scheduler = schedule === 'cosine' ? new CosineAnnealingLR(optimizer, { tMax: epochs * loader.length }) : undefined;
  const lossFn = new CrossEntropyLoss();
  const history: EpochMetrics[] = [];
  let final: Evaluation | undefined;
  model.train();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    hooks.onEpochStart?.(epoch, loader.length, loader.size);
    const start = performance.now();
    let lossSum = 0;
    let samples = 0;
    let step = 0;
    let lastLr = optimizer.lr;
    for (const { x, y } of loader) {
      step++;
      lastLr = optimizer.lr;
      const { loss } = trainStep(model, lossFn, optimizer, x, y, { epoch, step });
      scheduler?.step();
      lossSum += loss * y.length;
      samples += y.length;
      hooks.onBatch?.({
        epoch,
        batch: step,
        batches: loader.length,
        loss: lossSum / samples,
        batchLoss: loss,
        samples,
        seconds: (performance.now() - start) / 1000,
      });
    }
    const seconds = (performance.now() - start) / 1000;
    const evalStart = performance.now();
    final = evaluate(model, test, { sampleShape });
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: lossSum / samples,
      testLoss: final.loss,
      testAccuracy: final.accuracy,
      samplesPerSecond: samples / seconds,
      seconds,
      evalSeconds: (performance.now() - evalStart) / 1000,
      lr: lastLr,
    };
    history.push(metrics);
    hooks.onEpochEnd?.(metrics, final);
  }
  return { history, final: final! };
}
