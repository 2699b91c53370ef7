import { type NDArray, ShapeError, ValueError, checkNumber, checkOptions, describe, formatShape } from '@backprop/ndarray';
import { type Dataset, checkDataset } from './dataset';
import { DataLoader } from './loader';
import type { LossFunction } from './train-step';

/** What {@link evaluate} needs of a model: `forward`, and `training`/`train(mode)` as a `NeuralLayer` has them. */
export interface EvaluableModel {
  forward(input: NDArray): NDArray;
  readonly training: boolean;
  train(mode?: boolean): unknown;
}

/** What {@link evaluate} measures over a dataset. */
export interface Evaluation {
  /** Mean loss over every sample. */
  loss: number;
  /** Fraction of samples whose highest output is their label. */
  accuracy: number;
  /** Predicted class of each sample, in dataset order. */
  predictions: Int32Array;
  /** `confusion[true][predicted]`: counts, C×C for C classes. */
  confusion: number[][];
  /** Samples evaluated. */
  count: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /**
   * The loss to report, e.g. `new CrossEntropyLoss({ reduction: 'sum' })`.
   * With `reduction: 'sum'` its values are added up; otherwise (`'mean'`, or
   * a loss without a `reduction`) each batch's value counts once per sample.
   * Either way `loss` is the mean over all samples.
   */
  lossFn: LossFunction<Int32Array> & { readonly reduction?: string };
  /** Samples per forward pass (default 500); the result does not depend on it beyond float rounding of the loss. */
  batchSize?: number;
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
 * Runs a classifier over `dataset` in evaluation mode, in order, and returns
 * the mean loss, the accuracy, every prediction (the argmax of each output
 * row) and the confusion matrix. The model's output must be `[B, C]` for C
 * classes and every label a class index in [0, C). The model is put back in
 * training mode afterwards if it was in it.
 */
export function evaluate(model: EvaluableModel, dataset: Dataset<Int32Array>, options: EvaluateOptions): Evaluation {
  const op = 'evaluate';
  if (model === null || typeof model !== 'object' || typeof model.forward !== 'function' || typeof model.train !== 'function') {
    throw new ValueError(`${op}: model must have forward() and train(mode), got ${describe(model)}`);
  }
  checkDataset(op, dataset);
  checkOptions(op, options, ['lossFn', 'batchSize']);
  const { lossFn, batchSize = 500 } = options ?? ({} as EvaluateOptions);
  if (lossFn === null || typeof lossFn !== 'object' || typeof lossFn.forward !== 'function') {
    throw new ValueError(`${op}: lossFn must be a loss with forward(prediction, target), e.g. new CrossEntropyLoss({ reduction: 'sum' }), got ${describe(lossFn)}`);
  }
  if ((lossFn as { reduction?: unknown }).reduction === 'none') {
    throw new ValueError(`${op}: lossFn has reduction 'none', which returns every term; evaluate needs one number per batch: use 'mean' or 'sum'`);
  }
  checkNumber(op, 'batchSize', batchSize, { integer: true, min: 1 });
  if (dataset.length === 0) throw new ValueError(`${op}: the dataset is empty; there is nothing to evaluate`);
  const summed = lossFn.reduction === 'sum';

  const wasTraining = model.training;
  model.train(false);
  try {
    const loader = new DataLoader(dataset, { batchSize });
    const predictions = new Int32Array(loader.size);
    let confusion: number[][] = [];
    let classes = 0;
    let lossSum = 0;
    let correct = 0;
    for (const { x, y, indices } of loader) {
      if (!(y instanceof Int32Array)) {
        throw new ValueError(`${op}: the dataset's labels must be class indices (an Int32Array batch), got ${describe(y)}`);
      }
      const output = model.forward(x);
      if (output.ndim !== 2 || output.shape[0] !== y.length) {
        throw new ShapeError(`${op}: the model's output has shape ${formatShape(output.shape)}; expected [${y.length}, classes] for a batch of ${y.length}`);
      }
      if (classes === 0) {
        classes = output.shape[1];
        confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
      } else if (output.shape[1] !== classes) {
        throw new ShapeError(`${op}: the model's output has ${output.shape[1]} classes in one batch and ${classes} in another`);
      }
      const value = lossFn.forward(output, y);
      lossSum += summed ? value : value * y.length;
      // One read of the outputs per batch (a copy from the device on a backend that keeps arrays off the host).
      const logits = output.data;
      for (let i = 0; i < y.length; i++) {
        const label = y[i];
        if (label < 0 || label >= classes) {
          throw new ValueError(`${op}: sample ${indices[i]} has label ${label}; expected a class index in [0, ${classes})`);
        }
        const predicted = argmaxRow(logits, i * classes, classes);
        predictions[indices[i]] = predicted;
        confusion[label][predicted]++;
        if (predicted === label) correct++;
      }
    }
    const count = loader.size;
    return { loss: lossSum / count, accuracy: correct / count, predictions, confusion, count };
  } finally {
    model.train(wasTraining);
  }
}
