/**
 * The ops behind 2-D convolution and pooling over NCHW arrays: the geometry
 * of a pass (torch's output-size rules), im2col/col2im, and max and average
 * pooling with their backward passes.
 */
import { DTypeError, ShapeError, ValueError, checkOptions, describe, formatShape } from '../errors';
import { convKernels } from '../kernels/js/conv';
import { poolKernels } from '../kernels/js/pool';
import { kernel } from '../kernels/registry';
import { wasmCol2im, wasmIm2col, wasmMaxPool2d, wasmMaxPool2dBackward } from '../kernels/wasm/conv';
import type { AvgPoolDivisor, Conv2dGeometry, Pool2dGeometry } from '../kernels/types';
import type { NDArray } from '../ndarray';
import { shapesEqual } from '../shape';
import { checkArray, checkDistinct, checkFloatArray, prepareOut } from './operand';
import { checkRange } from '../validate';

export type { AvgPoolDivisor, Conv2dGeometry, Pool2dGeometry };

/** A convolution's window, each as [height, width]. */
export interface Conv2dWindow {
  kernelSize: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
}

/** Throws unless `pair` is [height, width] of integers >= `min`. */
function checkPair(op: string, name: string, pair: unknown, min: number): void {
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v >= min)) {
    const given = Array.isArray(pair) ? `[${pair.map((v) => describe(v)).join(', ')}]` : describe(pair);
    throw new ValueError(`${op}: ${name} must be a pair [height, width] of integers >= ${min}, got ${given}`);
  }
}

/** One output size, as torch computes it: ⌊(in + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1. */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * The geometry of a convolution of an [N, C, H, W] input (`op` names the
 * caller in errors): its output size, or a ShapeError when the padded input
 * is smaller than the (dilated) kernel.
 */
export function conv2dGeometry(op: string, inputShape: readonly number[], window: Conv2dWindow): Conv2dGeometry {
  if (inputShape.length !== 4) {
    throw new ShapeError(`${op}: expected a 4-D input [N, C, H, W], got ${formatShape(inputShape)}`);
  }
  checkPair(op, 'kernelSize', window.kernelSize, 1);
  checkPair(op, 'stride', window.stride, 1);
  checkPair(op, 'padding', window.padding, 0);
  checkPair(op, 'dilation', window.dilation, 1);
  const [batch, channels, height, width] = inputShape;
  const [kernelH, kernelW] = window.kernelSize;
  const [strideH, strideW] = window.stride;
  const [padH, padW] = window.padding;
  const [dilationH, dilationW] = window.dilation;
  const outH = convOutputSize(height, kernelH, strideH, padH, dilationH);
  const outW = convOutputSize(width, kernelW, strideW, padW, dilationW);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: input ${formatShape(inputShape)} padded to ${height + 2 * padH}×${width + 2 * padW} is smaller than the ` +
        `${dilationH === 1 && dilationW === 1 ? '' : 'dilated '}kernel ${dilationH * (kernelH - 1) + 1}×${dilationW * (kernelW - 1) + 1}`,
    );
  }
  return { batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW };
}

function colsShape(g: Conv2dGeometry): number[] {
  return [g.batch, g.channels * g.kernelH * g.kernelW, g.outH * g.outW];
}

function imageShape(g: Conv2dGeometry): number[] {
  return [g.batch, g.channels, g.height, g.width];
}

/** Throws unless every listed field of `record` is an integer in [min, 2³¹). */
function checkFields<G>(op: string, what: string, record: G, fields: readonly (keyof G & string)[], min: number): void {
  for (const name of fields) {
    const value = record[name] as unknown;
    if (!Number.isInteger(value) || (value as number) < min || (value as number) >= 2 ** 31) {
      throw new ValueError(`${op}: the ${what} geometry's ${name} must be an integer >= ${min}, got ${describe(value)}`);
    }
  }
}

/**
 * Throws unless a convolution geometry is one the kernels can run: sizes,
 * kernel, stride, dilation and padding in range, and an output no larger than
 * the convolution gives (a smaller one is its top-left corner, which padding
 * layers use). `conv2dGeometry` makes such records; this catches hand-made ones.
 */
function checkConvGeometry(op: string, g: Conv2dGeometry): void {
  checkFields(op, 'convolution', g, ['batch', 'channels', 'height', 'width', 'padH', 'padW'], 0);
  checkFields(op, 'convolution', g, ['kernelH', 'kernelW', 'strideH', 'strideW', 'dilationH', 'dilationW', 'outH', 'outW'], 1);
  const fullH = convOutputSize(g.height, g.kernelH, g.strideH, g.padH, g.dilationH);
  const fullW = convOutputSize(g.width, g.kernelW, g.strideW, g.padW, g.dilationW);
  if (g.outH > fullH || g.outW > fullW) {
    throw new ValueError(`${op}: the geometry's output ${g.outH}×${g.outW} exceeds the ${fullH}×${fullW} this convolution gives`);
  }
}

/** Throws unless a pooling geometry is one the kernels can run (as {@link checkConvGeometry}; ceil mode's larger output allowed). */
function checkPoolGeometry(op: string, g: Pool2dGeometry): void {
  checkFields(op, 'pooling', g, ['planes', 'height', 'width', 'padH', 'padW'], 0);
  checkFields(op, 'pooling', g, ['kernelH', 'kernelW', 'strideH', 'strideW', 'outH', 'outW'], 1);
  if (g.padH > g.kernelH / 2 || g.padW > g.kernelW / 2) {
    throw new ValueError(`${op}: the geometry's padding [${g.padH}, ${g.padW}] exceeds half its kernel [${g.kernelH}, ${g.kernelW}]`);
  }
  const fullH = poolOutputSize(g.height, g.kernelH, g.strideH, g.padH, true);
  const fullW = poolOutputSize(g.width, g.kernelW, g.strideW, g.padW, true);
  if (g.outH > fullH || g.outW > fullW) {
    throw new ValueError(`${op}: the geometry's output ${g.outH}×${g.outW} exceeds the ${fullH}×${fullW} this pooling gives`);
  }
}

function checkShapeIs(op: string, name: string, x: NDArray, shape: readonly number[]): void {
  if (!shapesEqual(x.shape, shape)) {
    throw new ShapeError(`${op}: ${name} has shape ${formatShape(x.shape)}, expected ${formatShape(shape)} for this geometry`);
  }
}

/**
 * Every receptive field of x [N, C, H, W] as a column: [N, C·kh·kw, OH·OW],
 * rows ordered as a weight [O, C, kh, kw], so a convolution is
 * `gemm(weight.reshape([O, C·kh·kw]), im2col(x, g))`.
 */
export function im2col(x: NDArray, geometry: Conv2dGeometry, out?: NDArray): NDArray {
  const op = 'im2col';
  checkFloatArray(op, 'input', x);
  checkConvGeometry(op, geometry);
  checkShapeIs(op, 'input', x, imageShape(geometry));
  const result = prepareOut(op, out, colsShape(geometry), x.dtype);
  checkDistinct(op, result, { input: x });
  kernel(op, convKernels.im2col, wasmIm2col)({ x, geometry, out: result });
  return result;
}

/** im2col's adjoint: adds every column entry back onto its pixel, giving [N, C, H, W]. */
export function col2im(cols: NDArray, geometry: Conv2dGeometry, out?: NDArray): NDArray {
  const op = 'col2im';
  checkFloatArray(op, 'columns', cols);
  checkConvGeometry(op, geometry);
  checkShapeIs(op, 'columns', cols, colsShape(geometry));
  const result = prepareOut(op, out, imageShape(geometry), cols.dtype);
  checkDistinct(op, result, { columns: cols });
  kernel(op, convKernels.col2im, wasmCol2im)({ cols, geometry, out: result });
  return result;
}

/** A pooling window, each as [height, width]. */
export interface Pool2dWindow {
  kernelSize: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
  /** Round the output size up instead of down, as torch's `ceil_mode`. */
  ceilMode: boolean;
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
 * The geometry of a pooling pass over [N, C, H, W] or [C, H, W] (every
 * (sample, channel) image is a plane); a ShapeError when the padded input is
 * smaller than the window.
 */
export function pool2dGeometry(op: string, inputShape: readonly number[], window: Pool2dWindow): Pool2dGeometry {
  if (inputShape.length !== 4 && inputShape.length !== 3) {
    throw new ShapeError(`${op}: expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got ${formatShape(inputShape)}`);
  }
  const [height, width] = inputShape.slice(-2);
  const planes = inputShape.slice(0, -2).reduce((p, d) => p * d, 1);
  checkPair(op, 'kernelSize', window.kernelSize, 1);
  checkPair(op, 'stride', window.stride, 1);
  checkPair(op, 'padding', window.padding, 0);
  if (typeof window.ceilMode !== 'boolean') throw new ValueError(`${op}: ceilMode must be a boolean, got ${describe(window.ceilMode)}`);
  const [kernelH, kernelW] = window.kernelSize;
  const [strideH, strideW] = window.stride;
  const [padH, padW] = window.padding;
  if (padH > kernelH / 2 || padW > kernelW / 2) {
    throw new ValueError(
      `${op}: padding must be at most half the kernel size (as torch requires), got padding [${padH}, ${padW}] for kernel [${kernelH}, ${kernelW}]`,
    );
  }
  const outH = poolOutputSize(height, kernelH, strideH, padH, window.ceilMode);
  const outW = poolOutputSize(width, kernelW, strideW, padW, window.ceilMode);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: input ${formatShape(inputShape)} padded to ${height + 2 * padH}×${width + 2 * padW} is smaller than the kernel ${kernelH}×${kernelW}`,
    );
  }
  return { planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW };
}

/** The output shape of a pooling pass over an input of `inputShape`. */
export function poolOutputShape(inputShape: readonly number[], g: Pool2dGeometry): number[] {
  return [...inputShape.slice(0, -2), g.outH, g.outW];
}

function checkPlanes(op: string, name: string, x: NDArray, g: Pool2dGeometry, h: number, w: number): void {
  if (x.ndim < 2 || x.shape[x.ndim - 2] !== h || x.shape[x.ndim - 1] !== w || x.size !== g.planes * h * w) {
    throw new ShapeError(`${op}: ${name} has shape ${formatShape(x.shape)}, expected ${g.planes} planes of ${h}×${w}`);
  }
}

/**
 * Each window's maximum, and where it was: `indices` (int32, the flat
 * position within the plane) is torch's `return_indices`. A tie picks the
 * first in row-major order, a NaN always wins (the last NaN of a window).
 */
export function maxPool2d(x: NDArray, geometry: Pool2dGeometry, options: { out?: NDArray; indices?: NDArray } = {}): { output: NDArray; indices: NDArray } {
  const op = 'maxPool2d';
  checkOptions(op, options, ['out', 'indices']);
  checkFloatArray(op, 'input', x);
  checkPoolGeometry(op, geometry);
  checkPlanes(op, 'input', x, geometry, geometry.height, geometry.width);
  const shape = poolOutputShape(x.shape, geometry);
  const output = prepareOut(op, options.out, shape, x.dtype);
  const indices = prepareOut(op, options.indices, shape, 'int32');
  checkDistinct(op, output, { input: x, indices });
  kernel(op, poolKernels.maxPool2d, wasmMaxPool2d)({ x, geometry, out: output, indices });
  return { output, indices };
}

/** maxPool2d's backward pass: each gradient onto the position it came from, into [..., H, W] of `inputShape`. */
export function maxPool2dBackward(
  outputGrad: NDArray,
  indices: NDArray,
  geometry: Pool2dGeometry,
  inputShape: readonly number[],
  out?: NDArray,
): NDArray {
  const op = 'maxPool2dBackward';
  checkFloatArray(op, 'outputGrad', outputGrad);
  checkArray(op, 'indices', indices);
  if (indices.dtype !== 'int32') throw new DTypeError(`${op}: indices must be int32 (from maxPool2d), got ${indices.dtype}`);
  checkPoolGeometry(op, geometry);
  checkPlanes(op, 'outputGrad', outputGrad, geometry, geometry.outH, geometry.outW);
  checkShapeIs(op, 'indices', indices, outputGrad.shape);
  checkRange(op, 'indices', indices, 0, geometry.height * geometry.width - 1, ` (positions within a ${geometry.height}×${geometry.width} plane)`);
  const result = prepareOut(op, out, inputShape, outputGrad.dtype);
  checkPlanes(op, 'the input', result, geometry, geometry.height, geometry.width);
  checkDistinct(op, result, { outputGrad, indices });
  kernel(op, poolKernels.maxPool2dBackward, wasmMaxPool2dBackward)({ grad: outputGrad, indices, geometry, out: result });
  return result;
}

/** Throws unless the divisor is torch's: countIncludePad a boolean, divisorOverride null or a non-zero integer. */
function checkDivisor(op: string, { countIncludePad, divisorOverride }: AvgPoolDivisor): void {
  if (typeof countIncludePad !== 'boolean') {
    throw new ValueError(`${op}: countIncludePad must be a boolean, got ${describe(countIncludePad)}`);
  }
  if (divisorOverride !== null && !(Number.isInteger(divisorOverride) && divisorOverride !== 0)) {
    throw new ValueError(`${op}: divisorOverride must be null or a non-zero integer, got ${describe(divisorOverride)}`);
  }
}

/** Each window's average, the divisor as torch's (`countIncludePad`, `divisorOverride`). */
export function avgPool2d(x: NDArray, geometry: Pool2dGeometry, divisor: AvgPoolDivisor, out?: NDArray): NDArray {
  const op = 'avgPool2d';
  checkFloatArray(op, 'input', x);
  checkPoolGeometry(op, geometry);
  checkPlanes(op, 'input', x, geometry, geometry.height, geometry.width);
  checkDivisor(op, divisor);
  const result = prepareOut(op, out, poolOutputShape(x.shape, geometry), x.dtype);
  checkDistinct(op, result, { input: x });
  kernel(op, poolKernels.avgPool2d)({ x, geometry, divisor, out: result });
  return result;
}

/** avgPool2d's backward pass: each gradient / divisor onto every input of its window. */
export function avgPool2dBackward(
  outputGrad: NDArray,
  geometry: Pool2dGeometry,
  divisor: AvgPoolDivisor,
  inputShape: readonly number[],
  out?: NDArray,
): NDArray {
  const op = 'avgPool2dBackward';
  checkFloatArray(op, 'outputGrad', outputGrad);
  checkPoolGeometry(op, geometry);
  checkPlanes(op, 'outputGrad', outputGrad, geometry, geometry.outH, geometry.outW);
  checkDivisor(op, divisor);
  const result = prepareOut(op, out, inputShape, outputGrad.dtype);
  checkPlanes(op, 'the input', result, geometry, geometry.height, geometry.width);
  checkDistinct(op, result, { outputGrad });
  kernel(op, poolKernels.avgPool2dBackward)({ grad: outputGrad, geometry, divisor, out: result });
  return result;
}
