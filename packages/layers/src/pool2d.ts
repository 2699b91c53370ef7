/**
 * What MaxPool2d and AvgPool2d share (internal, in its own module so a bundle
 * that only uses Linear or Conv2d leaves it out): their options and the checks
 * on their input, as torch's `pool2d_shape_check`; ndarray's `pool2dGeometry`
 * works out the output size.
 */
import { type NDArray, type Pool2dGeometry, ShapeError, ValueError, formatShape, pool2dGeometry } from '@backprop/ndarray';
import { checkArrayArg, checkBoolean } from './checks';
import { type Size2d, checkSize2d } from './size2d';

/** The window options both pooling layers take, checked. */
export interface PoolConfig {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly ceilMode: boolean;
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
 * Checks a pooling layer's input, [N, C, H, W] or unbatched [C, H, W] with
 * C, H and W non-zero (N may be 0, as in torch), and works out its geometry.
 */
export function poolGeometry(op: string, input: unknown, config: PoolConfig): Pool2dGeometry {
  checkArrayArg(op, 'input', input);
  const x = input as NDArray;
  if (x.ndim !== 4 && x.ndim !== 3) {
    throw new ShapeError(
      `${op}: expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got ${formatShape(x.shape)}`,
    );
  }
  const [c, h, w] = x.shape.slice(-3);
  if (c === 0 || h === 0 || w === 0) {
    throw new ShapeError(
      `${op}: expected an input with non-zero channels, height and width (only the batch may be empty), got ${formatShape(x.shape)}`,
    );
  }
  return pool2dGeometry(op, x.shape, config);
}

/** A size as torch prints a pooling option it was given as an int: `2`, or `(2, 3)` when the two differ. */
export function pythonSize(pair: readonly [number, number]): string {
  return pair[0] === pair[1] ? String(pair[0]) : `(${pair[0]}, ${pair[1]})`;
}
