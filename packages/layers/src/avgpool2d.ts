import { type DType, type NDArray, type TypedArray, ValueError, checkOptions, describe } from '@backprop/ndarray';
import { OutputBuffer, markReusing } from './buffers';
import { checkBoolean, checkOutputGrad } from './checks';
import { NeuralLayer } from './layer';
import { type PoolConfig, type PoolGeometry, checkPoolConfig, describePoolConfig, poolGeometry } from './pool2d';
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
 * window; only the input's shape and the divisors are kept between passes.
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

  private readonly config: PoolConfig;
  private inputShape?: readonly number[];
  private geometry?: PoolGeometry;
  private dtype?: DType;
  private divisors?: Float64Array;
  private divisorsHeight = 0;
  private divisorsWidth = 0;
  /** The output and the input gradient, reused when they stay inside a Sequential. */
  private readonly outputBuffer = new OutputBuffer();
  private readonly inputGradBuffer = new OutputBuffer();

  constructor(kernelSize: Size2d, options: AvgPool2dOptions = {}) {
    super();
    markReusing(this, new.target, AvgPool2d);
    const op = `AvgPool2d(${describeSize(kernelSize)})`;
    checkOptions(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    this.config = checkPoolConfig(op, kernelSize, options);
    this.kernelSize = this.config.kernelSize;
    this.stride = this.config.stride;
    this.padding = this.config.padding;
    this.ceilMode = this.config.ceilMode;
    this.countIncludePad = checkBoolean(op, 'countIncludePad', options.countIncludePad ?? true);
    const divisor = options.divisorOverride ?? null;
    if (divisor !== null && (typeof divisor !== 'number' || !Number.isInteger(divisor) || divisor === 0)) {
      throw new ValueError(`${op}: divisorOverride must be a non-zero integer or null, got ${describe(divisor)}`);
    }
    this.divisorOverride = divisor;
  }

  override toString(): string {
    const parts = describePoolConfig(this.config);
    if (!this.countIncludePad) parts.push('countIncludePad: false');
    if (this.divisorOverride !== null) parts.push(`divisorOverride: ${this.divisorOverride}`);
    return `AvgPool2d(${parts.join(', ')})`;
  }

  forward(input: NDArray): NDArray {
    const g = poolGeometry(this.toString(), input, this.config);
    const out = this.outputBuffer.produce(g.outputShape, input.dtype, false); // every element written
    const divisor = this.divisorsFor(g);
    avgPoolForward(input.data, g, divisor, out.data);
    this.inputShape = input.shape;
    this.geometry = g;
    this.dtype = input.dtype;
    return out;
  }

  backward(outputGrad: NDArray): NDArray {
    const grad = checkOutputGrad(this.toString(), outputGrad, this.geometry?.outputShape, this.dtype ?? 'float32');
    // Zeroed: the shares are added onto it.
    const dx = this.inputGradBuffer.produce(this.inputShape!, grad.dtype, true);
    avgPoolBackward(grad.data, this.geometry!, this.divisorsFor(this.geometry!), dx.data);
    return dx;
  }

  /** The per-position divisors, cached for as long as the plane size stays the same. */
  private divisorsFor(g: PoolGeometry): Float64Array {
    if (this.divisors === undefined || this.divisorsHeight !== g.height || this.divisorsWidth !== g.width) {
      this.divisors = divisors(g, this.countIncludePad, this.divisorOverride);
      this.divisorsHeight = g.height;
      this.divisorsWidth = g.width;
    }
    return this.divisors;
  }
}

/**
 * The divisor of every output position of one plane (they repeat from plane
 * to plane), as torch's `cpu_avg_pool` works it out: with countIncludePad the
 * window clipped to the padded input, otherwise clipped to the input itself.
 */
function divisors(g: PoolGeometry, countIncludePad: boolean, divisorOverride: number | null): Float64Array {
  const { height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  const out = new Float64Array(outH * outW);
  for (let oy = 0, k = 0; oy < outH; oy++) {
    const top = oy * strideH - padH;
    const paddedH = Math.min(top + kernelH, height + padH) - top;
    const insideH = Math.min(top + kernelH, height) - Math.max(top, 0);
    for (let ox = 0; ox < outW; ox++, k++) {
      const left = ox * strideW - padW;
      const paddedW = Math.min(left + kernelW, width + padW) - left;
      const insideW = Math.min(left + kernelW, width) - Math.max(left, 0);
      out[k] = divisorOverride ?? (countIncludePad ? paddedH * paddedW : insideH * insideW);
    }
  }
  return out;
}

/**
 * out[k] = Σ window / divisor. float32 sums round after every addition, in
 * row-major window order, as torch's float32 kernel accumulates.
 */
function avgPoolForward(x: TypedArray, g: PoolGeometry, divisor: Float64Array, out: TypedArray): void {
  const { planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  const single = x instanceof Float32Array;
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const offset = plane * height * width;
    for (let oy = 0, d = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padH, 0);
      const y1 = Math.min(oy * strideH - padH + kernelH, height);
      for (let ox = 0; ox < outW; ox++, k++, d++) {
        const x0 = Math.max(ox * strideW - padW, 0);
        const x1 = Math.min(ox * strideW - padW + kernelW, width);
        let sum = 0;
        for (let y = y0; y < y1; y++) {
          for (let i = offset + y * width + x0, end = offset + y * width + x1; i < end; i++) {
            sum = single ? Math.fround(sum + x[i]) : sum + x[i];
          }
        }
        out[k] = sum / divisor[d];
      }
    }
  }
}

/** Adds grad[k] / divisor (rounded to float32 first for float32, as torch) onto every input of window k. */
function avgPoolBackward(grad: TypedArray, g: PoolGeometry, divisor: Float64Array, dx: TypedArray): void {
  const { planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  const single = grad instanceof Float32Array;
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const offset = plane * height * width;
    for (let oy = 0, d = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padH, 0);
      const y1 = Math.min(oy * strideH - padH + kernelH, height);
      for (let ox = 0; ox < outW; ox++, k++, d++) {
        const x0 = Math.max(ox * strideW - padW, 0);
        const x1 = Math.min(ox * strideW - padW + kernelW, width);
        const share = single ? Math.fround(grad[k] / divisor[d]) : grad[k] / divisor[d];
        for (let y = y0; y < y1; y++) {
          for (let i = offset + y * width + x0, end = offset + y * width + x1; i < end; i++) dx[i] += share;
        }
      }
    }
  }
}
