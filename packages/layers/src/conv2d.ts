import {
  type Conv2dGeometry,
  type DType,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  Slot,
  add,
  checkChoice,
  checkOptions,
  col2im,
  conv2dGeometry,
  defaultGenerator,
  formatShape,
  gemm,
  im2col,
  sum,
  zeros,
} from '@backprop/ndarray';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { resetAffineParameters } from './reset';
import { type Size2d, checkSize2d, describeSize } from './size2d';

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  /** Step between receptive fields, default 1. */
  stride?: Size2d;
  /** Zeros added on every side, default 0. */
  padding?: Size2d;
  /** Spacing between kernel taps, default 1. */
  dilation?: Size2d;
  /** Learn a per-channel bias (default true). */
  bias?: boolean;
  /** Parameter dtype, float32 by default. */
  dtype?: DType;
  /** Generator for the initial weights; the global one by default. */
  rng?: Generator;
}

/**
 * 2-D convolution (cross-correlation, as every framework computes it) over
 * NCHW input, as `torch.nn.Conv2d(inChannels, outChannels, kernelSize, stride,
 * padding, dilation, bias=bias)` with groups = 1 and zero padding.
 *
 * `weight` is [outChannels, inChannels, kh, kw] and `bias` [outChannels] (or
 * null), initialised as torch does (kaiming-uniform a = √5, then the bias from
 * U(−1/√fan_in, 1/√fan_in) with fan_in = inChannels·kh·kw), so after
 * `manualSeed(s)` the parameters equal torch's bit for bit.
 *
 * Input [N, C, H, W] gives [N, O, OH, OW] with OH = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1
 * (likewise OW). An unbatched [C, H, W] input gives [O, OH, OW], as in torch.
 * Forward is im2col, then one batched gemm W[O, C·kh·kw] · cols onto the
 * bias; backward keeps the columns and uses gemm for dW += Σ g·colsᵀ and
 * dcols = Wᵀ·g, then col2im for dx.
 *
 * @example
 * const conv = new Conv2d(1, 8, 3, { padding: 1 });
 * conv.forward(zeros([32, 1, 28, 28])).shape   // [32, 8, 28, 28]
 */
export class Conv2d extends NeuralLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** [outChannels, inChannels, kh, kw]. */
  readonly weight: Parameter;
  /** [outChannels], or null when created with `{ bias: false }`. */
  readonly bias: Parameter | null;
  readonly dtype: DType;

  /** The last input's shape and unfolding, kept from forward for backward. */
  #inputShape?: readonly number[];
  #geometry?: Conv2dGeometry;
  #outputShape?: readonly number[];
  /**
   * The unfolded input of the last training forward, kept for backward (torch's
   * slow_conv2d keeps its `finput` the same way); in eval it is scratch.
   */
  readonly #cols = new Slot();
  readonly #colsGrad = new Slot();
  readonly #biasSum = new Slot();

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dOptions = {}) {
    super();
    const op = `Conv2d(${inChannels}, ${outChannels}, ${describeSize(kernelSize)})`;
    checkOptions(op, options, ['stride', 'padding', 'dilation', 'bias', 'dtype', 'rng']);
    this.inChannels = checkSize(op, 'inChannels', inChannels);
    this.outChannels = checkSize(op, 'outChannels', outChannels);
    this.kernelSize = checkSize2d(op, 'kernelSize', kernelSize, 1);
    this.stride = checkSize2d(op, 'stride', options.stride ?? 1, 1);
    this.padding = checkSize2d(op, 'padding', options.padding ?? 0, 0);
    this.dilation = checkSize2d(op, 'dilation', options.dilation ?? 1, 1);
    const bias = checkBoolean(op, 'bias', options.bias ?? true);
    this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    const [kh, kw] = this.kernelSize;
    this.weight = new Parameter(zeros([outChannels, inChannels, kh, kw], { dtype: this.dtype }), 'weight');
    this.bias = bias ? new Parameter(zeros([outChannels], { dtype: this.dtype }), 'bias') : null;
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
    return this.namedAs(Conv2d, 'Conv2d');
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernel_size=${pythonPair(this.kernelSize)}`, `stride=${pythonPair(this.stride)}`];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${pythonPair(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pythonPair(this.dilation)}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }

  protected override label(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize: ${formatShape(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride: ${formatShape(this.stride)}`);
    if (this.padding.some((p) => p !== 0)) parts.push(`padding: ${formatShape(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation: ${formatShape(this.dilation)}`);
    if (!this.bias) parts.push('bias: false');
    return `Conv2d(${parts.join(', ')})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    if (input.ndim !== 4 && input.ndim !== 3) {
      throw new ShapeError(
        `${op}: expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got ${formatShape(input.shape)}`,
      );
    }
    const batched = input.ndim === 4;
    const x = batched ? input : input.reshape([1, ...input.shape]);
    if (x.shape[1] !== this.inChannels) {
      throw new ShapeError(
        `${op}: expected input ${formatShape(input.shape)} to have ${this.inChannels} channels (dimension ${batched ? 1 : 0}), got ${x.shape[1]}`,
      );
    }
    checkDTypeMatch(op, 'input', input, this.dtype);
    const g = conv2dGeometry(op, x.shape, this);
    const o = this.outChannels;
    const positions = g.outH * g.outW;
    const patch = g.channels * g.kernelH * g.kernelW;
    const outputShape = batched ? [g.batch, o, g.outH, g.outW] : [o, g.outH, g.outW];
    // Every image's columns, then one batched product onto the per-channel bias:
    // out[b] = W[O, C·kh·kw] · cols[b] + bias.
    const cols = im2col(x, g, this.#cols.take([g.batch, patch, positions], this.dtype));
    const out = this.output(options, outputShape, this.dtype);
    gemm(this.weight.value.reshape([o, patch]), cols, {
      bias: this.bias?.value.reshape([o, 1]),
      out: out.reshape([g.batch, o, positions]),
    });
    this.#inputShape = input.shape;
    this.#geometry = g;
    this.#outputShape = outputShape;
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#outputShape, this.dtype);
    const g = this.#geometry!;
    const o = this.outChannels;
    const positions = g.outH * g.outW;
    const patch = g.channels * g.kernelH * g.kernelW;
    const gB = grad.reshape([g.batch, o, positions]);
    // The columns of the last forward: still in the slot (nothing else takes it in between).
    const cols = this.#cols.take([g.batch, patch, positions], this.dtype);
    // dW += Σ_b g[b]·cols[b]ᵀ: the batch summed into one matrix.
    gemm(gB, cols, { transB: true, out: this.weight.grad.reshape([o, patch]), beta: 1 });
    if (this.bias) {
      const db = sum(gB, [0, 2], false, this.#biasSum.take([o], this.dtype));
      add(this.bias.grad, db, this.bias.grad);
    }
    if (options?.inputGrad === false) return undefined;
    // dcols[b] = Wᵀ·g[b], then col2im folds them back onto the image.
    const colsGrad = gemm(this.weight.value.reshape([o, patch]), gB, {
      transA: true,
      out: this.#colsGrad.take([g.batch, patch, positions], this.dtype),
    });
    const dx = this.output(options, this.#inputShape!, this.dtype);
    col2im(colsGrad, g, dx.reshape([g.batch, g.channels, g.height, g.width]));
    return dx;
  }
}

/** A pair as Python prints a tuple: `(3, 3)`. */
export function pythonPair(pair: readonly [number, number]): string {
  return `(${pair[0]}, ${pair[1]})`;
}
