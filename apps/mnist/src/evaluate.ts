import type { NeuralLayer } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import type { Dataset } from './dataset';
import { DataLoader } from './loader';

/** What {@link evaluate} measures over a dataset. */
export interface Evaluation {
  /** Mean cross-entropy over every sample. */
  loss: number;
  /** Fraction of samples whose highest logit is their label. */
  accuracy: number;
  /** Predicted class of each sample, in dataset order. */
  predictions: Int32Array;
  /** `confusion[true][predicted]`: counts, 10×10. */
  confusion: number[][];
  /** Samples evaluated. */
  count: number;
}

/** The index of the largest of `n` values of `data` from `offset` (the first on ties, as torch.argmax). */
export function argmaxRow(data: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  let bestValue = data[offset];
  for (let j = 1; j < n; j++) {
    const v = data[offset + j];
    if (v > bestValue) {
      bestValue = v;
      best = j;
    }
  }
  return best;
}

/**
 * Runs `model` in evaluation mode over `data` in batches and returns the mean
 * loss, the accuracy, every prediction and the confusion matrix. The model
 * is put back in training mode if it was in it.
 */
export function evaluate(
  model: NeuralLayer,
  data: Dataset,
  { sampleShape, batchSize = 500, classes = 10 }: { sampleShape: readonly number[]; batchSize?: number; classes?: number },
): Evaluation {
  const wasTraining = model.training;
  model.eval();
  const lossFn = new CrossEntropyLoss({ reduction: 'sum' });
  const loader = new DataLoader(data, { batchSize, sampleShape });
  const predictions = new Int32Array(loader.size);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0;
  let correct = 0;
  for (const { x, y, indices } of loader) {
    const logits = model.forward(x);
    lossSum += lossFn.forward(logits, y);
    for (let i = 0; i < y.length; i++) {
      const predicted = argmaxRow(logits.data, i * classes, classes);
      predictions[indices[i]] = predicted;
      confusion[y[i]][predicted]++;
      if (predicted === y[i]) correct++;
    }
  }
  model.train(wasTraining);
  const count = loader.size;
  return { loss: lossSum / count, accuracy: correct / count, predictions, confusion, count };
}
