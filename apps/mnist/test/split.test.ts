import { DIGIT_COUNT, PIXELS, TEST_SIZE, TRAIN_SIZE, splitDataset } from '@backprop/data/mnist';
import { loadDigits, prepareData } from '@backprop/data/mnist/node';
import { describe, expect, it } from 'vitest';
import { readFixture } from './helpers';

// The reader, the split and the standardization are @backprop/data's (tested there);
// this checks that the app trains and tests on the digits PyTorch's reference used.
describe('the fixed split the app trains on', () => {
  const digits = loadDigits();
  const { train, test, normalization } = prepareData();

  it('is 8,000 / 2,000 of the 10,000 digits, standardized with the train mean and std', () => {
    expect(digits.length).toBe(DIGIT_COUNT);
    expect(train.inputs.shape).toEqual([TRAIN_SIZE, PIXELS]);
    expect(test.inputs.shape).toEqual([TEST_SIZE, PIXELS]);
    expect(normalization.mean).toBeCloseTo(0.131, 3);
    expect(normalization.std).toBeCloseTo(0.3085, 3);
  });

  it('holds the test digits of tools/torch-fixtures/mnist.py (torch.randperm(10000) after manual_seed(0)), in order', () => {
    const fixture = readFixture();
    const { testIndices } = splitDataset(digits);
    expect(Array.from(testIndices.subarray(0, fixture.indices.length))).toEqual(fixture.indices);
    expect(Array.from(test.labels.subarray(0, fixture.labels.length))).toEqual(fixture.labels);
  });
});
