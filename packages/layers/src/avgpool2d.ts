import {
  type DType,
  type NDArray,
  type Pool2dGeometry,
  ValueError,
  avgPool2d,
  avgPool2dBackward,
  checkOptions,
  describe,
  poolOutputShape,
} from '@backprop/ndarray';
import { checkBoolean, checkOutputGrad } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { type PoolConfig, checkPoolConfig, describePoolConfig, poolGeometry, pythonSize } from './pool2d';
import { type Size2d, describeSize } from './size2d';

/** Options of {@link AvgPool2d}. */
export interface AvgPool2dOptions {
  /** Step between windows, default the kernel size (windows side by side). */
  stride?: Size2d;
  /** Zeros added on every side, default 0; at most half the kernel size. */
  padding?: Size2d;
  /** Round the output size up instead of down (default false), as torch's `ceil_mode`. */
  ceilMode?: boolean;
  /** Count the zero padding in each window's divisor (default true), as torch's `count_include_pad`. */
  countIncludePad?: boolean;
  /**
   * Divide every window's sum by this non-zero integer instead, as torch's
   * `divisor_override` (default null: the window's own divisor).
   */
  divisorOverride?: number | null;
}

/**
 * 2-D average pooling over NCHW input, as `torch.nn.AvgPool2d(kernelSize,
 * stride, padding, ceil_mode=ceilMode, count_include_pad=countIncludePad,
 * divisor_override=divisorOverride)`: each output is its window's sum over a
 * divisor.
 *
 * The divisor follows torch's CPU kernel: with `countIncludePad` (the default)
 * it is the window's area clipped to the padded input, so zero padding counts
 * but the part of a `ceilMode` window hanging past the right/bottom padding
 * does not; without it, only the input elements the window covers; with
 * `divisorOverride`, that number for every window.
 *
 * Output sizes are MaxPool2d's: OH = ⌊(H + 2·ph − kh) / sh⌋ + 1 (likewise OW,
 * rounded up with `ceilMode`); an unbatched [C, H, W] input gives [C, OH, OW].
 * Backward adds each output's gradient / divisor onto every input of its
 * window; only the input's shape is kept between passes.
 *
 * @example
 * const pool = new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false });
 * pool.forward(zeros([32, 8, 28, 28])).shape   // [32, 8, 14, 14]
 */
export class AvgPool2d extends NeuralLayer {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  /** The fixed divisor, or null for the window-dependent one. */
  readonly divisorOverride: number | null;

  readonly #config: PoolConfig;
  #inputShape?: readonly number[];
  #geometry?: Pool2dGeometry;
  #dtype?: DType;

  constructor(kernelSize: Size2d, options: AvgPool2dOptions = {}) {
    super();
    const op = `AvgPool2d(${describeSize(kernelSize)})`;
    checkOptions(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    this.#config = checkPoolConfig(op, kernelSize, options);
    this.kernelSize = this.#config.kernelSize;
    this.stride = this.#config.stride;
    this.padding = this.#config.padding;
    this.ceilMode = this.#config.ceilMode;
    this.countIncludePad = checkBoolean(op, 'countIncludePad', options.countIncludePad ?? true);
    const divisor = options.divisorOverride ?? null;
    if (divisor !== null && (typeof divisor !== 'number' || !Number.isInteger(divisor) || divisor === 0)) {
      throw new ValueError(`${op}: divisorOverride must be a non-zero integer or null, got ${describe(divisor)}`);
    }
    this.divisorOverride = divisor;
  }

  override get typeName(): string {
    return this.namedAs(AvgPool2d, 'AvgPool2d');
  }

  override extraRepr(): string {
    return `kernel_size=${pythonSize(this.kernelSize)}, stride=${pythonSize(this.stride)}, padding=${pythonSize(this.padding)}`;
  }

  protected override label(): string {
    const parts = describePoolConfig(this.#config);
    if (!this.countIncludePad) parts.push('countIncludePad: false');
    if (this.divisorOverride !== null) parts.push(`divisorOverride: ${this.divisorOverride}`);
    return `AvgPool2d(${parts.join(', ')})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const g = poolGeometry(this.label(), input, this.#config);
    const out = avgPool2d(input, g, this, this.output(options, poolOutputShape(input.shape, g), input.dtype));
    this.#inputShape = input.shape;
    this.#geometry = g;
    this.#dtype = input.dtype;
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const g = this.#geometry;
    const grad = checkOutputGrad(this.label(), outputGrad, g && poolOutputShape(this.#inputShape!, g), this.#dtype ?? 'float32');
    if (options?.inputGrad === false) return undefined;
    return avgPool2dBackward(grad, g!, this, this.#inputShape!, this.output(options, this.#inputShape!, grad.dtype));
  }
}
