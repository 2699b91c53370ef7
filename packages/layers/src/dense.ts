import { type DType, type Generator, type NDArray, checkChoice, checkOptions } from '@backprop/ndarray';
import { ACTIVATION_NAMES, type ActivationName, activateInPlace, activationBackward } from './activation-functions';
import { OutputBuffer, markReusing } from './buffers';
import { checkOutputGrad } from './checks';
import { LINEAR_OPTIONS, Linear } from './linear';

/** Options of {@link Dense}. */
export interface DenseOptions {
  /** The activation after the affine map: 'relu' (default, as the seed notebook's layer), 'none', 'tanh' or 'sigmoid'. */
  activation?: ActivationName;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Parameter dtype, float32 by default. */
  dtype?: DType;
  /** Generator for the initial weights; the global one by default. */
  rng?: Generator;
}

/**
 * A fully connected layer with its activation fused in: activation(x·Wᵀ + b).
 * It is the seed notebook's `NeuralLayer`, and computes what
 * `torch.nn.Sequential(nn.Linear(in, out), nn.ReLU())` computes, but its
 * parameters are named `weight` and `bias` (it is one layer) and it is
 * initialised exactly as `nn.Linear`.
 *
 * The activation is applied in place on the affine output and its derivative
 * is taken from the output (relu′(0) = 0), so the layer keeps one array, not two.
 * The gradient through the activation lives in a scratch array the layer
 * reuses on every backward pass (it never leaves the layer).
 *
 * @example
 * const hidden = new Dense(784, 128, { activation: 'relu' });
 * const logits = new Dense(128, 10, { activation: 'none' });
 */
export class Dense extends Linear {
  readonly activation: ActivationName;
  private output?: NDArray;
  private readonly affineGradBuffer = new OutputBuffer();

  constructor(inFeatures: number, outFeatures: number, options: DenseOptions = {}) {
    const op = `Dense(${inFeatures}, ${outFeatures})`;
    checkOptions(op, options, [...LINEAR_OPTIONS, 'activation']);
    const { activation = 'relu', ...linearOptions } = options;
    checkChoice(op, 'activation', activation, ACTIVATION_NAMES);
    super(inFeatures, outFeatures, linearOptions);
    markReusing(this, new.target, Dense);
    this.activation = activation;
  }

  protected override kind(): string {
    return 'Dense';
  }

  override toString(): string {
    const extras = [`activation: '${this.activation}'`];
    if (!this.bias) extras.push('bias: false');
    return `Dense(${this.inFeatures}, ${this.outFeatures}, { ${extras.join(', ')} })`;
  }

  override forward(input: NDArray): NDArray {
    this.output = activateInPlace(this.activation, super.forward(input));
    return this.output;
  }

  override backward(outputGrad: NDArray): NDArray {
    return super.backward(this.affineGrad(outputGrad));
  }

  /** dW and db alone, as `Linear`'s; a replaced `backward` runs instead, so it is never bypassed. */
  override backwardParameters(outputGrad: NDArray): void {
    if (this.backward === Dense.prototype.backward) this.accumulateGrads(this.affineGrad(outputGrad));
    else this.backward(outputGrad);
  }

  /** dLoss/d(x·Wᵀ + b) from dLoss/dOutput, through the activation. */
  private affineGrad(outputGrad: NDArray): NDArray {
    const grad = checkOutputGrad(this.toString(), outputGrad, this.output?.shape, this.dtype);
    const output = this.output!;
    if (this.activation === 'none') return grad;
    // Scratch: Linear's backward reads it (dW, db, dx) and keeps nothing.
    const scratch = this.affineGradBuffer.reuse(output.shape, this.dtype, false);
    return activationBackward(this.activation, grad, output, scratch);
  }
}
