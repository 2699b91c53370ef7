export {
  type Dataset,
  type Sample,
  type Collated,
  type Labels,
  type LabelOf,
  TensorDataset,
  Subset,
  defaultCollate,
} from './dataset';
export { randomSplit, type RandomSplitOptions } from './random-split';
export { DataLoader, type DataLoaderOptions, type Batch } from './loader';
export {
  trainStep,
  DivergedError,
  type TrainableModel,
  type LossFunction,
  type StepOptimizer,
  type StepPosition,
} from './train-step';
export { evaluate, argmaxRow, type Evaluation, type EvaluateOptions, type EvaluableModel } from './evaluate';
