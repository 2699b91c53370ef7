/**
 * What MaxPool2d and AvgPool2d share (internal, in its own module so a bundle
 * that only uses Linear or Conv2d leaves it out): their options, the checks
 * on their input, as torch's `pool2d_shape_check` (ndarray's `pool2dGeometry`
 * works out the output size), and the pass around their ops.
 */
import {
  type DType,
  type NDArray,
  type Pool2dGeometry,
  ShapeError,
  ValueError,
  formatShape,
  pool2dGeometry,
  poolOutputShape,
} from '@backprop/ndarray';
import { checkArrayArg, checkBoolean, checkOutputGrad } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
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

/**
 * A pooling layer: the window options, and forward/backward around one pair
 * of ndarray ops. The geometry of the last forward pass (and its input's
 * shape and dtype) is all a backward pass needs besides what a subclass keeps.
 */
export abstract class Pool2dLayer extends NeuralLayer {
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly ceilMode: boolean;

  protected readonly config: PoolConfig;
  #inputShape?: readonly number[];
  #geometry?: Pool2dGeometry;
  #dtype?: DType;

  constructor(config: PoolConfig) {
    super();
    this.config = config;
    this.kernelSize = config.kernelSize;
    this.stride = config.stride;
    this.padding = config.padding;
    this.ceilMode = config.ceilMode;
  }

  /** The pooled input, into `out`. */
  protected abstract pool(input: NDArray, g: Pool2dGeometry, out: NDArray): NDArray;
  /** The input gradient from the output gradient, into `out` (the input's shape). */
  protected abstract unpool(grad: NDArray, g: Pool2dGeometry, inputShape: readonly number[], out: NDArray): NDArray;

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const g = poolGeometry(this.label(), input, this.config);
    const out = this.pool(input, g, this.output(options, poolOutputShape(input.shape, g), input.dtype));
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
    return this.unpool(grad, g!, this.#inputShape!, this.output(options, this.#inputShape!, grad.dtype));
  }
}
