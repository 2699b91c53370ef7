import { PIXELS, computeNormalization, normalize, splitDataset } from '@backprop/data/mnist';
import { loadDigits } from '@backprop/data/mnist/node';
import { TorchGenerator, randperm } from '@backprop/ndarray';

export { PIXELS };
export const CLASSES = 10;

/**
 * The digits every contender trains and tests on: standardized float32 images
 * (row-major, [N, 784]) and their labels. One copy, shared read-only by all.
 */
export interface BenchData {
  readonly trainImages: Float32Array;
  readonly trainLabels: Int32Array;
  readonly testImages: Float32Array;
  readonly testLabels: Int32Array;
  readonly trainSize: number;
  readonly testSize: number;
  /** The train-set pixel mean and std the inputs were standardized with. */
  readonly mean: number;
  readonly std: number;
}

/**
 * The digits apps/mnist trains on, read and split by the same code
 * (@backprop/data/mnist): the 10,000 digits of the `mnist` package, split by
 * the same seeded permutation
 * (`torch.randperm(10000, generator=manual_seed(splitSeed))`) into the first
 * `trainSize` for training and the next `testSize` for testing, every pixel
 * standardized with the train set's scalar mean and std.
 */
export function loadBenchData(trainSize: number, testSize: number, splitSeed = 0): BenchData {
  const { train, test } = splitDataset(loadDigits(), { trainSize, testSize, seed: splitSeed });
  const normalization = computeNormalization(train);
  const trainSet = normalize(train, normalization);
  const testSet = normalize(test, normalization);
  return {
    trainImages: trainSet.inputs.data as Float32Array,
    trainLabels: trainSet.labels,
    testImages: testSet.inputs.data as Float32Array,
    testLabels: testSet.labels,
    trainSize,
    testSize,
    mean: normalization.mean,
    std: normalization.std,
  };
}

/**
 * The batches of every epoch, computed once and fed to every contender in the
 * same order: epoch e is `randperm(trainSize)` drawn from one `TorchGenerator(seed)`,
 * cut into consecutive batches (the last one short, as `drop_last=False`).
 */
export function batchOrder(trainSize: number, batchSize: number, epochs: number, seed: number): Int32Array[][] {
  const rng = new TorchGenerator(seed);
  const result: Int32Array[][] = [];
  for (let e = 0; e < epochs; e++) {
    const perm = randperm(trainSize, rng);
    const batches: Int32Array[] = [];
    for (let start = 0; start < trainSize; start += batchSize) {
      batches.push(perm.subarray(start, Math.min(start + batchSize, trainSize)));
    }
    result.push(batches);
  }
  return result;
}

/** Copies the images and labels of `indices` into `images` ([B, 784]) and `labels` ([B]). */
export function gatherBatch(
  data: BenchData,
  indices: Int32Array,
  images: Float32Array,
  labels: Int32Array,
): void {
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i];
    images.set(data.trainImages.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
    labels[i] = data.trainLabels[src];
  }
}

/** The share of rows of `logits` ([N, 10], row-major) whose argmax is the label. */
export function accuracyOf(logits: ArrayLike<number>, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    let bestValue = logits[i * CLASSES];
    for (let c = 1; c < CLASSES; c++) {
      const v = logits[i * CLASSES + c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}
