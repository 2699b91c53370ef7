/**
 * Every layer class of this package by its torch name: the one list that
 * tests, tools/torch-parity and the apps share (a model description such as
 * `{ type: 'Linear', ... }` names its class here).
 */
import { Identity, LeakyReLU, ReLU, Sigmoid, Tanh } from './activations';
import { AvgPool2d } from './avgpool2d';
import { Conv2d } from './conv2d';
import { Dense } from './dense';
import { Dropout } from './dropout';
import { Flatten } from './flatten';
import { Linear } from './linear';
import { MaxPool2d } from './maxpool2d';
import { Sequential } from './sequential';

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
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  Dropout,
  Flatten,
  Sequential,
} as const;

/** A name in {@link LAYERS}. */
export type LayerName = keyof typeof LAYERS;
