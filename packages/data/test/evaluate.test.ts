import { NDArray, ValueError, array, argmax, logSumExp, sub, sum } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { TensorDataset, argmaxRow, evaluate } from '../src/index';

/** A "model" whose logits are its input: row i of the data is the logits of sample i. */
class Passthrough {
  training = true;
  modes: boolean[] = [];
  forward(x: NDArray): NDArray {
    return x;
  }
  train(mode = true): this {
    this.modes.push(mode);
    this.training = mode;
    return this;
  }
}

/** Cross-entropy written out, with torch's reductions. */
class CrossEntropy {
  constructor(readonly reduction: 'mean' | 'sum' | undefined) {}
  forward(logits: NDArray, target: Int32Array): number {
    const logProbs = sub(logits, logSumExp(logits, 1, true));
    let total = 0;
    for (let i = 0; i < target.length; i++) total -= logProbs.data[i * logits.shape[1] + target[i]];
    return this.reduction === 'sum' ? total : total / target.length;
  }
  backward(): NDArray {
    throw new Error('not needed');
  }
}

const logits = array([
  [2, 1, 0],
  [0, 3, 1],
  [1, 1, 5],
  [4, 0, 0],
  [0, 2, 1],
]);
const labels = new Int32Array([0, 1, 1, 0, 2]);

describe('argmaxRow', () => {
  it('picks the largest of n values from an offset, the first on ties (torch.argmax)', () => {
    expect(argmaxRow([1, 5, 3, 5, 0], 0, 5)).toBe(1);
    expect(argmaxRow([9, 9, 0, 2, 7], 2, 3)).toBe(2);
    expect(argmaxRow(new Float32Array([3, 3, 3]), 0, 3)).toBe(0);
    const rows = Array.from({ length: 5 }, (_, i) => argmaxRow(logits.data, i * 3, 3));
    expect(rows).toEqual(Array.from(argmax(logits, 1).data));
  });
});

describe('evaluate', () => {
  it('measures loss, accuracy, predictions and the confusion matrix, in dataset order', () => {
    const model = new Passthrough();
    const result = evaluate(model, new TensorDataset(logits, labels), { lossFn: new CrossEntropy('sum'), batchSize: 2 });
    expect(Array.from(result.predictions)).toEqual([0, 1, 2, 0, 1]);
    expect(result.accuracy).toBe(3 / 5);
    expect(result.count).toBe(5);
    expect(result.confusion).toEqual([
      [2, 0, 0],
      [0, 1, 1],
      [0, 1, 0],
    ]);
    const expected = new CrossEntropy('sum').forward(logits, labels) / 5;
    expect(result.loss).toBeCloseTo(expected, 6);
    // Evaluation mode while it ran, training mode again after.
    expect(model.modes).toEqual([false, true]);
    expect(model.training).toBe(true);
  });

  it('reports the same mean loss for a mean-reduced loss, and leaves a model in eval mode as it found it', () => {
    const model = new Passthrough().train(false);
    const summed = evaluate(model, new TensorDataset(logits, labels), { lossFn: new CrossEntropy('sum'), batchSize: 2 });
    const meaned = evaluate(model, new TensorDataset(logits, labels), { lossFn: new CrossEntropy('mean'), batchSize: 2 });
    const unknown = evaluate(model, new TensorDataset(logits, labels), { lossFn: new CrossEntropy(undefined), batchSize: 5 });
    expect(meaned.loss).toBeCloseTo(summed.loss, 6);
    expect(unknown.loss).toBeCloseTo(summed.loss, 6);
    expect(model.training).toBe(false);
  });

  it('puts the model back in training mode even when a batch fails', () => {
    const model = new Passthrough();
    const bad = new TensorDataset(logits, new Int32Array([0, 1, 1, 0, 3]));
    expect(() => evaluate(model, bad, { lossFn: new CrossEntropy('sum'), batchSize: 2 })).toThrow(
      'evaluate: sample 4 has label 3; expected a class index in [0, 3)',
    );
    expect(model.training).toBe(true);
  });

  it('rejects bad arguments, naming what it got and what it expected', () => {
    const model = new Passthrough();
    const data = new TensorDataset(logits, labels);
    const lossFn = new CrossEntropy('sum');
    expect(() => evaluate(model, data, { lossFn, batchSize: 0 })).toThrow('evaluate: batchSize must be >= 1, got 0');
    expect(() => evaluate(model, data, { lossFn, batchSize: Number.NaN })).toThrow('evaluate: batchSize must be a finite number, got NaN');
    expect(() => evaluate(model, data, { lossFn, sampleShape: [3] } as never)).toThrow("evaluate: unknown option 'sampleShape'; expected one of 'lossFn', 'batchSize'");
    expect(() => evaluate(model, data, {} as never)).toThrow(/evaluate: lossFn must be a loss with forward\(prediction, target\), e\.g\. new CrossEntropyLoss\(\{ reduction: 'sum' \}\), got undefined/);
    expect(() => evaluate({ forward: (x: NDArray) => x } as never, data, { lossFn })).toThrow('evaluate: model must have forward() and train(mode), got an object with keys ["forward"]');
    expect(() => evaluate(model, new TensorDataset(new NDArray(new Float32Array(0), [0, 3]), new Int32Array(0)), { lossFn })).toThrow(
      'evaluate: the dataset is empty; there is nothing to evaluate',
    );
    expect(() => evaluate(model, new TensorDataset(logits, sum(logits, 1)) as never, { lossFn })).toThrow(ValueError);
    expect(() => evaluate(model, data, { lossFn: Object.assign(new CrossEntropy('sum'), { reduction: 'none' }) })).toThrow(
      "evaluate: lossFn has reduction 'none', which returns every term; evaluate needs one number per batch: use 'mean' or 'sum'",
    );
    const flat = { ...model, forward: (x: NDArray) => sum(x, 1), train: () => {}, training: true };
    expect(() => evaluate(flat, data, { lossFn })).toThrow("evaluate: the model's output has shape [5]; expected [5, classes] for a batch of 5");
  });
});
