import {
  type NDArray,
  checkNumber,
  leakyRelu,
  leakyReluBackward,
  relu,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
} from '@backprop/ndarray';
import { checkArrayArg, checkOutputGrad } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';

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

/** A number as Python prints a float: `0.01`, `1.0`, `1e-05`. */
export function pythonFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  // Python writes exponents with two digits at least: 1e-05, 1e+20.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
