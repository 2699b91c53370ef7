/**
 * Weight initialisation, as `torch.nn.init`: each function fills an array in
 * place from a generator and returns it. The bounds and standard deviations
 * are computed with the same floating-point operations, in the same order, as
 * `torch/nn/init.py`, and the numbers are drawn with `tensor.uniform_` /
 * `tensor.normal_`'s streams, so with a `TorchGenerator` (or after
 * `manualSeed`) the values equal PyTorch's bit for bit.
 *
 * Every function takes `(array, options?, rng?)`; `rng` may also be given as
 * an option (the project's name for a generator). Without one, the global
 * generator that `manualSeed` seeds is used.
 *
 * @example
 * import { manualSeed, zeros } from '@backprop/ndarray';
 * import { init } from '@backprop/layers';
 * manualSeed(0);
 * const w = init.kaimingUniform(zeros([8, 4]), { nonlinearity: 'relu' }); // torch.nn.init.kaiming_uniform_(w, nonlinearity='relu')
 */
import {
  type Generator,
  NDArray,
  ValueError,
  checkChoice,
  checkNumber,
  checkOptions,
  defaultGenerator,
  describe,
  fillNormal,
  fillUniform,
  formatShape,
} from '@backprop/ndarray';

/** The nonlinearities `calculateGain` knows (the `torch.nn.functional` names, as torch spells them). */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

const NONLINEARITIES: readonly Nonlinearity[] = [
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
  'sigmoid',
  'tanh',
  'relu',
  'leaky_relu',
  'selu',
];

/** Which fan `kaimingUniform`/`kaimingNormal` scale by. */
export type FanMode = 'fan_in' | 'fan_out';

/**
 * The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`:
 * 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu,
 * √(2 / (1 + slope²)) for leaky_relu (slope = `param`, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  checkChoice('calculateGain', 'nonlinearity', nonlinearity, NONLINEARITIES);
  switch (nonlinearity) {
    case 'tanh':
      return 5.0 / 3;
    case 'relu':
      return Math.sqrt(2.0);
    case 'leaky_relu': {
      const slope = param === undefined ? 0.01 : checkNumber('calculateGain', 'param (negative slope)', param);
      // slope ** 2, not slope * slope: Python's ** and JS's ** both round pow() once.
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    case 'selu':
      return 3.0 / 4;
    default:
      return 1;
  }
}

/**
 * `[fanIn, fanOut]` of a weight, as torch's `_calculate_fan_in_and_fan_out`:
 * dims 1 and 0 times the receptive field (the product of dims 2 and up), so a
 * Linear weight [out, in] has fan_in = in and a Conv2d weight [out, in, kh, kw]
 * has fan_in = in·kh·kw.
 */
export function calculateFanInAndFanOut(array: NDArray): [number, number] {
  checkTarget('calculateFanInAndFanOut', array);
  if (array.ndim < 2) {
    throw new ValueError(
      `calculateFanInAndFanOut: fan in and fan out can not be computed for an array with fewer than 2 dimensions, got shape ${formatShape(array.shape)}`,
    );
  }
  let receptiveField = 1;
  for (let d = 2; d < array.ndim; d++) receptiveField *= array.shape[d];
  return [array.shape[1] * receptiveField, array.shape[0] * receptiveField];
}

/** Options of {@link kaimingUniform} and {@link kaimingNormal}. */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (used with 'leaky_relu' only); default 0. */
  a?: number;
  /** 'fan_in' (default) keeps the forward pass's variance, 'fan_out' the backward pass's. */
  mode?: FanMode;
  /** Default 'leaky_relu', as torch. */
  nonlinearity?: Nonlinearity;
  rng?: Generator;
}

/**
 * He initialisation, uniform: U(−bound, bound) with bound = √3 · gain / √fan,
 * as `torch.nn.init.kaiming_uniform_`. `Linear` and `Conv2d` use it with
 * `a = √5`, which makes bound = 1/√fan_in.
 */
export function kaimingUniform(array: NDArray, options: KaimingOptions = {}, rng?: Generator): NDArray {
  const op = 'kaimingUniform';
  const { fan, gain, generator } = kaimingSetup(op, array, options, rng);
  if (array.size === 0) return array; // torch: "Initializing zero-element tensors is a no-op"
  const std = gain / Math.sqrt(fan);
  const bound = Math.sqrt(3.0) * std;
  fillUniform(array, -bound, bound, generator);
  return array;
}

/**
 * He initialisation, normal: N(0, std²) with std = gain / √fan, as
 * `torch.nn.init.kaiming_normal_`.
 */
export function kaimingNormal(array: NDArray, options: KaimingOptions = {}, rng?: Generator): NDArray {
  const op = 'kaimingNormal';
  const { fan, gain, generator } = kaimingSetup(op, array, options, rng);
  if (array.size === 0) return array;
  const std = gain / Math.sqrt(fan);
  fillNormal(array, 0, std, generator);
  return array;
}

/** Options of {@link xavierUniform} and {@link xavierNormal}. */
export interface XavierOptions {
  /** Scaling factor, default 1 (see `calculateGain`). */
  gain?: number;
  rng?: Generator;
}

/**
 * Glorot initialisation, uniform: U(−a, a) with a = √3 · gain · √(2 / (fan_in + fan_out)),
 * as `torch.nn.init.xavier_uniform_`.
 */
export function xavierUniform(array: NDArray, options: XavierOptions = {}, rng?: Generator): NDArray {
  const op = 'xavierUniform';
  const { fanIn, fanOut, gain, generator } = xavierSetup(op, array, options, rng);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  fillUniform(array, -a, a, generator);
  return array;
}

/**
 * Glorot initialisation, normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)),
 * as `torch.nn.init.xavier_normal_`.
 */
export function xavierNormal(array: NDArray, options: XavierOptions = {}, rng?: Generator): NDArray {
  const op = 'xavierNormal';
  const { fanIn, fanOut, gain, generator } = xavierSetup(op, array, options, rng);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  fillNormal(array, 0, std, generator);
  return array;
}

/** Options of {@link uniform}. */
export interface UniformOptions {
  /** Lower bound, default 0. */
  a?: number;
  /** Upper bound, default 1. */
  b?: number;
  rng?: Generator;
}

/** U(a, b) samples, as `torch.nn.init.uniform_(tensor, a, b)`. */
export function uniform(array: NDArray, options: UniformOptions = {}, rng?: Generator): NDArray {
  const op = 'init.uniform';
  checkTarget(op, array);
  checkOptions(op, options, ['a', 'b', 'rng']);
  const a = checkNumber(op, 'a', options.a ?? 0);
  const b = checkNumber(op, 'b', options.b ?? 1);
  if (!(a <= b)) throw new ValueError(`${op}: expected a <= b, got a=${a}, b=${b}`);
  fillUniform(array, a, b, resolveGenerator(op, options.rng, rng));
  return array;
}

/** Options of {@link normal}. */
export interface NormalOptions {
  /** Default 0. */
  mean?: number;
  /** Default 1. */
  std?: number;
  rng?: Generator;
}

/** N(mean, std²) samples, as `torch.nn.init.normal_(tensor, mean, std)`. */
export function normal(array: NDArray, options: NormalOptions = {}, rng?: Generator): NDArray {
  const op = 'init.normal';
  checkTarget(op, array);
  checkOptions(op, options, ['mean', 'std', 'rng']);
  const mean = checkNumber(op, 'mean', options.mean ?? 0);
  const std = checkNumber(op, 'std', options.std ?? 1, { min: 0 });
  fillNormal(array, mean, std, resolveGenerator(op, options.rng, rng));
  return array;
}

/** Fills with `value`, as `torch.nn.init.constant_`. */
export function constant(array: NDArray, value: number): NDArray {
  checkTarget('init.constant', array);
  if (typeof value !== 'number') {
    throw new ValueError(`init.constant: value must be a number, got ${describe(value)}`);
  }
  array.fill(value);
  return array;
}

/** Fills with 0, as `torch.nn.init.zeros_`. */
export function zeros(array: NDArray): NDArray {
  return constant(array, 0);
}

/** Fills with 1, as `torch.nn.init.ones_`. */
export function ones(array: NDArray): NDArray {
  return constant(array, 1);
}

function checkTarget(op: string, array: unknown): void {
  if (!(array instanceof NDArray)) {
    throw new ValueError(`${op}: expected an NDArray to fill in place, got ${describe(array)}`);
  }
}

function resolveGenerator(op: string, fromOptions: unknown, fromArgument: unknown): Generator {
  if (fromOptions !== undefined && fromArgument !== undefined && fromOptions !== fromArgument) {
    throw new ValueError(`${op}: got two different generators (options.rng and the rng argument); pass one`);
  }
  const rng = fromArgument ?? fromOptions ?? defaultGenerator;
  if (rng === null || typeof rng !== 'object' || typeof (rng as Generator).uniform !== 'function') {
    throw new ValueError(`${op}: rng must be a Generator (e.g. new TorchGenerator(seed)), got ${describe(rng)}`);
  }
  return rng as Generator;
}

function kaimingSetup(
  op: string,
  array: NDArray,
  options: KaimingOptions,
  rng: Generator | undefined,
): { fan: number; gain: number; generator: Generator } {
  checkTarget(op, array);
  checkOptions(op, options, ['a', 'mode', 'nonlinearity', 'rng']);
  const a = checkNumber(op, 'a', options.a ?? 0);
  const mode = checkChoice(op, 'mode', options.mode ?? 'fan_in', ['fan_in', 'fan_out'] as const);
  const nonlinearity = checkChoice(op, 'nonlinearity', options.nonlinearity ?? 'leaky_relu', NONLINEARITIES);
  const generator = resolveGenerator(op, options.rng, rng);
  const [fanIn, fanOut] = calculateFanInAndFanOut(array);
  return { fan: mode === 'fan_in' ? fanIn : fanOut, gain: calculateGain(nonlinearity, a), generator };
}

function xavierSetup(
  op: string,
  array: NDArray,
  options: XavierOptions,
  rng: Generator | undefined,
): { fanIn: number; fanOut: number; gain: number; generator: Generator } {
  checkTarget(op, array);
  checkOptions(op, options, ['gain', 'rng']);
  const gain = checkNumber(op, 'gain', options.gain ?? 1);
  const generator = resolveGenerator(op, options.rng, rng);
  const [fanIn, fanOut] = calculateFanInAndFanOut(array);
  if (fanIn + fanOut === 0) {
    throw new ValueError(`${op}: fan_in + fan_out is 0 for shape ${formatShape(array.shape)}; the scale would divide by zero`);
  }
  return { fanIn, fanOut, gain, generator };
}
