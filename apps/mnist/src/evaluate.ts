import { type EvaluableModel, type Evaluation, TensorDataset, evaluate as evaluateClassifier } from '@backprop/data';
import type { Digits } from '@backprop/data/mnist';
import { CrossEntropyLoss } from '@backprop/losses';

export type { Evaluation };

/** The digits with each row shaped as the model takes it (`[784]`, or `[1, 28, 28]` for the CNN): a view, no copy. */
export function shaped(data: Digits, sampleShape: readonly number[]): Digits {
  return new TensorDataset(data.inputs.reshape([data.length, ...sampleShape]), data.labels);
}

/**
 * `evaluate` of @backprop/data with the app's loss (mean cross-entropy over
 * the digits) and each row shaped as the model takes it: loss, accuracy,
 * every prediction and the confusion matrix, in evaluation mode.
 */
export function evaluate(model: EvaluableModel, data: Digits, { sampleShape }: { sampleShape: readonly number[] }): Evaluation {
  return evaluateClassifier(model, shaped(data, sampleShape), { lossFn: new CrossEntropyLoss({ reduction: 'sum' }) });
}
