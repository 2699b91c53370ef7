import { DataLoader, DivergedError, evaluate } from '@backprop/data';
import type { PreparedData } from '@backprop/data/mnist';
import { prepareData } from '@backprop/data/mnist/node';
import { Linear, ReLU, Sequential } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { TorchGenerator, getBackend } from '@backprop/ndarray';
import { CosineAnnealingLR, SGD } from '@backprop/optimizers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, Trainer, softmax } from '../src/trainer';
import type { RunConfig } from '../src/protocol';
import { createStrictBackend } from './strict-backend';

const data = prepareData();

/**
 * `pnpm train`'s MLP run (apps/mnist's trainModel with `--optimizer sgd`), written
 * out as the PyTorch loop: one generator for the weights and then the shuffling,
 * SGD with momentum 0.9, cosine annealing per iteration, mean cross-entropy.
 */
function referenceRun(prepared: PreparedData, { epochs, lr, batchSize, seed }: RunConfig) {
  const rng = new TorchGenerator(seed);
  const model = new Sequential(new Linear(784, 128, { rng }), new ReLU(), new Linear(128, 10, { rng }));
  const loader = new DataLoader(prepared.train, { batchSize, shuffle: true, rng });
  const optimizer = new SGD(model.parameters(), { lr, momentum: 0.9 });
  const scheduler = new CosineAnnealingLR(optimizer, { tMax: epochs * loader.length });
  const lossFn = new CrossEntropyLoss();
  const epochLosses: number[] = [];
  model.train();
  for (let epoch = 0; epoch < epochs; epoch++) {
    let lossSum = 0;
    let samples = 0;
    for (const { x, y } of loader) {
      const loss = lossFn.forward(model.forward(x), y);
      model.backward(lossFn.backward());
      optimizer.step();
      optimizer.zeroGrad();
      scheduler.step();
      lossSum += loss * y.length;
      samples += y.length;
    }
    epochLosses.push(lossSum / samples);
  }
  const final = evaluate(model, prepared.test, { lossFn: new CrossEntropyLoss({ reduction: 'sum' }) });
  return { model, epochLosses, final };
}

describe('Trainer: pnpm train’s MLP run, a slice at a time', () => {
  it('is the run written out as a PyTorch loop, step for step: the same epoch loss, test loss and accuracy', async () => {
    const config = { ...DEFAULT_CONFIG, epochs: 1, seed: 3 };
    const trainer = new Trainer(data, config);
    expect(trainer.totalSteps).toBe(125); // 8,000 / 64
    // Slices of any size add up to the same run.
    let slices = 0;
    while (!trainer.done) {
      await trainer.train(Number.POSITIVE_INFINITY, trainer.step + 7 + (slices++ % 5));
    }
    const mine = await trainer.evaluate();

    const { model, epochLosses, final } = referenceRun(data, config);
    expect(trainer.epochLosses).toEqual(epochLosses);
    expect(mine.testAccuracy).toBe(final.accuracy);
    expect(mine.testLoss).toBe(final.loss);
    expect(mine.testAccuracy).toBeGreaterThan(0.85);
    expect(trainer.model.stateDict()['2.bias'].data).toEqual(model.stateDict()['2.bias'].data);
  });

  it('reports each slice: its mean loss and accuracy, the rate and the schedule', async () => {
    const trainer = new Trainer(data, { ...DEFAULT_CONFIG, epochs: 2 });
    expect(trainer.totalSteps).toBe(250);
    const first = await trainer.train(Number.POSITIVE_INFINITY, 10);
    expect(first.step).toBe(10);
    expect(first.epoch).toBe(1);
    expect(first.loss).toBeGreaterThan(1);
    expect(first.samplesPerSecond).toBeGreaterThan(0);
    const later = await trainer.train(Number.POSITIVE_INFINITY, 200);
    expect(later.step).toBe(200);
    expect(later.epoch).toBe(2);
    expect(later.loss).toBeLessThan(first.loss / 3);
    expect(later.accuracy).toBeGreaterThan(0.85);
    // Cosine annealing over 250 steps: after 200 the rate is 0.05 · (1 + cos(π·200/250)) / 2.
    expect(later.lr).toBeCloseTo((0.05 * (1 + Math.cos((Math.PI * 200) / 250))) / 2, 10);
    // A zero budget still takes one step.
    expect((await trainer.train(0)).step).toBe(201);
    await trainer.train(Number.POSITIVE_INFINITY);
    expect(trainer.done).toBe(true);
    expect((await trainer.train(Number.POSITIVE_INFINITY)).step).toBe(250);
  });

  it('predicts ten probabilities for a 28×28 image, standardized as the training digits', async () => {
    const trainer = new Trainer(data, DEFAULT_CONFIG);
    await trainer.train(Number.POSITIVE_INFINITY, 150);
    // A training digit, back in [0, 1]: the model reads its label.
    const { mean, std } = trainer.normalization;
    const row = data.train.inputs.data.subarray(0, 784);
    const pixels = Float32Array.from(row, (v) => v * std + mean);
    const probabilities = await trainer.predict(pixels);
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(probabilities.indexOf(Math.max(...probabilities))).toBe(data.train.labels[0]);
    expect(trainer.model.training).toBe(true);
    await expect(trainer.predict(new Float32Array(10))).rejects.toThrow(/expected 784 pixels \(28×28\), got 10/);
  });

  it('shows the model as summary() does, and rejects a bad run', () => {
    const trainer = new Trainer(data, DEFAULT_CONFIG);
    expect(trainer.summary()).toContain('├─Linear: 1-1                            [64, 128]                 100,480');
    expect(() => new Trainer(data, { ...DEFAULT_CONFIG, epochs: 0 })).toThrow(/epochs must be an integer >= 1, got 0/);
    expect(() => new Trainer(data, { ...DEFAULT_CONFIG, lr: -1 })).toThrow(/lr must be > 0, got -1/);
  });
});

describe('Trainer on a backend that keeps its arrays off the host, as WebGPU does', () => {
  it('trains, evaluates and predicts with no synchronous read, near the CPU run, and leaves the active backend alone', async () => {
    const config = { ...DEFAULT_CONFIG, epochs: 1 };
    const active = getBackend();
    const device = createStrictBackend();
    const gpuLike = new Trainer(data, config, { backend: device });
    const cpu = new Trainer(data, config);
    expect(gpuLike.backend).toBe(device);
    expect(cpu.backend).toBe(active);
    expect(gpuLike.model.parameters()[0].value.storage).not.toBeInstanceOf(Float32Array); // the weights live on the device
    expect(gpuLike.summary()).toBe(cpu.summary());
    const before = await gpuLike.evaluate();
    expect(before.testAccuracy).toBeCloseTo((await cpu.evaluate()).testAccuracy, 10);
    for (const stopAt of [10, 20, 30]) {
      const mine = await gpuLike.train(Number.POSITIVE_INFINITY, stopAt);
      const theirs = await cpu.train(Number.POSITIVE_INFINITY, stopAt);
      expect(mine.step).toBe(stopAt);
      // The TypeScript kernels in float32 against WebAssembly's, the loss summed on the device: equal to rounding.
      expect(mine.loss).toBeCloseTo(theirs.loss, 4);
      expect(Math.abs(mine.accuracy - theirs.accuracy)).toBeLessThanOrEqual(1 / 64);
      expect(mine.samplesPerSecond).toBeGreaterThan(0);
    }
    const after = await gpuLike.evaluate();
    expect(after.testLoss).toBeCloseTo((await cpu.evaluate()).testLoss, 3);
    expect(after.testAccuracy).toBeGreaterThan(before.testAccuracy + 0.3);
    const pixels = Float32Array.from(data.test.inputs.data.subarray(0, 784), (v) => v * data.normalization.std + data.normalization.mean);
    const probabilities = await gpuLike.predict(pixels);
    const expected = await cpu.predict(pixels);
    for (const [i, p] of probabilities.entries()) expect(p).toBeCloseTo(expected[i], 4);
    expect(device.syncReads).toBe(0);
    // One read per slice, one per evaluation, one per prediction.
    expect(device.asyncReads).toBe(3 + 2 + 1);
    expect(getBackend()).toBe(active);
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
  it("stops with @backprop/data's DivergedError, naming the epoch and step, when the run diverges", async () => {
    const trainer = new Trainer(data, { ...DEFAULT_CONFIG, epochs: 1, lr: 1e12 });
    let error: unknown;
    try {
      while (!trainer.done) await trainer.train(Number.POSITIVE_INFINITY, trainer.step + 10);
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
