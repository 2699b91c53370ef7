import {
  type DType,
  type Generator,
  NDArray,
  Parameter,
  ShapeError,
  type TypedArray,
  checkChoice,
  checkOptions,
  defaultGenerator,
  formatShape,
  gemm,
  zeros,
} from '@backprop/ndarray';
import { OutputBuffer, markReusing } from './buffers';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type ConvGeometry, col2im, convOutputSize, im2col } from './im2col';
import { NeuralLayer } from './layer';
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
 * Each image is computed as im2col then one gemm, W[O, C·kh·kw] · cols; backward
 * recomputes the columns (keeping only the input between passes) and uses
 * gemm for dW += g·colsᵀ and dcols = Wᵀ·g, then col2im for dx.
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

  private input?: NDArray;
  private geometry?: ConvGeometry;
  private outputShape?: readonly number[];
  /** Scratch columns reused between calls of the same size: the hot loop allocates nothing. */
  private cols?: TypedArray;
  private colsGrad?: TypedArray;
  /** Whether `cols` holds every image's columns of the last forward (training mode). */
  private colsKept = false;
  /** The output and the input gradient, reused when they stay inside a Sequential. */
  private readonly outputBuffer = new OutputBuffer();
  private readonly inputGradBuffer = new OutputBuffer();

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dOptions = {}) {
    super();
    markReusing(this, new.target, Conv2d);
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
    this.registerParameter('weight', this.weight);
    this.bias = bias ? new Parameter(zeros([outChannels], { dtype: this.dtype }), 'bias') : null;
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

  override toString(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize: ${formatShape(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride: ${formatShape(this.stride)}`);
    if (this.padding.some((p) => p !== 0)) parts.push(`padding: ${formatShape(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation: ${formatShape(this.dilation)}`);
    if (!this.bias) parts.push('bias: false');
    return `Conv2d(${parts.join(', ')})`;
  }

  forward(input: NDArray): NDArray {
    const op = this.toString();
    checkArrayArg(op, 'input', input);
    if (input.ndim !== 4 && input.ndim !== 3) {
      throw new ShapeError(
        `${op}: expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got ${formatShape(input.shape)}`,
      );
    }
    const batched = input.ndim === 4;
    const [n, c, h, w] = batched ? input.shape : [1, ...input.shape];
    if (c !== this.inChannels) {
      throw new ShapeError(
        `${op}: expected input ${formatShape(input.shape)} to have ${this.inChannels} channels (dimension ${batched ? 1 : 0}), got ${c}`,
      );
    }
    checkDTypeMatch(op, 'input', input, this.dtype);
    const [kh, kw] = this.kernelSize;
    const [sh, sw] = this.stride;
    const [ph, pw] = this.padding;
    const [dh, dw] = this.dilation;
    const outH = convOutputSize(h, kh, sh, ph, dh);
    const outW = convOutputSize(w, kw, sw, pw, dw);
    if (outH < 1 || outW < 1) {
      throw new ShapeError(
        `${op}: input ${formatShape(input.shape)} padded to ${h + 2 * ph}×${w + 2 * pw} is smaller than the ` +
          `${dh === 1 && dw === 1 ? '' : 'dilated '}kernel ${dh * (kh - 1) + 1}×${dw * (kw - 1) + 1}`,
      );
    }
    const g: ConvGeometry = {
      channels: c,
      height: h,
      width: w,
      kernelH: kh,
      kernelW: kw,
      strideH: sh,
      strideW: sw,
      padH: ph,
      padW: pw,
      dilationH: dh,
      dilationW: dw,
      outH,
      outW,
    };
    const o = this.outChannels;
    const positions = outH * outW;
    const patch = c * kh * kw;
    const outputShape = batched ? [n, o, outH, outW] : [o, outH, outW];
    // Zeros without a bias, as gemm adds into it; with one, every channel is filled first.
    const out = this.outputBuffer.produce(outputShape, this.dtype, this.bias === null);
    // In training, every image's columns are kept for backward, which then need
    // not unfold the input again (torch's slow_conv2d keeps its `finput` the
    // same way); in eval, one image's worth is enough.
    const perImage = patch * positions;
    const keep = this.training;
    const colsAll = this.scratch('cols', keep ? n * perImage : perImage);
    const weight2d = new NDArray(this.weight.value.data, [o, patch]);
    for (let b = 0; b < n; b++) {
      const cols = keep ? colsAll.subarray(b * perImage, (b + 1) * perImage) : colsAll;
      im2col(input.data, b * c * h * w, g, cols);
      const colsArray = new NDArray(cols, [patch, positions]);
      const outB = new NDArray(out.data.subarray(b * o * positions, (b + 1) * o * positions), [o, positions]);
      if (this.bias) {
        const bias = this.bias.value.data;
        for (let k = 0; k < o; k++) outB.data.fill(bias[k], k * positions, (k + 1) * positions);
      }
      gemm(weight2d, colsArray, { out: outB, accumulate: true });
    }
    this.input = input;
    this.geometry = g;
    this.outputShape = outputShape;
    this.colsKept = keep;
    return out;
  }

  backward(outputGrad: NDArray): NDArray {
    return this.backwardPass(outputGrad, true)!;
  }

  /**
   * dW and db alone: skips the input gradient's gemm and col2im. A replaced
   * `backward` (a subclass's override, or a hook on the instance) runs
   * instead, so it is never bypassed.
   */
  override backwardParameters(outputGrad: NDArray): void {
    if (this.backward === Conv2d.prototype.backward) this.backwardPass(outputGrad, false);
    else this.backward(outputGrad);
  }

  private backwardPass(outputGrad: NDArray, inputGrad: boolean): NDArray | undefined {
    const grad = checkOutputGrad(this.toString(), outputGrad, this.outputShape, this.dtype);
    const input = this.input!;
    const g = this.geometry!;
    const { channels: c, height: h, width: w, kernelH: kh, kernelW: kw } = g;
    const n = input.ndim === 4 ? input.shape[0] : 1;
    const o = this.outChannels;
    const positions = g.outH * g.outW;
    const patch = c * kh * kw;
    const perImage = patch * positions;
    const kept = this.colsKept;
    const colsAll = this.scratch('cols', kept ? n * perImage : perImage);
    const weight2d = new NDArray(this.weight.value.data, [o, patch]);
    const weightGrad2d = new NDArray(this.weight.grad.data, [o, patch]);
    const colsGrad = inputGrad ? new NDArray(this.scratch('colsGrad', patch * positions), [patch, positions]) : undefined;
    // Zeroed: col2im adds onto it.
    const dx = inputGrad ? this.inputGradBuffer.produce(input.shape, this.dtype, true) : undefined;
    for (let b = 0; b < n; b++) {
      const gB = new NDArray(grad.data.subarray(b * o * positions, (b + 1) * o * positions), [o, positions]);
      const cols = kept ? colsAll.subarray(b * perImage, (b + 1) * perImage) : colsAll;
      if (!kept) im2col(input.data, b * c * h * w, g, cols);
      const colsArray = new NDArray(cols, [patch, positions]);
      gemm(gB, colsArray, { transB: true, out: weightGrad2d, accumulate: true }); // dW += g·colsᵀ
      if (colsGrad !== undefined && dx !== undefined) {
        gemm(weight2d, gB, { transA: true, out: colsGrad }); // dcols = Wᵀ·g
        col2im(colsGrad.data, g, dx.data, b * c * h * w);
      }
      if (this.bias) {
        const bd = this.bias.grad.data;
        const gd = gB.data;
        for (let k = 0; k < o; k++) {
          let s = 0;
          for (let p = k * positions; p < (k + 1) * positions; p++) s += gd[p];
          bd[k] += s;
        }
      }
    }
    return dx;
  }

  /** The first `size` elements of a scratch buffer that only grows (train and eval need different sizes). */
  private scratch(which: 'cols' | 'colsGrad', size: number): TypedArray {
    let buffer = this[which];
    if (buffer === undefined || buffer.length < size) {
      buffer = this.dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
      this[which] = buffer;
    }
    return buffer.length === size ? buffer : buffer.subarray(0, size);
  }
}
