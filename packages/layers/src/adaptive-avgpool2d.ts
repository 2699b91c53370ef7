import {
  DTypeError,
  type FloatDType,
  type NDArray,
  ShapeError,
  Slot,
  ValueError,
  array,
  describe,
  formatShape,
  gemm,
} from '@backprop/ndarray';
import { checkArrayArg, checkOutputGrad } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';

/**
 * An adaptive pooling layer's output size: one number for both dimensions,
 * or [height, width] where `null` keeps the input's size along that dimension.
 */
export type AdaptiveSize2d = number | readonly [number | null, number | null];

/**
 * The matrix P [out, size] that averages each of torch's adaptive windows
 * along one dimension: row i is 1/(end − start) over [start, end) with
 * start = ⌊i·size/out⌋ and end = ⌈(i + 1)·size/out⌉ (torch's `start_index`
 * and `end_index`), zero elsewhere. Windows may overlap (when out does not
 * divide size) and repeat (when out > size).
 */
function poolingMatrix(out: number, size: number, dtype: FloatDType): NDArray {
  const values = new Float64Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    values.fill(1 / (end - start), i * size + start, i * size + end);
  }
  return array(values, { shape: [out, size], dtype });
}

/**
 * Checks an output size: a non-negative integer, or a pair of them (or null);
 * returns the pair.
 */
function checkAdaptiveSize(op: string, value: unknown): readonly [number | null, number | null] {
  const pair = typeof value === 'number' ? [value, value] : value;
  const ok = (v: unknown) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every(ok)) {
    throw new ValueError(
      `${op}: outputSize must be an integer >= 0 or a pair [height, width] of them (null keeps the input's size), got ${Array.isArray(value) ? `[${value.map((v) => describe(v)).join(', ')}]` : describe(value)}`,
    );
  }
  return Object.freeze([pair[0], pair[1]] as [number | null, number | null]);
}

/** A Python value as `repr` shows it inside a tuple: `None` for null. */
const pythonValue = (v: number | null): string => (v === null ? 'None' : String(v));

/**
 * 2-D adaptive average pooling, as `torch.nn.AdaptiveAvgPool2d(outputSize)`:
 * [N, C, H, W] (or unbatched [C, H, W]) to [N, C, OH, OW] whatever H and W
 * are; output (i, j) averages rows ⌊i·H/OH⌋ to ⌈(i + 1)·H/OH⌉ − 1 and columns
 * ⌊j·W/OW⌋ to ⌈(j + 1)·W/OW⌉ − 1, so neighbouring windows overlap when OH
 * does not divide H. `AdaptiveAvgPool2d(1)` is global average pooling;
 * `[null, 7]` keeps the height.
 *
 * Averaging is separable, so the pass is two products with pooling matrices
 * built once per input size, Ph [OH, H] and Pw [OW, W]: y = Ph · x · Pwᵀ per
 * plane (two gemms), and backward is their transposes, dx = Phᵀ · g · Pw.
 *
 * @example
 * const pool = new AdaptiveAvgPool2d([2, 3]);
 * pool.forward(zeros([8, 16, 7, 10])).shape   // [8, 16, 2, 3]
 */
export class AdaptiveAvgPool2d extends NeuralLayer {
  /** The output size as given: a number, or [height, width] with null for "the input's". */
  readonly outputSize: AdaptiveSize2d;
  readonly #size: readonly [number | null, number | null];

  #inputShape?: readonly number[];
  #outputShape?: readonly number[];
  #dtype?: FloatDType;
  /** The pooling matrices of the last input size and dtype, kept while it repeats. */
  #key = '';
  #rows?: NDArray;
  #cols?: NDArray;
  readonly #half = new Slot();
  readonly #halfGrad = new Slot();

  constructor(outputSize: AdaptiveSize2d) {
    super();
    const op = `AdaptiveAvgPool2d(${Array.isArray(outputSize) ? `[${outputSize.map((v) => describe(v)).join(', ')}]` : describe(outputSize)})`;
    this.#size = checkAdaptiveSize(op, outputSize);
    this.outputSize = typeof outputSize === 'number' ? outputSize : this.#size;
  }

  override get typeName(): string {
    return this.namedAs(AdaptiveAvgPool2d, 'AdaptiveAvgPool2d');
  }

  override extraRepr(): string {
    const size = this.outputSize;
    return `output_size=${typeof size === 'number' ? size : `(${size.map(pythonValue).join(', ')})`}`;
  }

  protected override label(): string {
    const size = this.outputSize;
    return `AdaptiveAvgPool2d(outputSize: ${typeof size === 'number' ? size : `[${size.map((v) => String(v)).join(', ')}]`})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    if (input.ndim !== 4 && input.ndim !== 3) {
      throw new ShapeError(`${op}: expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got ${formatShape(input.shape)}`);
    }
    if (input.dtype !== 'float32' && input.dtype !== 'float64') {
      throw new DTypeError(`${op}: expected a float32 or float64 input, got ${input.dtype}`);
    }
    const [h, w] = input.shape.slice(-2);
    if (h === 0 || w === 0) {
      throw new ShapeError(`${op}: expected an input with non-zero height and width (nothing to average), got ${formatShape(input.shape)}`);
    }
    const outH = this.#size[0] ?? h;
    const outW = this.#size[1] ?? w;
    const planes = input.size / (h * w);
    const outputShape = [...input.shape.slice(0, -2), outH, outW];
    const [rows, cols] = this.matrices(h, w, outH, outW, input.dtype);
    const out = this.output(options, outputShape, input.dtype);
    // Along the width, every row of every plane at once: [P·H, W]·Pwᵀ = [P·H, OW];
    // then along the height, plane by plane: Ph·[H, OW] = [OH, OW].
    if (planes > 0) {
      const half = gemm(input.reshape([planes * h, w]), cols, { transB: true, out: this.#half.take([planes * h, outW], input.dtype) });
      gemm(rows, half.reshape([planes, h, outW]), { out: out.reshape([planes, outH, outW]) });
    }
    this.#inputShape = input.shape;
    this.#outputShape = outputShape;
    this.#dtype = input.dtype;
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#outputShape, this.#dtype ?? 'float32');
    if (options?.inputGrad === false) return undefined;
    const inputShape = this.#inputShape!;
    const [h, w] = inputShape.slice(-2);
    const [outH, outW] = grad.shape.slice(-2);
    const planes = inputShape.slice(0, -2).reduce((p, d) => p * d, 1);
    const rows = this.#rows!;
    const cols = this.#cols!;
    const dx = this.output(options, inputShape, grad.dtype);
    if (planes === 0) return dx;
    // dx = Phᵀ · g · Pw, in the forward's order reversed.
    const halfGrad = gemm(rows, grad.reshape([planes, outH, outW]), {
      transA: true,
      out: this.#halfGrad.take([planes, h, outW], grad.dtype),
    });
    gemm(halfGrad.reshape([planes * h, outW]), cols, { out: dx.reshape([planes * h, w]) });
    return dx;
  }

  /** Ph [OH, H] and Pw [OW, W] for this size and dtype, built when either changes. */
  private matrices(h: number, w: number, outH: number, outW: number, dtype: FloatDType): [NDArray, NDArray] {
    const key = `${h} ${w} ${outH} ${outW} ${dtype}`;
    if (key !== this.#key || !this.#rows || !this.#cols) {
      this.#rows = poolingMatrix(outH, h, dtype);
      this.#cols = poolingMatrix(outW, w, dtype);
      this.#key = key;
    }
    return [this.#rows, this.#cols];
  }
}
