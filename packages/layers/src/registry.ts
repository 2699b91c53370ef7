/**
 * Every layer class of this package by its torch name: the one list that
 * tests, tools/torch-parity and the apps share (a model description such as
 * `{ type: 'Linear', ... }` names its class here).
 */
import { ELU, GELU, Identity, LeakyReLU, LogSoftmax, Mish, ReLU, SiLU, Sigmoid, Softmax, Softplus, Tanh } from './activations';
import { AdaptiveAvgPool2d } from './adaptive-avgpool2d';
import { AvgPool2d } from './avgpool2d';
import { BatchNorm1d, BatchNorm2d } from './batchnorm';
import { Conv1d } from './conv1d';
import { Conv2d } from './conv2d';
import { ConvTranspose2d } from './convtranspose2d';
import { Dense } from './dense';
import { MultiheadAttention } from './attention';
import { Dropout } from './dropout';
import { Embedding } from './embedding';
import { Flatten } from './flatten';
import { Linear } from './linear';
import { MaxPool2d } from './maxpool2d';
import { GroupNorm, LayerNorm } from './normalization';
import { GRU, LSTM, RNN } from './rnn';
import { Sequential } from './sequential';
import { TransformerEncoder, TransformerEncoderLayer } from './transformer';

/**
 * The layer classes by name, as `torch.nn` names them (plus `Dense`, the seed
 * notebook's layer). Importing it keeps every layer in a bundle; import the
 * classes themselves to keep only those.
 *
 * @example
 * const Layer = LAYERS[spec.type];   // spec.type: LayerName
 */
export const LAYERS = {
  Linear,
  Dense,
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
  Conv2d,
  Conv1d,
  ConvTranspose2d,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  Dropout,
  Flatten,
  Sequential,
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  GroupNorm,
  Embedding,
  MultiheadAttention,
  TransformerEncoderLayer,
  TransformerEncoder,
  RNN,
  LSTM,
  GRU,
} as const;

/** A name in {@link LAYERS}. */
export type LayerName = keyof typeof LAYERS;
