import { type DType, type NDArray, type TypedArray, checkOptions } from '@backprop/ndarray';
import { OutputBuffer, markReusing } from './buffers';
import { checkOutputGrad } from './checks';
import { NeuralLayer } from './layer';
import { type PoolConfig, type PoolGeometry, checkPoolConfig, describePoolConfig, poolGeometry } from './pool2d';
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
export class MaxPool2d extends NeuralLayer {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly ceilMode: boolean;

  private readonly config: PoolConfig;
  private inputShape?: readonly number[];
  private outputShape?: readonly number[];
  private dtype?: DType;
  /**
   * For every output, the flat index within its (sample, channel) plane of the
   * input it came from: torch's `indices`. Reused between calls of the same size.
   */
  private argmax?: Int32Array;
  /** The output and the input gradient, reused when they stay inside a Sequential. */
  private readonly outputBuffer = new OutputBuffer();
  private readonly inputGradBuffer = new OutputBuffer();

  constructor(kernelSize: Size2d, options: MaxPool2dOptions = {}) {
    super();
    markReusing(this, new.target, MaxPool2d);
    const op = `MaxPool2d(${describeSize(kernelSize)})`;
    checkOptions(op, options, ['stride', 'padding', 'ceilMode']);
    this.config = checkPoolConfig(op, kernelSize, options);
    this.kernelSize = this.config.kernelSize;
    this.stride = this.config.stride;
    this.padding = this.config.padding;
    this.ceilMode = this.config.ceilMode;
  }

  override toString(): string {
    return `MaxPool2d(${describePoolConfig(this.config).join(', ')})`;
  }

  forward(input: NDArray): NDArray {
    const g = poolGeometry(this.toString(), input, this.config);
    const out = this.outputBuffer.produce(g.outputShape, input.dtype, false); // every element written
    const count = out.size;
    if (this.argmax === undefined || this.argmax.length !== count) this.argmax = new Int32Array(count);
    maxPoolForward(input.data, g, out.data, this.argmax);
    this.inputShape = input.shape;
    this.outputShape = g.outputShape;
    this.dtype = input.dtype;
    return out;
  }

  backward(outputGrad: NDArray): NDArray {
    const grad = checkOutputGrad(this.toString(), outputGrad, this.outputShape, this.dtype ?? 'float32');
    // Zeroed: the gradients are added onto it.
    const dx = this.inputGradBuffer.produce(this.inputShape!, grad.dtype, true);
    const [height, width] = this.inputShape!.slice(-2);
    const [outH, outW] = this.outputShape!.slice(-2);
    maxPoolBackward(grad.data, this.argmax!, height * width, outH * outW, dx.data);
    return dx;
  }
}

/** Writes each window's maximum into `out` and its plane-relative position into `argmax`. */
function maxPoolForward(x: TypedArray, g: PoolGeometry, out: TypedArray, argmax: Int32Array): void {
  const { planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const offset = plane * height * width;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padH, 0);
      const y1 = Math.min(oy * strideH - padH + kernelH, height);
      for (let ox = 0; ox < outW; ox++, k++) {
        const x0 = Math.max(ox * strideW - padW, 0);
        const x1 = Math.min(ox * strideW - padW + kernelW, width);
        // As torch: start at −∞ and the window's first input, so an all −∞ window points there.
        let max = Number.NEGATIVE_INFINITY;
        let index = y0 * width + x0;
        for (let y = y0; y < y1; y++) {
          for (let i = y * width + x0, end = y * width + x1; i < end; i++) {
            const v = x[offset + i];
            // `>` keeps the first of equal maxima; a NaN always takes over, so the last NaN wins.
            if (v > max || Number.isNaN(v)) {
              max = v;
              index = i;
            }
          }
        }
        out[k] = max;
        argmax[k] = index;
      }
    }
  }
}

/** Adds each output gradient onto the input its maximum came from (`dx` starts at 0). */
function maxPoolBackward(
  grad: TypedArray,
  argmax: Int32Array,
  planeSize: number,
  outputsPerPlane: number,
  dx: TypedArray,
): void {
  const planes = grad.length / outputsPerPlane;
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const offset = plane * planeSize;
    for (let j = 0; j < outputsPerPlane; j++, k++) dx[offset + argmax[k]] += grad[k];
  }
}
