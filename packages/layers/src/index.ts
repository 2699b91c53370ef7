/**
 * @backprop/layers: neural-network layers with explicit forward and backward
 * passes that match PyTorch's `torch.nn` (names, defaults, initialisation,
 * state-dict keys and gradients).
 */
export {
  NeuralLayer,
  StateDictError,
  type BackwardOptions,
  type ForwardOptions,
  type LoadStateDictOptions,
  type LoadStateDictResult,
} from './layer';
export { Linear, type LinearOptions } from './linear';
export { Dense, type DenseOptions } from './dense';
export type { ActivationName } from './activation-functions';
export {
  ReLU,
  Identity,
  Tanh,
  Sigmoid,
  LeakyReLU,
  GELU,
  SiLU,
  ELU,
  Softplus,
  Mish,
  Softmax,
  LogSoftmax,
  type GELUOptions,
  type ELUOptions,
  type SoftplusOptions,
  type SoftmaxOptions,
} from './activations';
export { Conv2d, type Conv2dOptions } from './conv2d';
export { Conv1d, type Conv1dOptions, type Size1d } from './conv1d';
export { ConvTranspose2d, type ConvTranspose2dOptions } from './convtranspose2d';
export type { PaddingString } from './conv-core';
export type { Size2d } from './size2d';
export { MaxPool2d, type MaxPool2dOptions } from './maxpool2d';
export { AvgPool2d, type AvgPool2dOptions } from './avgpool2d';
export { AdaptiveAvgPool2d, type AdaptiveSize2d } from './adaptive-avgpool2d';
export { Dropout, type DropoutOptions } from './dropout';
export { Flatten } from './flatten';
export { Sequential } from './sequential';
export { BatchNormBase, BatchNorm1d, BatchNorm2d, type BatchNormOptions } from './batchnorm';
export { LayerNorm, GroupNorm, type LayerNormOptions, type GroupNormOptions } from './normalization';
export { ModuleList, ModuleDict, Residual } from './containers';
export {
  TransformerEncoder,
  TransformerEncoderLayer,
  type TransformerActivation,
  type TransformerEncoderForwardOptions,
  type TransformerEncoderLayerOptions,
  type TransformerEncoderOptions,
} from './transformer';
export {
  RNN,
  LSTM,
  GRU,
  RecurrentBase,
  type RNNOptions,
  type LSTMOptions,
  type GRUOptions,
  type RecurrentOptions,
  type LSTMState,
  type RecurrentState,
  type RecurrentForwardOptions,
  type RecurrentBackwardOptions,
  type RecurrentMode,
} from './rnn';
export { Embedding, type EmbeddingOptions, type EmbeddingFromPretrainedOptions } from './embedding';
export {
  MultiheadAttention,
  NonDynamicallyQuantizableLinear,
  type MultiheadAttentionOptions,
  type MultiheadAttentionForwardOptions,
} from './attention';
export {
  scaledDotProductAttention,
  scaledDotProductAttentionBackward,
  causalMask,
  type ScaledDotProductAttentionOptions,
  type ScaledDotProductAttentionResult,
  type AttentionGrads,
} from './attention-functional';
export { LAYERS, type LayerName } from './registry';
export { summary, summarize, type ModelSummary, type SummaryOptions, type SummaryRow } from './summary';
/**
 * `torch.nn.init` as a namespace: `init.kaimingUniform`, `init.xavierNormal`,
 * `init.uniform`, `init.normal`, `init.constant`, `init.zeros`, `init.ones`,
 * `init.calculateGain`. Each fills an array in place from a generator.
 */
export * as init from './init';
export {
  calculateGain,
  calculateFanInAndFanOut,
  kaimingUniform,
  kaimingNormal,
  xavierUniform,
  xavierNormal,
  type Nonlinearity,
  type FanMode,
  type KaimingOptions,
  type XavierOptions,
  type UniformOptions,
  type NormalOptions,
} from './init';
export {
  gradcheck,
  type Differentiable,
  type GradcheckOptions,
  type GradcheckResult,
  type GradcheckWorst,
} from './gradcheck';
