import type { Generator } from '@backprop/ndarray';
import { LAYERS, type NeuralLayer, Sequential } from '@backprop/layers';

/** The models the app trains. */
export const MODEL_NAMES = ['mlp', 'cnn'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * One layer of a model, as JSON: the constructor's name and arguments, read
 * as PyTorch's (`Linear(784, 128)` is `{ type: 'Linear', inFeatures: 784, outFeatures: 128 }`).
 */
export type LayerSpec =
  | { type: 'Linear'; inFeatures: number; outFeatures: number }
  | { type: 'ReLU' }
  | { type: 'Conv2d'; inChannels: number; outChannels: number; kernelSize: number; stride?: number; padding?: number }
  | { type: 'MaxPool2d'; kernelSize: number; stride?: number }
  | { type: 'AvgPool2d'; kernelSize: number; stride?: number }
  | { type: 'Dropout'; p: number }
  | { type: 'Flatten' };

/**
 * A model's architecture: what `model.safetensors` stores in its metadata so
 * `--eval` can rebuild the model before loading the weights. The layers form
 * one `Sequential`, so the state-dict names are torch's (`0.weight`, `3.bias`).
 */
export interface Architecture {
  /** `mlp`, `cnn`, or any name for a custom stack. */
  name: string;
  /** Shape of one input sample: `[784]` for the MLP, `[1, 28, 28]` for the CNN. */
  inputShape: number[];
  layers: LayerSpec[];
}

/** 784 → 128 → ReLU → 10, torch's `nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))`. */
export function mlpArchitecture(hidden = 128): Architecture {
  return {
    name: 'mlp',
    inputShape: [784],
    layers: [
      { type: 'Linear', inFeatures: 784, outFeatures: hidden },
      { type: 'ReLU' },
      { type: 'Linear', inFeatures: hidden, outFeatures: 10 },
    ],
  };
}

/**
 * Two 3×3 convolutions (8 then 16 channels, padding 1) each followed by ReLU
 * and 2×2 max-pooling (28 → 14 → 7), then one Linear(16·7·7, 10).
 */
export function cnnArchitecture(channels: readonly [number, number] = [8, 16]): Architecture {
  const [c1, c2] = channels;
  return {
    name: 'cnn',
    inputShape: [1, 28, 28],
    layers: [
      { type: 'Conv2d', inChannels: 1, outChannels: c1, kernelSize: 3, padding: 1 },
      { type: 'ReLU' },
      { type: 'MaxPool2d', kernelSize: 2 },
      { type: 'Conv2d', inChannels: c1, outChannels: c2, kernelSize: 3, padding: 1 },
      { type: 'ReLU' },
      { type: 'MaxPool2d', kernelSize: 2 },
      { type: 'Flatten' },
      { type: 'Linear', inFeatures: c2 * 7 * 7, outFeatures: 10 },
    ],
  };
}

/** The architecture of a named model. */
export function architectureFor(name: ModelName): Architecture {
  return name === 'mlp' ? mlpArchitecture() : cnnArchitecture();
}

/** An architecture description that cannot be built. */
export class ArchitectureError extends Error {
  override name = 'ArchitectureError';
}

const LAYER_KEYS: Record<LayerSpec['type'], { required: string[]; optional: string[] }> = {
  Linear: { required: ['inFeatures', 'outFeatures'], optional: [] },
  ReLU: { required: [], optional: [] },
  Conv2d: { required: ['inChannels', 'outChannels', 'kernelSize'], optional: ['stride', 'padding'] },
  MaxPool2d: { required: ['kernelSize'], optional: ['stride'] },
  AvgPool2d: { required: ['kernelSize'], optional: ['stride'] },
  Dropout: { required: ['p'], optional: [] },
  Flatten: { required: [], optional: [] },
};

/**
 * The bounds {@link parseArchitecture} holds an architecture to, so that a
 * description read from a file cannot ask for a model nobody trains on 28×28
 * digits: at most 256 layers, a name of at most 100 characters, an input of
 * at most 4 dimensions, and every size (an input dimension, features,
 * channels, a kernel, a stride, a padding) at most 65,536.
 */
export const ARCHITECTURE_LIMITS = { layers: 256, nameLength: 100, inputRank: 4, size: 65_536 } as const;

/** A value as JSON for a message, cut short: it may come from a file of any size. */
const shown = (value: unknown): string => String(JSON.stringify(value)).slice(0, 120);

/**
 * Checks that `value` (parsed JSON, e.g. from a model file's metadata)
 * describes an {@link Architecture} within {@link ARCHITECTURE_LIMITS}; throws
 * an {@link ArchitectureError} naming the first problem.
 */
export function parseArchitecture(value: unknown): Architecture {
  const fail = (what: string): never => {
    throw new ArchitectureError(`architecture: ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`expected an object, got ${JSON.stringify(value)}`);
  const { name, inputShape, layers } = value as Record<string, unknown>;
  const limits = ARCHITECTURE_LIMITS;
  if (typeof name !== 'string' || name.length > limits.nameLength) {
    fail(`'name' must be a string of at most ${limits.nameLength} characters, got ${shown(name)}`);
  }
  if (
    !Array.isArray(inputShape) ||
    inputShape.length === 0 ||
    inputShape.length > limits.inputRank ||
    !inputShape.every((d) => Number.isInteger(d) && d > 0 && d <= limits.size)
  ) {
    fail(
      `'inputShape' must be an array of 1 to ${limits.inputRank} integers from 1 to ${limits.size}, ` +
        `got ${shown(inputShape)}`,
    );
  }
  if (!Array.isArray(layers) || layers.length === 0 || layers.length > limits.layers) {
    const got = Array.isArray(layers) ? `${layers.length} layers` : shown(layers);
    fail(`'layers' must be an array of 1 to ${limits.layers} layers, got ${got}`);
  }
  (layers as unknown[]).forEach((layer, i) => {
    const where = `layers[${i}]`;
    if (layer === null || typeof layer !== 'object' || Array.isArray(layer)) fail(`${where} must be an object, got ${JSON.stringify(layer)}`);
    const { type, ...args } = layer as Record<string, unknown>;
    const keys = LAYER_KEYS[type as LayerSpec['type']];
    if (typeof type !== 'string' || keys === undefined) {
      fail(`${where}.type is ${JSON.stringify(type)}; expected one of ${Object.keys(LAYER_KEYS).join(', ')}`);
    }
    for (const key of keys.required) {
      if (!(key in args)) fail(`${where} (${type}) is missing '${key}'`);
    }
    for (const [key, v] of Object.entries(args)) {
      if (!keys.required.includes(key) && !keys.optional.includes(key)) {
        fail(`${where} (${type}) has unknown key '${key}'; expected ${[...keys.required, ...keys.optional].join(', ') || 'none'}`);
      }
      const min = key === 'padding' ? 0 : 1;
      const ok = key === 'p' ? typeof v === 'number' && v >= 0 && v < 1 : Number.isInteger(v) && (v as number) >= min && (v as number) <= limits.size;
      if (!ok) {
        fail(`${where} (${type}).${key} is ${JSON.stringify(v)}; expected ${key === 'p' ? 'a number in [0, 1)' : `an integer from ${min} to ${limits.size}`}`);
      }
    }
  });
  return value as Architecture;
}

/**
 * The names and shapes of the tensors the model an architecture describes
 * holds (its `stateDict()`), computed from the description alone, so a file's
 * weights can be checked against its architecture before anything is built:
 * `Linear` has `weight` [out, in] and `bias` [out], `Conv2d` `weight`
 * [out, in, k, k] and `bias` [out], as torch names them.
 */
export function stateDictShapes(architecture: Architecture): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  parseArchitecture(architecture).layers.forEach((spec, index) => {
    if (spec.type === 'Linear') {
      shapes[`${index}.weight`] = [spec.outFeatures, spec.inFeatures];
      shapes[`${index}.bias`] = [spec.outFeatures];
    } else if (spec.type === 'Conv2d') {
      shapes[`${index}.weight`] = [spec.outChannels, spec.inChannels, spec.kernelSize, spec.kernelSize];
      shapes[`${index}.bias`] = [spec.outChannels];
    }
  });
  return shapes;
}

/**
 * Builds the `Sequential` an architecture describes, drawing every initial
 * weight (and every dropout mask) from `rng`, so the same seed gives the same
 * model bit for bit.
 */
export function buildModel(architecture: Architecture, rng: Generator): Sequential {
  return new Sequential(...parseArchitecture(architecture).layers.map((spec) => buildLayer(spec, rng)));
}

/** One layer from its description: the class is `LAYERS[type]`, the list every package and app shares. */
function buildLayer(spec: LayerSpec, rng: Generator): NeuralLayer {
  switch (spec.type) {
    case 'Linear':
      return new LAYERS.Linear(spec.inFeatures, spec.outFeatures, { rng });
    case 'Conv2d':
      return new LAYERS.Conv2d(spec.inChannels, spec.outChannels, spec.kernelSize, {
        stride: spec.stride ?? 1,
        padding: spec.padding ?? 0,
        rng,
      });
    case 'MaxPool2d':
    case 'AvgPool2d':
      return new LAYERS[spec.type](spec.kernelSize, spec.stride === undefined ? {} : { stride: spec.stride });
    case 'Dropout':
      return new LAYERS.Dropout(spec.p, { rng });
    case 'ReLU':
    case 'Flatten':
      return new LAYERS[spec.type]();
    default:
      throw new ArchitectureError(`unknown layer type ${JSON.stringify((spec as { type: unknown }).type)}`);
  }
}
