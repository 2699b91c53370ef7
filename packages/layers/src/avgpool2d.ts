import { type NDArray, type Pool2dGeometry, ValueError, avgPool2d, avgPool2dBackward, checkOptions, describe } from '@backprop/ndarray';
import { checkBoolean } from './checks';
import { Pool2dLayer, checkPoolConfig, describePoolConfig, pythonSize } from './pool2d';
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
export class AvgPool2d extends Pool2dLayer {
  readonly countIncludePad: boolean;
  /** The fixed divisor, or null for the window-dependent one. */
  readonly divisorOverride: number | null;

  constructor(kernelSize: Size2d, options: AvgPool2dOptions = {}) {
    const op = `AvgPool2d(${describeSize(kernelSize)})`;
    checkOptions(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    super(checkPoolConfig(op, kernelSize, options));
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
    const parts = describePoolConfig(this.config);
    if (!this.countIncludePad) parts.push('countIncludePad: false');
    if (this.divisorOverride !== null) parts.push(`divisorOverride: ${this.divisorOverride}`);
    return `AvgPool2d(${parts.join(', ')})`;
  }

  protected pool(input: NDArray, g: Pool2dGeometry, out: NDArray): NDArray {
    return avgPool2d(input, g, this, out);
  }

  protected unpool(grad: NDArray, g: Pool2dGeometry, inputShape: readonly number[], out: NDArray): NDArray {
    return avgPool2dBackward(grad, g, this, inputShape, out);
  }
}
