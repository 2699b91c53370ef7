import { type NDArray, type Pool2dGeometry, Slot, checkOptions, maxPool2d, maxPool2dBackward } from '@backprop/ndarray';
import { Pool2dLayer, checkPoolConfig, describePoolConfig, pythonSize } from './pool2d';
import { type Size2d, describeSize } from './size2d';

/** Options of {@link MaxPool2d}. */
export interface MaxPool2dOptions {
  /** Step between windows, default the kernel size (windows side by side). */
  stride?: Size2d;
  /** Implicit −∞ added on every side, default 0; at most half the kernel size. */
  padding?: Size2d;
  /** Round the output size up instead of down (default false), as torch's `ceil_mode`. */
  ceilMode?: boolean;
}

/**
 * 2-D max pooling over NCHW input, as `torch.nn.MaxPool2d(kernelSize, stride,
 * padding, ceil_mode=ceilMode)`: each output is the largest input in its
 * kh×kw window. Padding counts as −∞ (it is never the maximum).
 *
 * Input [N, C, H, W] gives [N, C, OH, OW] with OH = ⌊(H + 2·ph − kh) / sh⌋ + 1
 * (likewise OW; with `ceilMode` rounded up, except that the last window must
 * start inside the input or its left padding, as torch's rule). An unbatched
 * [C, H, W] input gives [C, OH, OW].
 *
 * Backward sends each output's gradient to the position of its window's
 * maximum, adding where overlapping windows (stride < kernel) pick the same
 * input. The position is the one torch's CPU kernel picks: the first maximum in
 * row-major window order on ties, and the last NaN of a window that holds NaN
 * (a NaN is the maximum, so it propagates to the output).
 *
 * There is no `dilation` or `return_indices` (an unknown option is an error).
 *
 * @example
 * const pool = new MaxPool2d(2);
 * pool.forward(zeros([32, 8, 28, 28])).shape   // [32, 8, 14, 14]
 */
export class MaxPool2d extends Pool2dLayer {
  /** For every output, where in its (sample, channel) plane the maximum was: torch's `indices`. */
  readonly #indices = new Slot();

  constructor(kernelSize: Size2d, options: MaxPool2dOptions = {}) {
    const op = `MaxPool2d(${describeSize(kernelSize)})`;
    checkOptions(op, options, ['stride', 'padding', 'ceilMode']);
    super(checkPoolConfig(op, kernelSize, options));
  }

  override get typeName(): string {
    return this.namedAs(MaxPool2d, 'MaxPool2d');
  }

  override extraRepr(): string {
    return (
      `kernel_size=${pythonSize(this.kernelSize)}, stride=${pythonSize(this.stride)}, padding=${pythonSize(this.padding)}, ` +
      `dilation=1, ceil_mode=${this.ceilMode ? 'True' : 'False'}`
    );
  }

  protected override label(): string {
    return `MaxPool2d(${describePoolConfig(this.config).join(', ')})`;
  }

  protected pool(input: NDArray, g: Pool2dGeometry, out: NDArray): NDArray {
    return maxPool2d(input, g, { out, indices: this.#indices.take(out.shape, 'int32') }).output;
  }

  protected unpool(grad: NDArray, g: Pool2dGeometry, inputShape: readonly number[], out: NDArray): NDArray {
    return maxPool2dBackward(grad, this.#indices.take(grad.shape, 'int32'), g, inputShape, out);
  }
}
