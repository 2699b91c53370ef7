import { DataLoader, trainStep } from '@backprop/data';
import type { Digits } from '@backprop/data/mnist';
import type { NeuralLayer } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import type { Generator } from '@backprop/ndarray';
import { Adam, AdamW, CosineAnnealingLR, type Optimizer, SGD } from '@backprop/optimizers';
import { type Evaluation, evaluate, shaped } from './evaluate';

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

/**
 * The training loop, PyTorch's with the backward pass explicit: for each
 * mini-batch `forward → loss → backward → step → zeroGrad`, then the
 * scheduler. With `schedule: 'cosine'` the rate follows
 * `CosineAnnealingLR(tMax = epochs × batches per epoch)` stepped once per
 * iteration, so it falls smoothly from `lr` to 0 over the whole run (per
 * epoch gives the same accuracy here within noise, in PyTorch as in this
 * app). After every epoch the model is evaluated on `test`.
 *
 * Stops with @backprop/data's `DivergedError` naming the epoch and step as
 * soon as a loss, a logit or a gradient is not finite, rather than training
 * on NaN (`trainStep`).
 */
export function trainModel(
  model: NeuralLayer,
  train: Digits,
  test: Digits,
  options: TrainOptions,
  hooks: TrainHooks = {},
): TrainResult {
  const { epochs, batchSize, lr, optimizer: optimizerName, sampleShape, rng, schedule = 'cosine' } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`trainModel: epochs must be an integer >= 1, got ${epochs}`);
  const loader = new DataLoader(shaped(train, sampleShape), { batchSize, shuffle: true, rng });
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
      const { loss } = trainStep(model, lossFn, optimizer, x, y, { epoch, step, lrName: '--lr' });
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
