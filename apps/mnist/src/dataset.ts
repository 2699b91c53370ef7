/**
 * The digits as arrays, and the fixed split and standardization every run
 * uses: no file system, so it runs in a browser too (apps/playground trains
 * on the same split). `./data` reads the digits from the `mnist` package.
 */
import { NDArray, TorchGenerator, randperm } from '@backprop/ndarray';

/** Pixels in one 28×28 digit. */
export const PIXELS = 28 * 28;
/** Digits the `mnist` package ships: 10,000 in all, about 1,000 of each class. */
export const DIGIT_COUNT = 10_000;
/** The fixed split: the first 8,000 of a seeded permutation train, the other 2,000 test. */
export const TRAIN_SIZE = 8_000;
export const TEST_SIZE = 2_000;
/**
 * The split's own seed, independent of `--seed`, so every run (whatever its
 * seed) is measured on the same 2,000 test digits. `randperm(10000)` from a
 * `TorchGenerator(0)` is `torch.randperm(10000, generator=torch.Generator().manual_seed(0))`,
 * so the PyTorch fixture script reproduces the same split.
 */
export const SPLIT_SEED = 0;

/** A labelled set of digits: `images` [N, 784] float32, `labels` the class (0–9) of each row. */
export interface Dataset {
  readonly images: NDArray;
  readonly labels: Int32Array;
}

/** The scalar normalization applied to every pixel: (x − mean) / std. */
export interface Normalization {
  readonly mean: number;
  readonly std: number;
}

/** The data are missing or not what the `mnist` package ships. */
export class MnistDataError extends Error {
  override name = 'MnistDataError';
}

/** The rows of `data` at `indices`, in that order (a copy). */
export function subset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const n = data.labels.length;
  const width = data.images.size / Math.max(n, 1);
  const pixels = new Float32Array(indices.length * width);
  const labels = new Int32Array(indices.length);
  const source = data.images.data;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(`subset: index ${i} at position ${k} is out of range for a dataset of ${n} digits`);
    }
    pixels.set(source.subarray(i * width, (i + 1) * width), k * width);
    labels[k] = data.labels[i];
  }
  return { images: new NDArray(pixels, [indices.length, ...data.images.shape.slice(1)]), labels };
}

/**
 * The fixed train/test split: a permutation of all digits drawn from
 * `TorchGenerator(seed)` (default {@link SPLIT_SEED}); its first `trainSize`
 * entries train, the next `testSize` test.
 */
export function splitDataset(
  data: Dataset,
  { trainSize = TRAIN_SIZE, testSize = TEST_SIZE, seed = SPLIT_SEED }: { trainSize?: number; testSize?: number; seed?: number } = {},
): { train: Dataset; test: Dataset; permutation: Int32Array } {
  const n = data.labels.length;
  if (trainSize + testSize > n) {
    throw new RangeError(`splitDataset: ${trainSize} train + ${testSize} test digits is more than the ${n} there are`);
  }
  const permutation = randperm(n, new TorchGenerator(seed));
  return {
    train: subset(data, permutation.subarray(0, trainSize)),
    test: subset(data, permutation.subarray(trainSize, trainSize + testSize)),
    permutation,
  };
}

/**
 * The mean and standard deviation of every pixel of `data` (one scalar each,
 * as torchvision's `Normalize((0.1307,), (0.3081,))` for MNIST), summed in
 * float64. The std is the population one (divides by N); with millions of
 * pixels the choice does not show.
 */
export function computeNormalization(data: Dataset): Normalization {
  const x = data.images.data;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const mean = s / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean;
    ss += d * d;
  }
  const std = Math.sqrt(ss / x.length);
  if (!(std > 0)) throw new RangeError(`computeNormalization: the pixels have standard deviation ${std}; cannot standardize`);
  return { mean, std };
}

/**
 * A copy of `data` with every pixel standardized, `(x − mean) / std`, rounded
 * to float32 (the statistics come from the training set and apply unchanged
 * to the test set, so the test set tells nothing to the model).
 */
export function normalize(data: Dataset, { mean, std }: Normalization): Dataset {
  const x = data.images.data;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean) / std;
  return { images: new NDArray(out, data.images.shape), labels: data.labels };
}

/** Everything a run needs: the split, standardized with the training set's statistics. */
export interface PreparedData {
  train: Dataset;
  test: Dataset;
  normalization: Normalization;
}

/**
 * Splits 10,000 digits 8,000 / 2,000 ({@link splitDataset}) and standardizes
 * both with the train statistics: what every run trains and tests on.
 */
export function prepareDigits(digits: Dataset): PreparedData {
  const { train, test } = splitDataset(digits);
  const normalization = computeNormalization(train);
  return { train: normalize(train, normalization), test: normalize(test, normalization), normalization };
}
