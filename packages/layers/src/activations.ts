import {
  type GeluApproximate,
  type NDArray,
  ShapeError,
  ValueError,
  checkChoice,
  checkNumber,
  checkOptions,
  describe,
  elu,
  eluBackward,
  formatShape,
  gelu,
  geluBackward,
  leakyRelu,
  leakyReluBackward,
  logSoftmax,
  logSoftmaxBackward,
  mish,
  mishBackward,
  relu,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  silu,
  siluBackward,
  softmax,
  softmaxBackward,
  softplus,
  softplusBackward,
  tanh,
  tanhBackward,
} from '@backprop/ndarray';
import { checkArrayArg, checkOutputGrad } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { pythonFloat, pythonNumber } from './python-repr';

/**
 * What the elementwise activations share: no parameters, any shape and dtype,
 * and the one array their derivative needs (the output, or for LeakyReLU the
 * input), kept from the forward pass.
 */
abstract class Activation extends NeuralLayer {
  #saved?: NDArray;

  /** f(x) into `out`. */
  protected abstract apply(input: NDArray, out: NDArray): NDArray;
  /** dL/dx from dL/dy and the saved array, into `out`. */
  protected abstract derivative(outputGrad: NDArray, saved: NDArray, out: NDArray): NDArray;
  /** Whether the derivative is taken from the input rather than the output. */
  protected readonly fromInput: boolean = false;

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    checkArrayArg(this.label(), 'input', input);
    const output = this.apply(input, this.output(options, input.shape, input.dtype));
    this.#saved = this.fromInput ? input : output;
    return output;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const saved = this.#saved;
    const grad = checkOutputGrad(this.label(), outputGrad, saved?.shape, saved?.dtype ?? 'float32');
    // No parameters: with { inputGrad: false } there is nothing to do.
    if (options?.inputGrad === false) return undefined;
    return this.derivative(grad, saved!, this.output(options, grad.shape, grad.dtype));
  }
}

/**
 * max(x, 0) elementwise, as `torch.nn.ReLU`. Its backward passes the gradient
 * where the output is positive and gives 0 elsewhere, so relu′(0) = 0 as in torch.
 */
export class ReLU extends Activation {
  override get typeName(): string {
    return this.namedAs(ReLU, 'ReLU');
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return relu(input, out);
  }
  protected derivative(outputGrad: NDArray, output: NDArray, out: NDArray): NDArray {
    return reluBackward(outputGrad, output, out);
  }
}

/** tanh elementwise, as `torch.nn.Tanh`; backward g·(1 − y²) from the output y. */
export class Tanh extends Activation {
  override get typeName(): string {
    return this.namedAs(Tanh, 'Tanh');
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return tanh(input, out);
  }
  protected derivative(outputGrad: NDArray, output: NDArray, out: NDArray): NDArray {
    return tanhBackward(outputGrad, output, out);
  }
}

/**
 * 1 / (1 + e⁻ˣ) elementwise, as `torch.nn.Sigmoid`; backward g·(1 − y)·y from
 * the output y.
 */
export class Sigmoid extends Activation {
  override get typeName(): string {
    return this.namedAs(Sigmoid, 'Sigmoid');
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return sigmoid(input, out);
  }
  protected derivative(outputGrad: NDArray, output: NDArray, out: NDArray): NDArray {
    return sigmoidBackward(outputGrad, output, out);
  }
}

/**
 * x if x > 0 else negativeSlope·x, as `torch.nn.LeakyReLU(negative_slope=0.01)`.
 * Its derivative at 0 is `negativeSlope`, as in torch (taken from the input).
 *
 * @example new LeakyReLU(0.2)
 */
export class LeakyReLU extends Activation {
  readonly negativeSlope: number;
  protected override readonly fromInput = true;

  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = checkNumber('LeakyReLU', 'negativeSlope', negativeSlope);
  }

  override get typeName(): string {
    return this.namedAs(LeakyReLU, 'LeakyReLU');
  }
  override extraRepr(): string {
    return `negative_slope=${pythonFloat(this.negativeSlope)}`;
  }
  protected override label(): string {
    return `LeakyReLU(${this.negativeSlope})`;
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return leakyRelu(input, this.negativeSlope, out);
  }
  protected derivative(outputGrad: NDArray, input: NDArray, out: NDArray): NDArray {
    return leakyReluBackward(outputGrad, input, this.negativeSlope, out);
  }
}

/** `GELU`'s options, as `torch.nn.GELU`'s keyword arguments. */
export interface GELUOptions {
  /** 'none' (default): x·Φ(x) with the exact erf; 'tanh': torch's tanh approximation. */
  approximate?: GeluApproximate;
}

/**
 * The Gaussian error linear unit x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as
 * `torch.nn.GELU(approximate='none')`; with `approximate: 'tanh'`,
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Backward from the input:
 * g·(Φ(x) + x·φ(x)) (or the tanh form's derivative). Any shape.
 *
 * @example new GELU({ approximate: 'tanh' })   // GELU(approximate='tanh')
 */
export class GELU extends Activation {
  readonly approximate: GeluApproximate;
  protected override readonly fromInput = true;

  constructor(options: GELUOptions = {}) {
    super();
    checkOptions('GELU', options, ['approximate']);
    const approximate = options.approximate;
    this.approximate = approximate === undefined ? 'none' : checkChoice('GELU', 'approximate', approximate, ['none', 'tanh']);
  }

  override get typeName(): string {
    return this.namedAs(GELU, 'GELU');
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
  protected override label(): string {
    return `GELU(approximate='${this.approximate}')`;
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return gelu(input, { approximate: this.approximate }, out);
  }
  protected derivative(outputGrad: NDArray, input: NDArray, out: NDArray): NDArray {
    return geluBackward(outputGrad, input, { approximate: this.approximate }, out);
  }
}

/**
 * The sigmoid linear unit (swish) x·σ(x), as `torch.nn.SiLU`; backward from
 * the input: g·σ(x)·(1 + x·(1 − σ(x))). Any shape.
 *
 * @example new SiLU()
 */
export class SiLU extends Activation {
  protected override readonly fromInput = true;

  override get typeName(): string {
    return this.namedAs(SiLU, 'SiLU');
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return silu(input, out);
  }
  protected derivative(outputGrad: NDArray, input: NDArray, out: NDArray): NDArray {
    return siluBackward(outputGrad, input, out);
  }
}

/** `ELU`'s options, as `torch.nn.ELU`'s keyword arguments. */
export interface ELUOptions {
  /** The negative branch's scale, alpha·(eˣ − 1) (default 1). */
  alpha?: number;
}

/**
 * The exponential linear unit, as `torch.nn.ELU(alpha=1.0)`: x where x > 0,
 * else alpha·(eˣ − 1). Backward from the input (as torch's out-of-place ELU):
 * g where x > 0, else g·alpha·eˣ. Any shape.
 *
 * @example new ELU({ alpha: 0.5 })   // ELU(alpha=0.5)
 */
export class ELU extends Activation {
  readonly alpha: number;
  protected override readonly fromInput = true;

  constructor(options: ELUOptions = {}) {
    super();
    checkOptions('ELU', options, ['alpha']);
    this.alpha = checkNumber('ELU', 'alpha', options.alpha === undefined ? 1 : options.alpha);
  }

  override get typeName(): string {
    return this.namedAs(ELU, 'ELU');
  }
  override extraRepr(): string {
    return `alpha=${pythonFloat(this.alpha)}`;
  }
  protected override label(): string {
    return `ELU(alpha=${pythonFloat(this.alpha)})`;
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return elu(input, this.alpha, out);
  }
  protected derivative(outputGrad: NDArray, input: NDArray, out: NDArray): NDArray {
    return eluBackward(outputGrad, input, this.alpha, out);
  }
}

/** `Softplus`'s options, as `torch.nn.Softplus`'s keyword arguments. */
export interface SoftplusOptions {
  /** The sharpness, log(1 + e^(beta·x))/beta (default 1; not 0). */
  beta?: number;
  /** Above beta·x > threshold the output is x itself (default 20). */
  threshold?: number;
}

/**
 * Softplus, log(1 + e^(beta·x))/beta, as `torch.nn.Softplus(beta=1, threshold=20)`,
 * linear (x itself) where beta·x > threshold. Backward from the input:
 * g·σ(beta·x), and g above the threshold. Any shape.
 *
 * torch prints its beta and threshold as given (`beta=1` for the int default,
 * `beta=2.0` for a float); a JavaScript number does not say which, so whole
 * numbers print as ints, as torch's defaults do.
 *
 * @example new Softplus({ beta: 2, threshold: 10 })   // Softplus(beta=2, threshold=10)
 */
export class Softplus extends Activation {
  readonly beta: number;
  readonly threshold: number;
  protected override readonly fromInput = true;

  constructor(options: SoftplusOptions = {}) {
    super();
    checkOptions('Softplus', options, ['beta', 'threshold']);
    this.beta = checkNumber('Softplus', 'beta', options.beta === undefined ? 1 : options.beta);
    if (this.beta === 0) throw new ValueError('Softplus: beta must be non-zero (softplus divides by it), got 0');
    this.threshold = checkNumber('Softplus', 'threshold', options.threshold === undefined ? 20 : options.threshold);
  }

  override get typeName(): string {
    return this.namedAs(Softplus, 'Softplus');
  }
  override extraRepr(): string {
    return `beta=${pythonNumber(this.beta)}, threshold=${pythonNumber(this.threshold)}`;
  }
  protected override label(): string {
    return `Softplus(beta=${pythonNumber(this.beta)}, threshold=${pythonNumber(this.threshold)})`;
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return softplus(input, this.beta, this.threshold, out);
  }
  protected derivative(outputGrad: NDArray, input: NDArray, out: NDArray): NDArray {
    return softplusBackward(outputGrad, input, this.beta, this.threshold, out);
  }
}

/**
 * Mish, x·tanh(softplus(x)), as `torch.nn.Mish`; backward from the input:
 * g·(t + x·σ(x)·(1 − t²)) with t = tanh(softplus(x)). Any shape.
 *
 * @example new Mish()
 */
export class Mish extends Activation {
  protected override readonly fromInput = true;

  override get typeName(): string {
    return this.namedAs(Mish, 'Mish');
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return mish(input, out);
  }
  protected derivative(outputGrad: NDArray, input: NDArray, out: NDArray): NDArray {
    return mishBackward(outputGrad, input, out);
  }
}

/** `Softmax`'s and `LogSoftmax`'s options. */
export interface SoftmaxOptions {
  /**
   * The dimension the probabilities sum to 1 along; negative counts from the
   * end (-1 is the last). Required: torch's `dim=None` guesses a dimension
   * from the input's rank (deprecated there, with a warning), which we refuse.
   */
  dim: number;
}

/** Softmax and LogSoftmax: one dimension, backward from the output. */
abstract class AlongDim extends Activation {
  readonly dim: number;

  constructor(name: string, options: SoftmaxOptions) {
    super();
    if (options === undefined || options === null || options.dim === undefined || options.dim === null) {
      throw new ValueError(
        `${name}: dim is required, e.g. new ${name}({ dim: -1 }) (torch's implicit dim=None choice is deprecated and not supported), got ${describe(options?.dim)}`,
      );
    }
    checkOptions(name, options, ['dim']);
    this.dim = checkNumber(name, 'dim', options.dim, { integer: true });
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
  protected override label(): string {
    return `${this.typeName}(dim=${this.dim})`;
  }
  /** dim as an axis of `x`, or a ShapeError naming the layer, the dim and the input's shape. */
  protected axis(x: NDArray): number {
    const n = x.ndim;
    if (n === 0 || this.dim < -n || this.dim >= n) {
      const range = n === 0 ? 'none (a 0-d input has no dimension to normalise)' : `[${-n}, ${n - 1}]`;
      throw new ShapeError(`${this.label()}: dim ${this.dim} is out of range for an input of shape ${formatShape(x.shape)} (expected a dim in ${range})`);
    }
    return this.dim < 0 ? this.dim + n : this.dim;
  }
}

/**
 * exp(x) / Σ exp(x) along `dim` (max-shifted), as `torch.nn.Softmax(dim)`;
 * backward from the output y: y·(g − Σ g·y) along `dim`.
 *
 * @example new Softmax({ dim: -1 })   // Softmax(dim=-1)
 */
export class Softmax extends AlongDim {
  constructor(options: SoftmaxOptions) {
    super('Softmax', options);
  }
  override get typeName(): string {
    return this.namedAs(Softmax, 'Softmax');
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return softmax(input, this.axis(input), out);
  }
  protected derivative(outputGrad: NDArray, output: NDArray, out: NDArray): NDArray {
    return softmaxBackward(outputGrad, output, this.axis(output), out);
  }
}

/**
 * log(softmax(x)) along `dim`, computed as (x − max) − log Σ exp(x − max), as
 * `torch.nn.LogSoftmax(dim)`; backward from the output y: g − exp(y)·Σ g along `dim`.
 *
 * @example new LogSoftmax({ dim: 1 })   // LogSoftmax(dim=1)
 */
export class LogSoftmax extends AlongDim {
  constructor(options: SoftmaxOptions) {
    super('LogSoftmax', options);
  }
  override get typeName(): string {
    return this.namedAs(LogSoftmax, 'LogSoftmax');
  }
  protected apply(input: NDArray, out: NDArray): NDArray {
    return logSoftmax(input, this.axis(input), out);
  }
  protected derivative(outputGrad: NDArray, output: NDArray, out: NDArray): NDArray {
    return logSoftmaxBackward(outputGrad, output, this.axis(output), out);
  }
}

/**
 * The input unchanged (the same array), as `torch.nn.Identity`: a placeholder
 * where a layer is optional.
 */
export class Identity extends NeuralLayer {
  #shape?: readonly number[];
  #dtype?: NDArray['dtype'];

  override get typeName(): string {
    return this.namedAs(Identity, 'Identity');
  }

  forward(input: NDArray): NDArray {
    checkArrayArg(this.label(), 'input', input);
    this.#shape = input.shape;
    this.#dtype = input.dtype;
    return input;
  }

  backward(outputGrad: NDArray): NDArray {
    return checkOutputGrad(this.label(), outputGrad, this.#shape, this.#dtype ?? 'float32');
  }
}
