import {
  type DType,
  type Generator,
  NDArray,
  Parameter,
  ShapeError,
  checkChoice,
  checkOptions,
  defaultGenerator,
  formatShape,
  gemm,
  zeros,
} from '@backprop/ndarray';
import { OutputBuffer, markReusing } from './buffers';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { NeuralLayer } from './layer';
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
 * or more leading dimensions; the output is [*, outFeatures].
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
  private input2d?: NDArray;
  private inputShape?: readonly number[];
  private outputShape?: readonly number[];
  private biasSums?: Float64Array;
  /** The output and the input gradient, reused when they stay inside a Sequential. */
  private readonly outputBuffer = new OutputBuffer();
  private readonly inputGradBuffer = new OutputBuffer();

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    markReusing(this, new.target, Linear);
    const op = `${this.kind()}(${inFeatures}, ${outFeatures})`;
    checkOptions(op, options, LINEAR_OPTIONS);
    this.inFeatures = checkSize(op, 'inFeatures', inFeatures, 0);
    this.outFeatures = checkSize(op, 'outFeatures', outFeatures, 0);
    const bias = checkBoolean(op, 'bias', options.bias ?? true);
    this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    this.weight = new Parameter(zeros([outFeatures, inFeatures], { dtype: this.dtype }), 'weight');
    this.registerParameter('weight', this.weight);
    this.bias = bias ? new Parameter(zeros([outFeatures], { dtype: this.dtype }), 'bias') : null;
    if (this.bias) this.registerParameter('bias', this.bias);
    this.resetParameters(checkRng(op, options.rng));
  }

  /**
   * Draws fresh initial values, as torch's `reset_parameters`: the weight by
   * kaiming-uniform (a = √5), then the bias from U(−1/√fan_in, 1/√fan_in).
   */
  resetParameters(rng: Generator = defaultGenerator): void {
    resetAffineParameters(this.weight.value, this.bias?.value ?? null, rng);
  }

  /** The class name errors use; a method so it is right during a subclass's construction. */
  protected kind(): string {
    return 'Linear';
  }

  override toString(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures}${this.bias ? '' : ', { bias: false }'})`;
  }

  forward(input: NDArray): NDArray {
    const op = this.toString();
    checkArrayArg(op, 'input', input);
    if (input.ndim === 0 || input.shape[input.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(
        `${op}: expected an input whose last dimension is ${this.inFeatures} (shape [*, ${this.inFeatures}]), got ${formatShape(input.shape)}`,
      );
    }
    checkDTypeMatch(op, 'input', input, this.dtype);
    let rows = 1;
    for (let d = 0; d < input.ndim - 1; d++) rows *= input.shape[d];
    const x = new NDArray(input.data, [rows, this.inFeatures]);
    // Zeros without a bias, as gemm adds into it; with one, every row is overwritten.
    const out = this.outputBuffer.produce([rows, this.outFeatures], this.dtype, this.bias === null);
    // torch's addmm: start from the broadcast bias, then one gemm adds x·Wᵀ into it.
    if (this.bias) {
      const b = this.bias.value.data;
      for (let r = 0; r < rows; r++) out.data.set(b, r * this.outFeatures);
    }
    gemm(x, this.weight.value, { transB: true, out, accumulate: true });
    this.input2d = x;
    this.inputShape = input.shape;
    this.outputShape = [...input.shape.slice(0, -1), this.outFeatures];
    return input.ndim === 2 ? out : out.reshape(this.outputShape);
  }

  backward(outputGrad: NDArray): NDArray {
    const g = this.accumulateGrads(outputGrad);
    const dx = this.inputGradBuffer.produce([g.shape[0], this.inFeatures], this.dtype, false);
    gemm(g, this.weight.value, { out: dx }); // dx = g·W, every element written
    return this.inputShape!.length === 2 ? dx : dx.reshape(this.inputShape!);
  }

  /**
   * dW and db alone: the input gradient's gemm (as large as dW's) is skipped.
   * Where `backward` was replaced (a subclass's override, or a hook set on the
   * instance), that `backward` runs instead, so it is never bypassed.
   */
  override backwardParameters(outputGrad: NDArray): void {
    if (this.backward === Linear.prototype.backward) this.accumulateGrads(outputGrad);
    else this.backward(outputGrad);
  }

  /** Adds dW and db for `outputGrad`; returns it as a [rows, outFeatures] view. */
  protected accumulateGrads(outputGrad: NDArray): NDArray {
    const op = this.toString();
    const grad = checkOutputGrad(op, outputGrad, this.outputShape, this.dtype);
    const x = this.input2d!;
    const rows = x.shape[0];
    const g = new NDArray(grad.data, [rows, this.outFeatures]);
    gemm(g, x, { transA: true, out: this.weight.grad, accumulate: true }); // dW += gᵀ·x
    if (this.bias) {
      // db += Σ_batch g, summed row by row (contiguous reads) in float64.
      const sums = this.biasScratch();
      const gd = g.data;
      const n = this.outFeatures;
      sums.fill(0);
      for (let r = 0; r < rows; r++) {
        const offset = r * n;
        for (let j = 0; j < n; j++) sums[j] += gd[offset + j];
      }
      const bd = this.bias.grad.data;
      for (let j = 0; j < n; j++) bd[j] += sums[j];
    }
    return g;
  }

  private biasScratch(): Float64Array {
    this.biasSums ??= new Float64Array(this.outFeatures);
    return this.biasSums;
  }
}
