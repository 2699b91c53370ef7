import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DIGIT_COUNT,
  MnistDataError,
  PIXELS,
  TEST_SIZE,
  TRAIN_SIZE,
  computeNormalization,
  loadDigits,
  normalize,
  prepareData,
  splitDataset,
  subset,
} from '../src/data';
import { readFixture } from './helpers';

const digits = loadDigits();

describe('loadDigits', () => {
  it('reads the 10,000 digits of the mnist package as [10000, 784] float32 in [0, 1]', () => {
    expect(digits.images.shape).toEqual([DIGIT_COUNT, PIXELS]);
    expect(digits.images.dtype).toBe('float32');
    expect(digits.labels.length).toBe(DIGIT_COUNT);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of digits.images.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
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
  const { train, test, permutation } = splitDataset(digits);

  it('splits 8,000 / 2,000 without overlap, covering every digit once', () => {
    expect(train.images.shape).toEqual([TRAIN_SIZE, PIXELS]);
    expect(test.images.shape).toEqual([TEST_SIZE, PIXELS]);
    expect(train.labels.length).toBe(TRAIN_SIZE);
    expect(test.labels.length).toBe(TEST_SIZE);
    expect(new Set(permutation).size).toBe(DIGIT_COUNT);
  });

  it('is fixed: the permutation of torch.randperm(10000) after manual_seed(0)', () => {
    const again = splitDataset(digits);
    expect(Array.from(again.permutation)).toEqual(Array.from(permutation));
    // The PyTorch fixture's test digits are the first of torch's split.
    const fixture = readFixture();
    expect(Array.from(permutation.subarray(TRAIN_SIZE, TRAIN_SIZE + fixture.indices.length))).toEqual(fixture.indices);
    expect(Array.from(test.labels.subarray(0, fixture.labels.length))).toEqual(fixture.labels);
  });

  it('copies the rows it picks', () => {
    const i = permutation[TRAIN_SIZE + 7];
    expect(Array.from(test.images.data.subarray(7 * PIXELS, 8 * PIXELS))).toEqual(
      Array.from(digits.images.data.subarray(i * PIXELS, (i + 1) * PIXELS)),
    );
    expect(test.labels[7]).toBe(digits.labels[i]);
    expect(() => subset(digits, [DIGIT_COUNT])).toThrow(/index 10000 at position 0 is out of range/);
    expect(() => splitDataset(digits, { trainSize: 9000, testSize: 2000 })).toThrow(/more than the 10000/);
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
    expect(test.images.data[123]).toBe(Math.fround((raw.images.data[123] - mean) / std));
    // The test set is not standardized by its own statistics.
    const own = computeNormalization(test);
    expect(own.mean).not.toBe(0);
    expect(Math.abs(own.mean)).toBeLessThan(0.05);
    expect(Array.from(test.labels)).toEqual(Array.from(raw.labels));
  });

  it('refuses constant pixels', () => {
    const flat = normalize(subset(digits, [0]), { mean: 0, std: 1 });
    flat.images.data.fill(0.5);
    expect(() => computeNormalization(flat)).toThrow(/standard deviation 0/);
  });
});
