/**
 * What MaxPool2d and AvgPool2d share (internal, in its own module so a bundle
 * that only uses Linear or Conv2d leaves it out): their options, their output
 * size and the checks on their input, all as torch's `pool2d_shape_check`.
 */
import { type NDArray, ShapeError, ValueError, formatShape } from '@backprop/ndarray';
import { checkArrayArg, checkBoolean } from './checks';
import { type Size2d, checkSize2d } from './size2d';

/** The window options both pooling layers take, checked. */
export interface PoolConfig {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly ceilMode: boolean;
}

/** Sizes of one pooling pass, all integers; a plane is one (sample, channel) image. */
export interface PoolGeometry {
  planes: number;
  height: number;
  width: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
  outputShape: number[];
}

/**
 * Checks the shared options. Padding is limited to half the kernel, as torch
 * requires ("pad should be at most half of kernel size"), which guarantees that
 * every window holds at least one input element.
 */
export function checkPoolConfig(
  op: string,
  kernelSize: unknown,
  options: { stride?: Size2d; padding?: Size2d; ceilMode?: boolean },
): PoolConfig {
  const kernel = checkSize2d(op, 'kernelSize', kernelSize, 1);
  const stride = checkSize2d(op, 'stride', options.stride ?? kernel, 1);
  const padding = checkSize2d(op, 'padding', options.padding ?? 0, 0);
  const ceilMode = checkBoolean(op, 'ceilMode', options.ceilMode ?? false);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new ValueError(
      `${op}: padding must be at most half the kernel size in each dimension (as torch requires), ` +
        `got padding ${formatShape(padding)} for kernelSize ${formatShape(kernel)}`,
    );
  }
  return { kernelSize: kernel, stride, padding, ceilMode };
}

/** The options that differ from their defaults, for the layer's name: `kernelSize: [3, 3], stride: [2, 2]`. */
export function describePoolConfig(config: PoolConfig): string[] {
  const { kernelSize, stride, padding, ceilMode } = config;
  const parts = [`kernelSize: ${formatShape(kernelSize)}`];
  if (stride[0] !== kernelSize[0] || stride[1] !== kernelSize[1]) parts.push(`stride: ${formatShape(stride)}`);
  if (padding[0] !== 0 || padding[1] !== 0) parts.push(`padding: ${formatShape(padding)}`);
  if (ceilMode) parts.push('ceilMode: true');
  return parts;
}

/**
 * One output size, as torch's `pooling_output_shape`:
 * ⌊(size + 2·pad − kernel (+ stride − 1 with ceilMode)) / stride⌋ + 1, and with
 * ceilMode one fewer when the last window would start past the input and its
 * left padding (it would cover right padding only).
 */
export function poolOutputSize(size: number, kernel: number, stride: number, pad: number, ceilMode: boolean): number {
  let out = Math.floor((size + 2 * pad - kernel + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

/**
 * Checks a pooling layer's input, [N, C, H, W] or unbatched [C, H, W] with
 * C, H and W non-zero (N may be 0, as in torch), and works out the output.
 */
export function poolGeometry(op: string, input: unknown, config: PoolConfig): PoolGeometry {
  checkArrayArg(op, 'input', input);
  const x = input as NDArray;
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new ShapeError(
      `${op}: expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got ${formatShape(x.shape)}`,
    );
  }
  const batched = x.ndim === 4;
  const [n, c, h, w] = batched ? x.shape : [1, ...x.shape];
  if (c === 0 || h === 0 || w === 0) {
    throw new ShapeError(
      `${op}: expected an input with non-zero channels, height and width (only the batch may be empty), got ${formatShape(x.shape)}`,
    );
  }
  const [kh, kw] = config.kernelSize;
  const [sh, sw] = config.stride;
  const [ph, pw] = config.padding;
  const outH = poolOutputSize(h, kh, sh, ph, config.ceilMode);
  const outW = poolOutputSize(w, kw, sw, pw, config.ceilMode);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: input ${formatShape(x.shape)} padded to ${h + 2 * ph}×${w + 2 * pw} is smaller than the kernel ${kh}×${kw}`,
    );
  }
  return {
    planes: n * c,
    height: h,
    width: w,
    kernelH: kh,
    kernelW: kw,
    strideH: sh,
    strideW: sw,
    padH: ph,
    padW: pw,
    outH,
    outW,
    outputShape: batched ? [n, c, outH, outW] : [c, outH, outW],
  };
}
