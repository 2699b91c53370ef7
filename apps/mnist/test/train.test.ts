import { Linear, NeuralLayer, Sequential } from '@backprop/layers';
import { type NDArray, TorchGenerator, setNumThreads } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { DivergedError, TensorDataset } from '@backprop/data';
import type { Digits } from '@backprop/data/mnist';
import { prepareData } from '@backprop/data/mnist/node';
import { evaluate } from '../src/evaluate';
import { type Architecture, buildModel, cnnArchitecture, mlpArchitecture } from '../src/models';
import { type OptimizerName, trainModel } from '../src/train';

const data = prepareData();
const first = (dataset: Digits, n: number) => {
  const { x, y } = dataset.getItems(Array.from({ length: n }, (_, i) => i));
  return new TensorDataset(x, y);
};
const train600 = first(data.train, 600);
const test500 = first(data.test, 500);

function run(
  architecture: Architecture,
  seed: number,
  train: Digits,
  test: Digits,
  optimizer: OptimizerName = 'sgd',
  lr = 0.05,
  batchSize = 32,
) {
  const rng = new TorchGenerator(seed);
  const model = buildModel(architecture, rng);
  const batchLosses: number[] = [];
  const result = trainModel(
    model,
    train,
    test,
    { epochs: 1, batchSize, lr, optimizer, sampleShape: architecture.inputShape, rng },
    { onBatch: (p) => batchLosses.push(p.batchLoss) },
  );
  return { model, result, batchLosses };
}

describe('training', () => {
  it('a short run learns: the loss falls and accuracy is far above chance', () => {
    const architecture = mlpArchitecture();
    const before = evaluate(buildModel(architecture, new TorchGenerator(0)), test500, { sampleShape: [784] });
    const { result, batchLosses } = run(architecture, 0, train600, test500);
    expect(batchLosses.length).toBe(Math.ceil(600 / 32));
    const head = batchLosses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const tail = batchLosses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(head).toBeGreaterThan(1.5); // about ln 10 at the start
    expect(tail).toBeLessThan(head / 2);
    const [epoch] = result.history;
    expect(epoch.testLoss).toBeLessThan(before.loss / 2);
    expect(epoch.testAccuracy).toBeGreaterThan(0.7); // chance is 0.1
    expect(result.final.accuracy).toBe(epoch.testAccuracy);
    expect(epoch.samplesPerSecond).toBeGreaterThan(0);
    expect(epoch.seconds).toBeGreaterThan(0);
    expect(epoch.lr).toBeLessThan(0.05); // annealed
  });

  it('the same seed gives the same weights bit for bit; another seed does not', () => {
    const small = first(data.train, 200);
    const testSmall = first(data.test, 50);
    for (const architecture of [mlpArchitecture(), cnnArchitecture()]) {
      const a = run(architecture, 7, small, testSmall, 'adam', 0.003).model.stateDict();
      const b = run(architecture, 7, small, testSmall, 'adam', 0.003).model.stateDict();
      const c = run(architecture, 8, small, testSmall, 'adam', 0.003).model.stateDict();
      for (const key of Object.keys(a)) {
        expect(Buffer.from(a[key].data.buffer).equals(Buffer.from(b[key].data.buffer)), `${architecture.name} ${key}`).toBe(true);
      }
      expect(Array.from(a['0.weight'].data)).not.toEqual(Array.from(c['0.weight'].data));
    }
  });

  it('trains the same weights bit for bit on two threads (--threads 2) as on one', async () => {
    // Batch 64: the MLP's 64×784×128 products are above the threshold where gemm splits across threads.
    const train640 = first(data.train, 640);
    const one = run(mlpArchitecture(), 3, train640, test500, 'sgd', 0.05, 64).model.stateDict();
    await setNumThreads(2);
    try {
      const two = run(mlpArchitecture(), 3, train640, test500, 'sgd', 0.05, 64).model.stateDict();
      for (const key of Object.keys(one)) {
        expect(Buffer.from(two[key].data.buffer).equals(Buffer.from(one[key].data.buffer)), key).toBe(true);
      }
    } finally {
      await setNumThreads(1);
    }
  });

  it('stops with a clear message when the loss stops being finite', () => {
    const architecture = mlpArchitecture();
    let error: unknown;
    try {
      run(architecture, 0, train600, test500, 'sgd', 1e12);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DivergedError);
    expect((error as DivergedError).message).toMatch(
      /^training diverged at epoch 1, step \d+: (the model's output is (NaN|-?Infinity) at index \d+ of the batch|the loss is)/,
    );
    expect((error as DivergedError).message).toContain('try a smaller --lr');
    expect((error as DivergedError).epoch).toBe(1);
  });

  it("stops with the optimizer's message when a gradient goes bad while the loss is finite", () => {
    // A layer that passes its input through but sends NaN back: the loss stays finite,
    // so only the optimizer's check can stop the run, naming the parameter.
    class PoisonedBackward extends NeuralLayer {
      forward(input: NDArray): NDArray {
        return input;
      }
      backward(outputGrad: NDArray): NDArray {
        return outputGrad.clone().fill(Number.NaN);
      }
    }
    const rng = new TorchGenerator(0);
    const model = new Sequential(new Linear(784, 10, { rng }), new PoisonedBackward());
    expect(() =>
      trainModel(model, train600, test500, { epochs: 1, batchSize: 32, lr: 0.1, optimizer: 'sgd', sampleShape: [784], rng }),
    ).toThrow(/^training diverged at epoch 1, step 1: SGD\.step: step 1: the grad of '0\.weight' \(parameter 0\) holds NaN at index \[0, 0\]/);
  });

  it('rejects a bad epoch count', () => {
    const rng = new TorchGenerator(0);
    const model = buildModel(mlpArchitecture(), rng);
    expect(() =>
      trainModel(model, train600, test500, { epochs: 0, batchSize: 32, lr: 0.1, optimizer: 'sgd', sampleShape: [784], rng }),
    ).toThrow('trainModel: epochs must be an integer >= 1, got 0');
  });
});
