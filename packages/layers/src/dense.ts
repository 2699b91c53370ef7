import { type DType, type Generator, type NDArray, Slot, checkChoice, checkOptions } from '@backprop/ndarray';
import { ACTIVATION_NAMES, type ActivationName, activationBackward } from './activation-functions';
import { checkOutputGrad } from './checks';
import type { BackwardOptions, ForwardOptions } from './layer';
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
 * The activation is the gemm's epilogue (applied in place on the affine
 * output) and its derivative is taken from the output (relu′(0) = 0), so the
 * layer keeps one array, not two. The gradient through the activation lives
 * in a scratch slot the layer reuses on every backward pass.
 *
 * @example
 * const hidden = new Dense(784, 128, { activation: 'relu' });
 * const logits = new Dense(128, 10, { activation: 'none' });
 */
export class Dense extends Linear {
  readonly activation: ActivationName;
  #output?: NDArray;
  readonly #affineGrad = new Slot();

  constructor(inFeatures: number, outFeatures: number, options: DenseOptions = {}) {
    const op = `Dense(${inFeatures}, ${outFeatures})`;
    checkOptions(op, options, [...LINEAR_OPTIONS, 'activation']);
    const { activation = 'relu', ...linearOptions } = options;
    checkChoice(op, 'activation', activation, ACTIVATION_NAMES);
    super(inFeatures, outFeatures, linearOptions);
    this.activation = activation;
  }

  override get typeName(): string {
    return this.namedAs(Dense, 'Dense');
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, activation='${this.activation}'`;
  }

  protected override label(): string {
    const extras = [`activation: '${this.activation}'`];
    if (!this.bias) extras.push('bias: false');
    return `Dense(${this.inFeatures}, ${this.outFeatures}, { ${extras.join(', ')} })`;
  }

  override forward(input: NDArray, options?: ForwardOptions): NDArray {
    this.#output = this.affine(input, this.activation === 'none' ? undefined : this.activation, options);
    return this.#output;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const output = this.#output;
    const grad = checkOutputGrad(this.label(), outputGrad, output?.shape, this.dtype);
    // dLoss/d(x·Wᵀ + b) through the activation, in scratch that Linear's backward reads and keeps nothing of.
    const affineGrad =
      this.activation === 'none' ? grad : activationBackward(this.activation, grad, output!, this.#affineGrad.take(grad.shape, this.dtype));
    return this.affineBackward(affineGrad, options);
  }
}
