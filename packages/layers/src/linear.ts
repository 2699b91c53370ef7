import {
  type DType,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  Slot,
  add,
  checkChoice,
  checkOptions,
  defaultGenerator,
  formatShape,
  gemm,
  sum,
  zeros,
} from '@backprop/ndarray';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { resetAffineParameters } from './reset';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Parameter dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Generator for the initial weights; the global one that `manualSeed` seeds by default. */
  rng?: Generator;
}

export const LINEAR_OPTIONS = ['bias', 'dtype', 'rng'] as const;

/**
 * y = x·Wᵀ + b, as `torch.nn.Linear(inFeatures, outFeatures, bias)`.
 *
 * `weight` is [outFeatures, inFeatures] and `bias` [outFeatures] (or null),
 * initialised as torch does: kaiming-uniform with a = √5 for the weight, then
 * U(−1/√inFeatures, 1/√inFeatures) for the bias, drawn in that order, so
 * `manualSeed(s); new Linear(10, 2)` equals
 * `torch.manual_seed(s); torch.nn.Linear(10, 2)` bit for bit.
 *
 * The input is [*, inFeatures]: one sample [inFeatures], a batch [N, inFeatures],
 * or more leading dimensions; the output is [*, outFeatures]. Forward is
 * torch's addmm, one gemm onto the broadcast bias; backward is
 * dW += gᵀ·x, db += Σ g, dx = g·W.
 *
 * @example
 * const layer = new Linear(10, 2);
 * const y = layer.forward(rand([8, 10]));    // [8, 2]
 * const dx = layer.backward(onesLike(y));     // [8, 10]; layer.weight.grad now holds Σ gᵀ·x
 */
export class Linear extends NeuralLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [outFeatures, inFeatures]. */
  readonly weight: Parameter;
  /** [outFeatures], or null when created with `{ bias: false }`. */
  readonly bias: Parameter | null;
  readonly dtype: DType;

  /** The last input as a [rows, inFeatures] view, and the shapes of that pass. */
  #input2d?: NDArray;
  #inputShape?: readonly number[];
  #outputShape?: readonly number[];
  /** Σ over the batch of the output gradient, before it is added into the bias's grad. */
  readonly #biasSum = new Slot();

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    const op = `${new.target === Linear ? 'Linear' : 'Dense'}(${inFeatures}, ${outFeatures})`;
    checkOptions(op, options, LINEAR_OPTIONS);
    this.inFeatures = checkSize(op, 'inFeatures', inFeatures, 0);
    this.outFeatures = checkSize(op, 'outFeatures', outFeatures, 0);
    const bias = checkBoolean(op, 'bias', options.bias ?? true);
    this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    this.weight = new Parameter(zeros([outFeatures, inFeatures], { dtype: this.dtype }), 'weight');
    this.bias = bias ? new Parameter(zeros([outFeatures], { dtype: this.dtype }), 'bias') : null;
    this.resetParameters(checkRng(op, options.rng));
  }

  /**
   * Draws fresh initial values, as torch's `reset_parameters`: the weight by
   * kaiming-uniform (a = √5), then the bias from U(−1/√fan_in, 1/√fan_in).
   */
  resetParameters(rng: Generator = defaultGenerator): void {
    resetAffineParameters(this.weight.value, this.bias?.value ?? null, rng);
  }

  override get typeName(): string {
    return this.namedAs(Linear, 'Linear');
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }

  protected override label(): string {
    return `${this.typeName}(${this.inFeatures}, ${this.outFeatures}${this.bias ? '' : ', { bias: false }'})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    return this.affine(input, undefined, options);
  }

  /** x·Wᵀ + b (then `activation`, for Dense) into the caller's slot or a new array. */
  protected affine(input: NDArray, activation: 'relu' | 'tanh' | 'sigmoid' | undefined, options: ForwardOptions | undefined): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    if (input.ndim === 0 || input.shape[input.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(
        `${op}: expected an input whose last dimension is ${this.inFeatures} (shape [*, ${this.inFeatures}]), got ${formatShape(input.shape)}`,
      );
    }
    checkDTypeMatch(op, 'input', input, this.dtype);
    const rows = input.shape.slice(0, -1).reduce((p, d) => p * d, 1);
    const x = input.reshape([rows, this.inFeatures]);
    const outputShape = [...input.shape.slice(0, -1), this.outFeatures];
    const out = this.output(options, outputShape, this.dtype);
    // torch's addmm: one gemm adds x·Wᵀ onto the broadcast bias.
    gemm(x, this.weight.value, { transB: true, bias: this.bias?.value, activation, out: out.reshape([rows, this.outFeatures]) });
    this.#input2d = x;
    this.#inputShape = input.shape;
    this.#outputShape = outputShape;
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#outputShape, this.dtype);
    return this.affineBackward(grad, options);
  }

  /** dW and db for `grad` (dLoss/d(x·Wᵀ + b), checked), and dx unless the caller skips it. */
  protected affineBackward(grad: NDArray, options: BackwardOptions | undefined): NDArray | undefined {
    const x = this.#input2d!;
    const rows = x.shape[0];
    const g = grad.reshape([rows, this.outFeatures]);
    gemm(g, x, { transA: true, out: this.weight.grad, beta: 1 }); // dW += gᵀ·x
    if (this.bias) {
      // db += Σ_batch g: the sum, then added into the grad, as torch accumulates grad.sum(0).
      const db = sum(g, 0, false, this.#biasSum.take([this.outFeatures], this.dtype));
      add(this.bias.grad, db, this.bias.grad);
    }
    if (options?.inputGrad === false) return undefined;
    const dx = this.output(options, this.#inputShape!, this.dtype);
    gemm(g, this.weight.value, { out: dx.reshape([rows, this.inFeatures]) }); // dx = g·W
    return dx;
  }
}
