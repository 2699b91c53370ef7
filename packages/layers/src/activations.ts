import { type NDArray, checkNumber, relu, sigmoid, tanh } from '@backprop/ndarray';
import { activationBackward, leakyReluBackward, leakyReluForward } from './activation-functions';
import { OutputBuffer, markReusing } from './buffers';
import { checkArrayArg, checkOutputGrad } from './checks';
import { NeuralLayer } from './layer';

/**
 * Shared plumbing of the activations: they have no parameters, take any
 * shape and dtype, and cache the one array their derivative needs.
 */
abstract class Activation extends NeuralLayer {
  protected cached?: NDArray;
  /** The output and the input gradient, reused when they stay inside a Sequential. */
  private readonly outputBuffer = new OutputBuffer();
  private readonly inputGradBuffer = new OutputBuffer();

  protected checkInput(input: NDArray): NDArray {
    return checkArrayArg(this.toString(), 'input', input);
  }

  protected checkGrad(outputGrad: NDArray): NDArray {
    return checkOutputGrad(this.toString(), outputGrad, this.cached?.shape, this.cached?.dtype ?? 'float32');
  }

  /** The array this layer's output is written into (every element). */
  protected outputArray(input: NDArray): NDArray {
    return this.outputBuffer.produce(input.shape, input.dtype, false);
  }

  /** The array the input gradient is written into (every element), shaped as the cached array. */
  protected inputGradArray(): NDArray {
    const cached = this.cached!;
    return this.inputGradBuffer.produce(cached.shape, cached.dtype, false);
  }
}

/**
 * max(x, 0) elementwise, as `torch.nn.ReLU`. Its backward passes the gradient
 * where the output is positive and gives 0 elsewhere, so relu′(0) = 0 as in torch.
 */
export class ReLU extends Activation {
  constructor() {
    super();
    markReusing(this, new.target, ReLU);
  }

  override toString(): string {
    return 'ReLU()';
  }

  forward(input: NDArray): NDArray {
    this.cached = relu(this.checkInput(input), this.outputArray(input));
    return this.cached;
  }

  backward(outputGrad: NDArray): NDArray {
    return activationBackward('relu', this.checkGrad(outputGrad), this.cached!, this.inputGradArray());
  }
}

/**
 * The input unchanged (the same array), as `torch.nn.Identity`: a placeholder
 * where a layer is optional.
 */
export class Identity extends Activation {
  constructor() {
    super();
    markReusing(this, new.target, Identity);
  }

  override toString(): string {
    return 'Identity()';
  }

  forward(input: NDArray): NDArray {
    this.cached = this.checkInput(input);
    return input;
  }

  backward(outputGrad: NDArray): NDArray {
    return this.checkGrad(outputGrad);
  }
}

/** tanh elementwise, as `torch.nn.Tanh`; backward g·(1 − y²) from the output y. */
export class Tanh extends Activation {
  constructor() {
    super();
    markReusing(this, new.target, Tanh);
  }

  override toString(): string {
    return 'Tanh()';
  }

  forward(input: NDArray): NDArray {
    this.cached = tanh(this.checkInput(input), this.outputArray(input));
    return this.cached;
  }

  backward(outputGrad: NDArray): NDArray {
    return activationBackward('tanh', this.checkGrad(outputGrad), this.cached!, this.inputGradArray());
  }
}

/**
 * 1 / (1 + e⁻ˣ) elementwise, as `torch.nn.Sigmoid`; backward g·(1 − y)·y from
 * the output y.
 */
export class Sigmoid extends Activation {
  constructor() {
    super();
    markReusing(this, new.target, Sigmoid);
  }

  override toString(): string {
    return 'Sigmoid()';
  }

  forward(input: NDArray): NDArray {
    this.cached = sigmoid(this.checkInput(input), this.outputArray(input));
    return this.cached;
  }

  backward(outputGrad: NDArray): NDArray {
    return activationBackward('sigmoid', this.checkGrad(outputGrad), this.cached!, this.inputGradArray());
  }
}

/**
 * x if x > 0 else negativeSlope·x, as `torch.nn.LeakyReLU(negative_slope=0.01)`.
 * Its derivative at 0 is `negativeSlope`, as in torch.
 *
 * @example new LeakyReLU(0.2)
 */
export class LeakyReLU extends Activation {
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    super();
    markReusing(this, new.target, LeakyReLU);
    this.negativeSlope = checkNumber('LeakyReLU', 'negativeSlope', negativeSlope);
  }

  override toString(): string {
    return `LeakyReLU(${this.negativeSlope})`;
  }

  forward(input: NDArray): NDArray {
    this.cached = this.checkInput(input);
    return leakyReluForward(input, this.negativeSlope, this.outputArray(input));
  }

  backward(outputGrad: NDArray): NDArray {
    return leakyReluBackward(this.checkGrad(outputGrad), this.cached!, this.negativeSlope, this.inputGradArray());
  }
}
