import { prepareData } from '@backprop/app-mnist/data';
import { buildModel, mlpArchitecture } from '@backprop/app-mnist/models';
import { DivergedError, trainModel } from '@backprop/app-mnist/train';
import { TorchGenerator } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, Trainer, softmax } from '../src/trainer';

const data = prepareData();

describe('Trainer: apps/mnist’s run, a slice at a time', () => {
  it('is `pnpm train --epochs 1` step for step: the same epoch loss and test accuracy', () => {
    const config = { ...DEFAULT_CONFIG, epochs: 1, seed: 3 };
    const trainer = new Trainer(data, config);
    expect(trainer.totalSteps).toBe(125); // 8,000 / 64
    // Slices of any size add up to the same run.
    let slices = 0;
    while (!trainer.done) {
      trainer.train(Number.POSITIVE_INFINITY, trainer.step + 7 + (slices++ % 5));
    }
    const mine = trainer.evaluate();

    const rng = new TorchGenerator(config.seed);
    const model = buildModel(mlpArchitecture(), rng);
    const { history, final } = trainModel(model, data.train, data.test, {
      epochs: 1,
      batchSize: config.batchSize,
      lr: config.lr,
      optimizer: 'sgd',
      sampleShape: [784],
      rng,
    });
    expect(trainer.epochLosses).toEqual([history[0].trainLoss]);
    expect(mine.testAccuracy).toBe(final.accuracy);
    expect(mine.testLoss).toBe(final.loss);
    expect(mine.testAccuracy).toBeGreaterThan(0.85);
    expect(trainer.model.stateDict()['2.bias'].data).toEqual(model.stateDict()['2.bias'].data);
  });

  it('reports each slice: its mean loss and accuracy, the rate and the schedule', () => {
    const trainer = new Trainer(data, { ...DEFAULT_CONFIG, epochs: 2 });
    expect(trainer.totalSteps).toBe(250);
    const first = trainer.train(Number.POSITIVE_INFINITY, 10);
    expect(first.step).toBe(10);
    expect(first.epoch).toBe(1);
    expect(first.loss).toBeGreaterThan(1);
    expect(first.samplesPerSecond).toBeGreaterThan(0);
    const later = trainer.train(Number.POSITIVE_INFINITY, 200);
    expect(later.step).toBe(200);
    expect(later.epoch).toBe(2);
    expect(later.loss).toBeLessThan(first.loss / 3);
    expect(later.accuracy).toBeGreaterThan(0.85);
    // Cosine annealing over 250 steps: after 200 the rate is 0.05 · (1 + cos(π·200/250)) / 2.
    expect(later.lr).toBeCloseTo((0.05 * (1 + Math.cos((Math.PI * 200) / 250))) / 2, 10);
    // A zero budget still takes one step.
    expect(trainer.train(0).step).toBe(201);
    trainer.train(Number.POSITIVE_INFINITY);
    expect(trainer.done).toBe(true);
    expect(trainer.train(Number.POSITIVE_INFINITY).step).toBe(250);
  });

  it('predicts ten probabilities for a 28×28 image, standardized as the training digits', () => {
    const trainer = new Trainer(data, DEFAULT_CONFIG);
    trainer.train(Number.POSITIVE_INFINITY, 150);
    // A training digit, back in [0, 1]: the model reads its label.
    const { mean, std } = trainer.normalization;
    const row = data.train.images.data.subarray(0, 784);
    const pixels = Float32Array.from(row, (v) => v * std + mean);
    const probabilities = trainer.predict(pixels);
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(data.train.labels[0]);
    expect(trainer.model.training).toBe(true);
    expect(() => trainer.predict(new Float32Array(10))).toThrow(/expected 784 pixels \(28×28\), got 10/);
  });

  it('shows the model as summary() does, and rejects a bad run', () => {
    const trainer = new Trainer(data, DEFAULT_CONFIG);
    expect(trainer.summary()).toContain('├─Linear: 1-1                            [64, 128]                 100,480');
    expect(() => new Trainer(data, { ...DEFAULT_CONFIG, epochs: 0 })).toThrow(/epochs must be an integer >= 1, got 0/);
    expect(() => new Trainer(data, { ...DEFAULT_CONFIG, lr: -1 })).toThrow(/lr must be > 0, got -1/);
  });
});

describe('softmax', () => {
  it('is stable for large logits and sums to 1', () => {
    const p = softmax([1000, 1000, 0]);
    expect(p[0]).toBeCloseTo(0.5, 12);
    expect(p[2]).toBe(0);
    expect(softmax([0, Math.log(3)])).toEqual([expect.closeTo(0.25, 12), expect.closeTo(0.75, 12)]);
  });

});

describe('Trainer when the run diverges', () => {
  it('stops with apps/mnist\'s DivergedError, naming the epoch and step, when the run diverges', () => {
    const trainer = new Trainer(data, { ...DEFAULT_CONFIG, epochs: 1, lr: 1e12 });
    let error: unknown;
    try {
      while (!trainer.done) trainer.train(Number.POSITIVE_INFINITY, trainer.step + 10);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DivergedError);
    const diverged = error as DivergedError;
    expect(diverged.message).toMatch(/^training diverged at epoch 1, step \d+: .*try a smaller learning rate$/s);
    expect(diverged.epoch).toBe(1);
    expect(diverged.step).toBeGreaterThan(0);
    expect(trainer.step).toBe(diverged.step - 1); // the failed step is not counted
  });
});
