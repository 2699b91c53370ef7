/**
 * What Conv1d, Conv2d and ConvTranspose2d share (internal): their input and
 * option checks, torch's `padding='same'` arithmetic, and the two passes of a
 * convolution over [N, C, H, W] images built from ndarray's im2col, col2im
 * and gemm. A Conv1d is a Conv2d of height 1; a transposed convolution is a
 * convolution's input gradient, so the same three ops run in the other order.
 *
 * Groups split the channels into `groups` independent convolutions. The
 * channels of one group are contiguous, so [N, C, H, W] is [N·G, C/G, H, W]
 * without a copy; each of the N·G images is then multiplied by its group's
 * weight matrix (the weights repeated N times along the batch: one batched
 * gemm, not a loop over groups).
 */
import {
  type Conv2dGeometry,
  type DType,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  Slot,
  ValueError,
  add,
  checkChoice,
  checkOptions,
  col2im,
  concat,
  conv2dGeometry,
  convOutputSize,
  defaultGenerator,
  describe,
  formatShape,
  gemm,
  im2col,
  sum,
  zeros,
} from '@backprop/ndarray';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { resetAffineParameters } from './reset';
import { pythonTuple } from './python-repr';
import { checkSizeNd, describeSize } from './size2d';

/** Throws unless `groups` is a positive integer dividing both channel counts, as torch's `_ConvNd` requires. */
export function checkGroups(op: string, value: unknown, inChannels: number, outChannels: number): number {
  const groups = checkSize(op, 'groups', value);
  if (inChannels % groups !== 0) {
    throw new ValueError(`${op}: inChannels must be divisible by groups, got inChannels ${inChannels} and groups ${groups}`);
  }
  if (outChannels % groups !== 0) {
    throw new ValueError(`${op}: outChannels must be divisible by groups, got outChannels ${outChannels} and groups ${groups}`);
  }
  return groups;
}

/** Padding given as a word, as torch's `padding='valid'` (none) or `'same'` (output as long as the input). */
export type PaddingString = 'valid' | 'same';

/** The zeros a convolution adds: `before` each spatial dimension, and `after` it (they differ only for 'same'). */
export interface ResolvedPadding {
  /** What the layer was given, for printing: the tuple of numbers, or the word. */
  readonly given: readonly number[] | PaddingString;
  readonly before: readonly number[];
  readonly after: readonly number[];
}

/**
 * Checks `padding` (an integer, a tuple of them, 'valid' or 'same') and works
 * out the zeros on each side, as torch's `_ConvNd`: 'same' pads d·(k − 1) in
 * all, ⌊total/2⌋ before and the rest after (so an even kernel pads one more
 * after), and is an error with a stride other than 1.
 */
export function resolvePadding(
  op: string,
  padding: unknown,
  dims: 1 | 2,
  kernelSize: readonly number[],
  stride: readonly number[],
  dilation: readonly number[],
): ResolvedPadding {
  if (typeof padding === 'string') {
    if (padding !== 'valid' && padding !== 'same') {
      throw new ValueError(`${op}: padding must be an integer, ${dims === 1 ? 'a one-element array' : 'a pair'} of them, 'valid' or 'same', got ${describe(padding)}`);
    }
    if (padding === 'valid') return { given: 'valid', before: new Array(dims).fill(0), after: new Array(dims).fill(0) };
    if (stride.some((s) => s !== 1)) {
      throw new ValueError(`${op}: padding 'same' is not supported for strided convolutions (as in torch), got stride ${formatShape(stride)}`);
    }
    const total = kernelSize.map((k, i) => dilation[i] * (k - 1));
    const before = total.map((t) => Math.floor(t / 2));
    return { given: 'same', before, after: total.map((t, i) => t - before[i]) };
  }
  const pads = checkSizeNd(op, 'padding', padding, 0, dims);
  return { given: pads, before: pads, after: pads };
}

/** The spatial settings of a convolution, in 2-D terms (a 1-D one has height 1 and a 1-tall kernel). */
export interface ConvWindow {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** Zeros before each dimension (top, left). */
  readonly padding: readonly [number, number];
  /** Zeros after each dimension beyond `padding` (bottom, right): torch's 'same' with an odd total. */
  readonly extraPadding: readonly [number, number];
  readonly groups: number;
}

/** A 1-D setting as the 2-D one of a height-1 image: [1, v] (or [0, v] for padding). */
export function asHeightOne(values: readonly number[], height: number): readonly [number, number] {
  return values.length === 1 ? [height, values[0]] : [values[0], values[1]];
}

/**
 * Checks a convolution layer's input, [N, C, *spatial] or an unbatched
 * [C, *spatial] with `dims` spatial dimensions, of the layer's channels and
 * dtype; returns it as a [N, C, H, W] view (H = 1 for 1-D).
 */
export function convInput(op: string, input: unknown, dims: 1 | 2, channels: number, dtype: DType): NDArray {
  const x = checkArrayArg(op, 'input', input);
  if (x.ndim !== dims + 2 && x.ndim !== dims + 1) {
    const expected = dims === 2 ? 'a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W])' : 'a 3-D input [N, C, L] (or an unbatched 2-D [C, L])';
    throw new ShapeError(`${op}: expected ${expected}, got ${formatShape(x.shape)}`);
  }
  const batched = x.ndim === dims + 2;
  const c = x.shape[batched ? 1 : 0];
  if (c !== channels) {
    throw new ShapeError(
      `${op}: expected input ${formatShape(x.shape)} to have ${channels} channels (dimension ${batched ? 1 : 0}), got ${c}`,
    );
  }
  checkDTypeMatch(op, 'input', x, dtype);
  const n = batched ? x.shape[0] : 1;
  return dims === 2 ? x.reshape([n, c, x.shape[x.ndim - 2], x.shape[x.ndim - 1]]) : x.reshape([n, c, 1, x.shape[x.ndim - 1]]);
}

/** The layer's output shape from its input's: the leading dimensions replaced by [N?, channels], the spatial ones by `spatial`. */
export function convOutputShape(inputShape: readonly number[], dims: 1 | 2, channels: number, spatial: readonly [number, number]): number[] {
  const lead = inputShape.length === dims + 2 ? [inputShape[0], channels] : [channels];
  return dims === 2 ? [...lead, spatial[0], spatial[1]] : [...lead, spatial[1]];
}

/**
 * The work of a convolution layer's two passes over [N, C, H, W] images
 * (one per layer: it keeps the last forward pass's geometry and scratch
 * arrays for backward). `convolve`/`convolveBackward` are Conv1d's and
 * Conv2d's; `transpose`/`transposeBackward` are ConvTranspose2d's.
 */
export class ConvCore {
  readonly window: ConvWindow;
  /** The geometry of the convolution im2col and col2im compute, over [N·G, C/G, H, W] images. */
  #geometry?: Conv2dGeometry;
  #batch = 0;
  /** The last transposed pass's input, [N·G, C/G, H·W], kept for the weight gradient. */
  #input?: NDArray;
  readonly #cols = new Slot();
  readonly #colsGrad = new Slot();
  readonly #weights = new Slot();
  readonly #weightGrads = new Slot();
  readonly #weightSum = new Slot();
  readonly #biasSum = new Slot();
  readonly #padded = new Slot();
  readonly #paddedGrad = new Slot();

  constructor(window: ConvWindow) {
    this.window = window;
  }

  /**
   * The output [OH, OW] of a convolution of `x` [N, C, H, W] (`shown` is
   * the layer's own input shape, for the error), or a ShapeError when the
   * padded input is smaller than the (dilated) kernel.
   */
  outputSize(op: string, x: NDArray, shown: readonly number[], dims: 1 | 2): [number, number] {
    const { kernelSize: k, stride: s, dilation: d, padding: p, extraPadding: e } = this.window;
    const [, , h, w] = x.shape;
    const outH = convOutputSize(h + e[0], k[0], s[0], p[0], d[0]);
    const outW = convOutputSize(w + e[1], k[1], s[1], p[1], d[1]);
    if (outH < 1 || outW < 1) {
      const padded = [h + 2 * p[0] + e[0], w + 2 * p[1] + e[1]];
      const extent = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
      const dilated = d[0] === 1 && d[1] === 1 ? '' : 'dilated ';
      const size = (pair: number[]) => (dims === 2 ? pair.join('×') : String(pair[1]));
      throw new ShapeError(`${op}: input ${formatShape(shown)} padded to ${size(padded)} is smaller than the ${dilated}kernel ${size(extent)}`);
    }
    return [outH, outW];
  }

  /**
   * out [N, O, OH, OW] = the convolution of x [N, C, H, W] with weight
   * [O, C/G, kh, kw], plus bias [O]: im2col, then out[b] = W · cols[b] in
   * one batched gemm (the bias added by the gemm when there is one group).
   * The columns stay in a slot for backward.
   */
  convolve(op: string, input: NDArray, weight: NDArray, bias: NDArray | null, out: NDArray): void {
    const { groups } = this.window;
    const x = this.pad(input);
    const [n, c, h, w] = x.shape;
    const o = weight.shape[0];
    const g = conv2dGeometry(op, [n * groups, c / groups, h, w], this.geometryWindow());
    const patch = g.channels * g.kernelH * g.kernelW;
    const positions = g.outH * g.outW;
    const cols = im2col(x.reshape([n * groups, g.channels, h, w]), g, this.#cols.take([n * groups, patch, positions], x.dtype));
    const out3 = out.reshape([n, o, positions]);
    gemm(this.groupWeights(weight, o / groups, patch, n), cols, {
      bias: groups === 1 ? bias?.reshape([o, 1]) : undefined,
      out: out.reshape([n * groups, o / groups, positions]),
    });
    if (groups !== 1 && bias) add(out3, bias.reshape([o, 1]), out3);
    this.#geometry = g;
    this.#batch = n;
  }

  /**
   * convolve's backward pass from grad [N, O, OH, OW]: adds dW = Σ g·colsᵀ
   * and db = Σ g into the parameters' gradients, and when `dx` [N, C, H, W]
   * is given writes dcols = Wᵀ·g folded back onto the image by col2im into it.
   */
  convolveBackward(grad: NDArray, weight: Parameter, bias: Parameter | null, dx: NDArray | undefined): void {
    const g = this.#geometry!;
    const { groups } = this.window;
    const n = this.#batch;
    const o = weight.shape[0];
    const patch = g.channels * g.kernelH * g.kernelW;
    const positions = g.outH * g.outW;
    const grad3 = grad.reshape([n * groups, o / groups, positions]);
    // The columns of the last forward: still in the slot (nothing else takes it in between).
    const cols = this.#cols.take([n * groups, patch, positions], grad.dtype);
    this.addWeightGrad(grad3, cols, weight, n);
    if (bias) this.addBiasGrad(grad, bias);
    if (dx === undefined) return;
    const colsGrad = gemm(this.groupWeights(weight.value, o / groups, patch, n), grad3, {
      transA: true,
      out: this.#colsGrad.take([n * groups, patch, positions], grad.dtype),
    });
    const image = this.padded(dx);
    col2im(colsGrad, g, image.reshape([g.batch, g.channels, g.height, g.width]));
    this.unpad(image, dx);
  }

  /**
   * out [N, O, OH, OW] = the transposed convolution of x [N, C, H, W] with
   * weight [C, O/G, kh, kw], plus bias [O]: cols[b] = Wᵀ · x[b] in one
   * batched gemm, then col2im folds the columns onto the output image (its
   * size worked out by the caller). The columns are those of a convolution
   * of the output image whose output is x's H × W.
   */
  transpose(op: string, x: NDArray, weight: NDArray, bias: NDArray | null, out: NDArray): void {
    const { groups } = this.window;
    const [n, c, h, w] = x.shape;
    const [, o, outH, outW] = out.shape;
    // The convolution whose input gradient this is: from the output image back to x's size.
    // With an output padding of at least the stride it would give one more row or column than x has; there are none.
    const g = { ...conv2dGeometry(op, [n * groups, o / groups, outH, outW], this.geometryWindow()), outH: h, outW: w };
    const patch = g.channels * g.kernelH * g.kernelW;
    const positions = h * w;
    const x3 = x.reshape([n * groups, c / groups, positions]);
    const cols = gemm(this.groupWeights(weight, c / groups, patch, n), x3, {
      transA: true,
      out: this.#cols.take([n * groups, patch, positions], x.dtype),
    });
    col2im(cols, g, out.reshape([g.batch, g.channels, outH, outW]));
    if (bias) {
      const out3 = out.reshape([n, o, outH * outW]);
      add(out3, bias.reshape([o, 1]), out3);
    }
    this.#geometry = g;
    this.#batch = n;
    this.#input = x3;
  }

  /**
   * transpose's backward pass from grad [N, O, OH, OW]: dcols = im2col(grad),
   * then dW += Σ x·dcolsᵀ, db += Σ grad, and dx[b] = W · dcols[b] into `dx`
   * [N, C, H, W] when given.
   */
  transposeBackward(grad: NDArray, weight: Parameter, bias: Parameter | null, dx: NDArray | undefined): void {
    const g = this.#geometry!;
    const { groups } = this.window;
    const n = this.#batch;
    const c = weight.shape[0];
    const patch = g.channels * g.kernelH * g.kernelW;
    const positions = g.outH * g.outW;
    const colsGrad = im2col(
      grad.reshape([g.batch, g.channels, g.height, g.width]),
      g,
      this.#colsGrad.take([n * groups, patch, positions], grad.dtype),
    );
    this.addWeightGrad(this.#input!, colsGrad, weight, n);
    if (bias) this.addBiasGrad(grad, bias);
    if (dx === undefined) return;
    gemm(this.groupWeights(weight.value, c / groups, patch, n), colsGrad, {
      out: dx.reshape([n * groups, c / groups, positions]),
    });
  }

  /** The window im2col and col2im see: the padding before each dimension on both sides. */
  private geometryWindow() {
    const { kernelSize, stride, dilation, padding } = this.window;
    return { kernelSize, stride, dilation, padding };
  }

  /**
   * The weight as gemm's first operand: [rows·G, patch] seen as one matrix
   * [rows, patch] shared by every image when there is one group, else each
   * group's matrix repeated for every sample, [N·G, rows, patch].
   */
  private groupWeights(weight: NDArray, rows: number, patch: number, n: number): NDArray {
    const { groups } = this.window;
    if (groups === 1) return weight.reshape([rows, patch]);
    const perGroup = weight.reshape([groups, rows, patch]);
    return concat(new Array<NDArray>(n).fill(perGroup), 0, this.#weights.take([n * groups, rows, patch], weight.dtype));
  }

  /** weight.grad += Σ over images of a[b]·b[b]ᵀ, each image's product onto its group's block. */
  private addWeightGrad(a: NDArray, b: NDArray, weight: Parameter, n: number): void {
    const { groups } = this.window;
    const [, rows] = a.shape;
    const [, patch] = b.shape;
    if (groups === 1) {
      // The batch summed into one matrix by the gemm itself.
      gemm(a, b, { transB: true, out: weight.grad.reshape([rows, patch]), beta: 1 });
      return;
    }
    const perImage = gemm(a, b, { transB: true, out: this.#weightGrads.take([n * groups, rows, patch], a.dtype) });
    const total = sum(perImage.reshape([n, groups * rows * patch]), 0, false, this.#weightSum.take([groups * rows * patch], a.dtype));
    const flat = weight.grad.reshape([groups * rows * patch]);
    add(flat, total, flat);
  }

  /** bias.grad += grad summed over the batch and every position. */
  private addBiasGrad(grad: NDArray, bias: Parameter): void {
    const [n, o] = grad.shape;
    const db = sum(grad.reshape([n, o, grad.size / (n * o || 1)]), [0, 2], false, this.#biasSum.take([o], grad.dtype));
    add(bias.grad, db, bias.grad);
  }

  /**
   * The geometry of a 1×1 unfolding of [N, C, H + eh, W + ew] images whose
   * output is their top-left H × W corner: col2im with it pads an [N, C, H, W]
   * image with eh zero rows and ew zero columns after (it zero-fills, then
   * adds each pixel onto its place), and im2col with it crops the padded
   * image back. So 'same' with an odd total needs no copying op of its own.
   */
  private extraGeometry(n: number, c: number, h: number, w: number): Conv2dGeometry {
    const [extraH, extraW] = this.window.extraPadding;
    const unit = { kernelSize: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] } as const;
    return { ...conv2dGeometry('pad', [n, c, h + extraH, w + extraW], unit), outH: h, outW: w };
  }

  /** x with the extra zeros after each dimension ('same' with an odd total), in a slot; or x itself. */
  private pad(x: NDArray): NDArray {
    const [extraH, extraW] = this.window.extraPadding;
    if (extraH === 0 && extraW === 0) return x;
    const [n, c, h, w] = x.shape;
    const padded = this.#padded.take([n, c, h + extraH, w + extraW], x.dtype);
    return col2im(x.reshape([n, c, h * w]), this.extraGeometry(n, c, h, w), padded);
  }

  /** Where col2im writes the input gradient: `dx` itself, or a larger image when the input was padded. */
  private padded(dx: NDArray): NDArray {
    const [extraH, extraW] = this.window.extraPadding;
    if (extraH === 0 && extraW === 0) return dx;
    const [n, c, h, w] = dx.shape;
    return this.#paddedGrad.take([n, c, h + extraH, w + extraW], dx.dtype);
  }

  /** Copies the input's part of the padded gradient into `dx` (nothing to do when it is `dx`). */
  private unpad(image: NDArray, dx: NDArray): void {
    if (image === dx) return;
    const [n, c, h, w] = dx.shape;
    im2col(image, this.extraGeometry(n, c, h, w), dx.reshape([n, c, h * w]));
  }
}

/** What a convolution layer's constructor was given, before checking. */
export interface ConvLayerOptions {
  stride?: unknown;
  padding?: unknown;
  outputPadding?: unknown;
  dilation?: unknown;
  groups?: unknown;
  bias?: unknown;
  dtype?: unknown;
  rng?: unknown;
}

/** An option's value, or its default when it was left out (null is not "left out": the checks reject it). */
function given<T>(value: unknown, fallback: T): unknown {
  return value === undefined ? fallback : value;
}

/** Which convolution a {@link ConvLayer} is. */
export interface ConvKind {
  /** torch's class name: `Conv1d`, `Conv2d`, `ConvTranspose2d`. */
  readonly name: string;
  /** Spatial dimensions of its input. */
  readonly dims: 1 | 2;
  /** A transposed convolution (weight [in, out/G, *k], output padding) rather than a convolution. */
  readonly transposed: boolean;
}

/**
 * The body of Conv1d, Conv2d and ConvTranspose2d (internal): the checked
 * options, the parameters with torch's initialisation, printing, and the two
 * passes through a {@link ConvCore}. Each layer is a subclass that names its
 * kind; tuples (`kernelSize`, `stride`, ...) have one entry per spatial
 * dimension, as torch's attributes do.
 */
export abstract class ConvLayer extends NeuralLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  /** Zeros added on both sides of each dimension, or the word it was given ('valid', 'same'). */
  readonly padding: readonly number[] | PaddingString;
  readonly dilation: readonly number[];
  readonly groups: number;
  /** [outChannels, inChannels/groups, *k] for a convolution, [inChannels, outChannels/groups, *k] for a transposed one. */
  readonly weight: Parameter;
  /** [outChannels], or null when created with `{ bias: false }`. */
  readonly bias: Parameter | null;
  readonly dtype: DType;

  readonly #kind: ConvKind;
  readonly #outputPadding: readonly number[];
  readonly #core: ConvCore;
  /** The shapes of the last forward pass, as the layer saw them and as [N, C, H, W]. */
  #inputShape?: readonly number[];
  #outputShape?: readonly number[];
  #input4?: readonly number[];
  #output4?: readonly number[];

  protected constructor(kind: ConvKind, inChannels: number, outChannels: number, kernelSize: unknown, options: ConvLayerOptions) {
    super();
    const { name, dims, transposed } = kind;
    const op = `${name}(${inChannels}, ${outChannels}, ${describeSize(kernelSize)})`;
    const known = ['stride', 'padding', ...(transposed ? ['outputPadding'] : []), 'dilation', 'groups', 'bias', 'dtype', 'rng'];
    checkOptions(op, options, known);
    this.#kind = kind;
    this.inChannels = checkSize(op, 'inChannels', inChannels);
    this.outChannels = checkSize(op, 'outChannels', outChannels);
    this.kernelSize = checkSizeNd(op, 'kernelSize', kernelSize, 1, dims);
    this.stride = checkSizeNd(op, 'stride', given(options.stride, 1), 1, dims);
    this.dilation = checkSizeNd(op, 'dilation', given(options.dilation, 1), 1, dims);
    const padding = transposed
      ? (() => {
          const pads = checkSizeNd(op, 'padding', given(options.padding, 0), 0, dims);
          return { given: pads, before: pads, after: pads };
        })()
      : resolvePadding(op, given(options.padding, 0), dims, this.kernelSize, this.stride, this.dilation);
    this.padding = padding.given;
    this.#outputPadding = checkSizeNd(op, 'outputPadding', given(options.outputPadding, 0), 0, dims);
    this.#outputPadding.forEach((p, i) => {
      if (p >= this.stride[i] && p >= this.dilation[i]) {
        throw new ValueError(
          `${op}: outputPadding must be smaller than either stride or dilation (as torch requires), got outputPadding ` +
            `${formatShape(this.#outputPadding)} with stride ${formatShape(this.stride)} and dilation ${formatShape(this.dilation)}`,
        );
      }
    });
    this.groups = checkGroups(op, given(options.groups, 1), this.inChannels, this.outChannels);
    const bias = checkBoolean(op, 'bias', given(options.bias, true));
    this.dtype = checkChoice(op, 'dtype', given(options.dtype, 'float32'), ['float32', 'float64'] as const);
    const weightShape = transposed
      ? [this.inChannels, this.outChannels / this.groups, ...this.kernelSize]
      : [this.outChannels, this.inChannels / this.groups, ...this.kernelSize];
    this.weight = new Parameter(zeros(weightShape, { dtype: this.dtype }), 'weight');
    this.bias = bias ? new Parameter(zeros([this.outChannels], { dtype: this.dtype }), 'bias') : null;
    const extra = padding.after.map((a, i) => a - padding.before[i]);
    this.#core = new ConvCore({
      kernelSize: asHeightOne(this.kernelSize, 1),
      stride: asHeightOne(this.stride, 1),
      dilation: asHeightOne(this.dilation, 1),
      padding: asHeightOne(padding.before, 0),
      extraPadding: asHeightOne(extra, 0),
      groups: this.groups,
    });
    this.resetParameters(checkRng(op, options.rng));
  }

  /** The size added to one side of each output dimension (a transposed convolution's `outputPadding`; zeros otherwise). */
  protected get outputPaddingTuple(): readonly number[] {
    return this.#outputPadding;
  }

  /**
   * Draws fresh initial values, as torch's `_ConvNd.reset_parameters`: the
   * weight by kaiming-uniform (a = √5), then the bias from U(−1/√fan_in,
   * 1/√fan_in), fan_in = weight.shape[1]·(kernel volume).
   */
  resetParameters(rng: Generator = defaultGenerator): void {
    resetAffineParameters(this.weight.value, this.bias?.value ?? null, rng);
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernel_size=${pythonTuple(this.kernelSize)}`, `stride=${pythonTuple(this.stride)}`];
    const padding = this.padding;
    if (typeof padding === 'string') parts.push(`padding=${padding}`);
    else if (padding.some((p) => p !== 0)) parts.push(`padding=${pythonTuple(padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pythonTuple(this.dilation)}`);
    if (this.#outputPadding.some((p) => p !== 0)) parts.push(`output_padding=${pythonTuple(this.#outputPadding)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }

  protected override label(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize: ${formatShape(this.kernelSize)}`];
    const padding = this.padding;
    if (this.stride.some((s) => s !== 1)) parts.push(`stride: ${formatShape(this.stride)}`);
    if (typeof padding === 'string') parts.push(`padding: '${padding}'`);
    else if (padding.some((p) => p !== 0)) parts.push(`padding: ${formatShape(padding)}`);
    if (this.#outputPadding.some((p) => p !== 0)) parts.push(`outputPadding: ${formatShape(this.#outputPadding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation: ${formatShape(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups: ${this.groups}`);
    if (!this.bias) parts.push('bias: false');
    return `${this.typeName}(${parts.join(', ')})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const op = this.label();
    const { dims, transposed } = this.#kind;
    const x = convInput(op, input, dims, this.inChannels, this.dtype);
    const spatial = transposed ? this.transposedSize(op, x, input.shape) : this.#core.outputSize(op, x, input.shape, dims);
    const outputShape = convOutputShape(input.shape, dims, this.outChannels, spatial);
    const output4 = [x.shape[0], this.outChannels, spatial[0], spatial[1]];
    const out = this.output(options, outputShape, this.dtype);
    const bias = this.bias?.value ?? null;
    // An empty batch (allowed, as in torch) has nothing to compute.
    if (x.shape[0] > 0 && transposed) this.#core.transpose(op, x, this.weight.value, bias, out.reshape(output4));
    else if (x.shape[0] > 0) this.#core.convolve(op, x, this.weight.value, bias, out.reshape(output4));
    this.#inputShape = input.shape;
    this.#outputShape = outputShape;
    this.#input4 = x.shape;
    this.#output4 = output4;
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#outputShape, this.dtype).reshape(this.#output4!);
    const wanted = options?.inputGrad !== false;
    const dx = wanted ? this.output(options, this.#inputShape!, this.dtype) : undefined;
    if (this.#input4![0] === 0) return dx;
    const dx4 = dx?.reshape(this.#input4!);
    if (this.#kind.transposed) this.#core.transposeBackward(grad, this.weight, this.bias, dx4);
    else this.#core.convolveBackward(grad, this.weight, this.bias, dx4);
    return dx;
  }

  /**
   * A transposed convolution's output size, as torch's: (H − 1)·s − 2·p +
   * d·(k − 1) + outputPadding + 1 per dimension, or a ShapeError below 1.
   */
  private transposedSize(op: string, x: NDArray, shown: readonly number[]): [number, number] {
    const { kernelSize: k, stride: s, dilation: d, padding: p } = this.#core.window;
    const outputPadding = asHeightOne(this.#outputPadding, 0);
    const size = [0, 1].map((i) => (x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + outputPadding[i] + 1);
    if (size[0] < 1 || size[1] < 1) {
      const shownSize = this.#kind.dims === 2 ? formatShape(size) : `[${size[1]}]`;
      throw new ShapeError(`${op}: input ${formatShape(shown)} gives an output of size ${shownSize}, which is too small (every size must be at least 1)`);
    }
    return [size[0], size[1]];
  }
}
