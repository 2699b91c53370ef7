import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchGenerator, ValueError } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { TensorDataset, randomSplit } from '../src/index';
import {
  DIGIT_COUNT,
  MnistDataError,
  PIXELS,
  SPLIT_SEED,
  TEST_SIZE,
  TRAIN_SIZE,
  computeNormalization,
  normalize,
  prepareDigits,
  splitDataset,
} from '../src/mnist/index';
import { loadDigits, mnistDigitsDir, prepareData } from '../src/mnist/node';
import { readFixture } from './helpers';

const digits = loadDigits();

describe('loadDigits (@backprop/data/mnist/node)', () => {
  it('reads the 10,000 digits of the mnist package as a TensorDataset: [10000, 784] float32 in [0, 1]', () => {
    expect(digits).toBeInstanceOf(TensorDataset);
    expect(digits.length).toBe(DIGIT_COUNT);
    expect(digits.inputs.shape).toEqual([DIGIT_COUNT, PIXELS]);
    expect(digits.inputs.dtype).toBe('float32');
    expect(digits.labels).toBeInstanceOf(Int32Array);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of digits.inputs.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(mnistDigitsDir()).toMatch(/mnist[/\\]src[/\\]digits$/);
  });

  it('labels each digit by its file, about 1,000 of each class', () => {
    const counts = new Array(10).fill(0);
    for (const label of digits.labels) counts[label]++;
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(digits.labels[0]).toBe(0);
    expect(digits.labels[DIGIT_COUNT - 1]).toBe(9);
  });

  it('fails clearly when the files are missing or corrupt', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mnist-missing-'));
    expect(() => loadDigits(empty)).toThrow(MnistDataError);
    expect(() => loadDigits(empty)).toThrow(/cannot read .*0\.json.*pnpm install/);

    const corrupt = mkdtempSync(join(tmpdir(), 'mnist-corrupt-'));
    writeFileSync(join(corrupt, '0.json'), '{"data": [0, 0.5');
    expect(() => loadDigits(corrupt)).toThrow(/0\.json/);

    const short = mkdtempSync(join(tmpdir(), 'mnist-short-'));
    writeFileSync(join(short, '0.json'), JSON.stringify({ data: [0, 0.5, 1] }));
    expect(() => loadDigits(short)).toThrow(/holds 3 values; expected a non-zero multiple of 784/);

    const wrongShape = mkdtempSync(join(tmpdir(), 'mnist-shape-'));
    writeFileSync(join(wrongShape, '0.json'), JSON.stringify({ pixels: [] }));
    expect(() => loadDigits(wrongShape)).toThrow(/must hold \{ "data": \[numbers\] \}, got an object with keys \["pixels"\]/);

    const outOfRange = mkdtempSync(join(tmpdir(), 'mnist-range-'));
    for (let d = 0; d < 10; d++) {
      const data = new Array(1000 * PIXELS).fill(0);
      if (d === 3) data[PIXELS + 5] = 255;
      writeFileSync(join(outOfRange, `${d}.json`), JSON.stringify({ data }));
    }
    expect(() => loadDigits(outOfRange)).toThrow(/3\.json value 789 \(digit 1, pixel 5\) is 255; expected a number in \[0, 1\]/);
  });
});

describe('splitDataset', () => {
  const { train, test, trainIndices, testIndices } = splitDataset(digits);

  it('splits 8,000 / 2,000 without overlap', () => {
    expect(train.inputs.shape).toEqual([TRAIN_SIZE, PIXELS]);
    expect(test.inputs.shape).toEqual([TEST_SIZE, PIXELS]);
    expect(train.labels.length).toBe(TRAIN_SIZE);
    expect(test.labels.length).toBe(TEST_SIZE);
    expect(new Set([...trainIndices, ...testIndices]).size).toBe(DIGIT_COUNT);
  });

  it('is torch.utils.data.random_split(digits, [8000, 2000], generator=torch.Generator().manual_seed(0)), index for index', () => {
    const torch = readFixture().randomSplit.find((c) => c.n === DIGIT_COUNT)!;
    expect(torch.lengths).toEqual([TRAIN_SIZE, TEST_SIZE]);
    expect(torch.seed).toBe(SPLIT_SEED);
    expect(Array.from(trainIndices)).toEqual(torch.subsets[0]);
    expect(Array.from(testIndices)).toEqual(torch.subsets[1]);
    // randomSplit itself gives the same subsets.
    const [a, b] = randomSplit(digits, [TRAIN_SIZE, TEST_SIZE], { rng: new TorchGenerator(SPLIT_SEED) });
    expect(Array.from(a.indices)).toEqual(torch.subsets[0]);
    expect(Array.from(b.indices)).toEqual(torch.subsets[1]);
  });

  it('takes a smaller split of the same permutation (the bench trains on fewer digits)', () => {
    const small = splitDataset(digits, { trainSize: 1000, testSize: 500 });
    expect(Array.from(small.trainIndices)).toEqual(Array.from(trainIndices.subarray(0, 1000)));
    expect(Array.from(small.testIndices)).toEqual(Array.from(trainIndices.subarray(1000, 1500)));
    const other = splitDataset(digits, { trainSize: 1000, testSize: 500, seed: 1 });
    expect(Array.from(other.trainIndices)).not.toEqual(Array.from(small.trainIndices));
  });

  it('copies the rows it picks', () => {
    const i = testIndices[7];
    expect(Array.from(test.inputs.data.subarray(7 * PIXELS, 8 * PIXELS))).toEqual(
      Array.from(digits.inputs.data.subarray(i * PIXELS, (i + 1) * PIXELS)),
    );
    expect(test.labels[7]).toBe(digits.labels[i]);
  });

  it('rejects bad options', () => {
    expect(() => splitDataset(digits, { trainSize: 9000, testSize: 2000 })).toThrow(ValueError);
    expect(() => splitDataset(digits, { trainSize: 9000, testSize: 2000 })).toThrow('splitDataset: 9000 train + 2000 test samples is more than the 10000 there are');
    expect(() => splitDataset(digits, { trainSize: Number.NaN })).toThrow('splitDataset: trainSize must be a finite number, got NaN');
    expect(() => splitDataset(digits, { seed: -1 })).toThrow('splitDataset: seed must be >= 0, got -1');
    expect(() => splitDataset(digits, { train: 10 } as never)).toThrow("splitDataset: unknown option 'train'; expected one of 'trainSize', 'testSize', 'seed'");
    expect(() => splitDataset({ images: digits.inputs, labels: digits.labels } as never)).toThrow(
      'splitDataset: data must be a TensorDataset, got an object with keys ["images","labels"]',
    );
  });
});

describe('standardization', () => {
  it('uses the training set mean and std, and applies them to the test set too', () => {
    const { train, test, normalization } = prepareData();
    const { mean, std } = normalization;
    // MNIST's well-known pixel statistics (torchvision uses 0.1307 and 0.3081).
    expect(mean).toBeCloseTo(0.131, 3);
    expect(std).toBeCloseTo(0.3085, 3);
    const trained = computeNormalization(train);
    expect(trained.mean).toBeCloseTo(0, 6);
    expect(trained.std).toBeCloseTo(1, 6);
    const raw = splitDataset(digits).test;
    expect(test.inputs.data[123]).toBe(Math.fround((raw.inputs.data[123] - mean) / std));
    // The test set is not standardized by its own statistics.
    const own = computeNormalization(test);
    expect(own.mean).not.toBe(0);
    expect(Math.abs(own.mean)).toBeLessThan(0.05);
    expect(Array.from(test.labels)).toEqual(Array.from(raw.labels));
    // prepareData is loadDigits then prepareDigits.
    expect(prepareDigits(digits).normalization).toEqual(normalization);
  });

  it('refuses constant inputs and a bad normalization', () => {
    const one = digits.getItems([0]);
    const flat = new TensorDataset(one.x.fill(0.5), one.y);
    expect(() => computeNormalization(flat)).toThrow(/standard deviation 0; cannot standardize/);
    expect(() => normalize(flat, { mean: 0, std: 0 })).toThrow('normalize: std must be > 0, got 0');
    expect(() => normalize(flat, { mean: Number.NaN, std: 1 })).toThrow('normalize: mean must be a finite number, got NaN');
    expect(() => normalize(flat, null as never)).toThrow('normalize: normalization must be { mean, std }, got null');
  });
});
