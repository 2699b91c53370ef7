/**
 * Softmax, log-softmax and layer normalisation, with their backward passes:
 * each row is reduced in float64 and written back with one rounding per
 * element.
 */
import { ShapeError, ValueError, checkOptions, describe, formatShape } from '../errors';
import { normalizeKernels as ts } from '../kernels/js/normalize';
import { kernel } from '../kernels/registry';
import type { NDArray } from '../ndarray';
import { normalizeAxis, shapesEqual } from '../shape';
import { checkSameShape } from '../validate';
import { checkDistinct, checkFloatArray, checkSameDType, prepareOut } from './operand';

function alongAxis(op: 'softmax' | 'logSoftmax', x: NDArray, axis: number, out: NDArray | undefined): NDArray {
  checkFloatArray(op, 'input', x);
  if (x.ndim === 0) throw new ShapeError(`${op}: expected an array with at least one dimension, got shape []`);
  const ax = normalizeAxis(op, axis, x.ndim);
  const result = prepareOut(op, out, x.shape, x.dtype);
  kernel(op, ts[op])({ x, axis: ax, out: result });
  return result;
}

/** exp(x) / Σ exp(x) along `axis` (default the last), max-shifted, as `torch.softmax`. */
export function softmax(x: NDArray, axis = -1, out?: NDArray): NDArray {
  return alongAxis('softmax', x, axis, out);
}

/** (x − max) − log Σ exp(x − max) along `axis` (default the last), as `torch.log_softmax`. */
export function logSoftmax(x: NDArray, axis = -1, out?: NDArray): NDArray {
  return alongAxis('logSoftmax', x, axis, out);
}

function backwardAlongAxis(
  op: 'softmaxBackward' | 'logSoftmaxBackward',
  outputGrad: NDArray,
  output: NDArray,
  axis: number,
  out: NDArray | undefined,
): NDArray {
  checkFloatArray(op, 'outputGrad', outputGrad);
  checkFloatArray(op, 'output', output);
  checkSameShape(op, 'outputGrad', outputGrad, 'output', output);
  checkSameDType(op, 'outputGrad', outputGrad, 'output', output);
  if (output.ndim === 0) throw new ShapeError(`${op}: expected an array with at least one dimension, got shape []`);
  const ax = normalizeAxis(op, axis, output.ndim);
  const result = prepareOut(op, out, output.shape, output.dtype);
  kernel(op, ts[op])({ grad: outputGrad, output, axis: ax, out: result });
  return result;
}

/** softmax's backward pass from its output y: y·(g − Σ g·y) along `axis`, as torch's `_softmax_backward_data`. */
export function softmaxBackward(outputGrad: NDArray, output: NDArray, axis = -1, out?: NDArray): NDArray {
  return backwardAlongAxis('softmaxBackward', outputGrad, output, axis, out);
}

/** logSoftmax's backward pass from its output y: g − exp(y)·Σ g along `axis`, as torch's `_log_softmax_backward_data`. */
export function logSoftmaxBackward(outputGrad: NDArray, output: NDArray, axis = -1, out?: NDArray): NDArray {
  return backwardAlongAxis('logSoftmaxBackward', outputGrad, output, axis, out);
}

/** What {@link layerNorm} returns: the output, and the statistics its backward pass needs. */
export interface LayerNormResult {
  output: NDArray;
  /** Per row (the leading dimensions), in x's dtype. */
  mean: NDArray;
  /** 1/√(var + eps) per row. */
  invStd: NDArray;
}

/** The leading (row) shape of x when its trailing `normalizedShape` is normalised, checked. */
function rowShape(op: string, x: NDArray, normalizedShape: readonly number[]): number[] {
  const k = normalizedShape.length;
  if (k === 0 || k > x.ndim || !shapesEqual(x.shape.slice(x.ndim - k), normalizedShape)) {
    throw new ShapeError(
      `${op}: input of shape ${formatShape(x.shape)} does not end with the normalized shape ${formatShape(normalizedShape)}`,
    );
  }
  return x.shape.slice(0, x.ndim - k);
}

function checkAffine(op: string, name: string, value: NDArray | undefined, normalizedShape: readonly number[], x: NDArray): void {
  if (value === undefined) return;
  checkFloatArray(op, name, value);
  checkSameDType(op, 'input', x, name, value);
  if (!shapesEqual(value.shape, normalizedShape)) {
    throw new ShapeError(`${op}: ${name} has shape ${formatShape(value.shape)}, expected ${formatShape(normalizedShape)}`);
  }
}

/**
 * Normalises x over its trailing `normalizedShape` dimensions, as torch's
 * `native_layer_norm`: (x − mean)/√(var + eps) (biased variance), then
 * ·weight + bias where given. `out`, `mean` and `invStd` receive the
 * results where given (a layer's slots), else new arrays.
 */
export function layerNorm(
  x: NDArray,
  normalizedShape: readonly number[],
  options: { weight?: NDArray; bias?: NDArray; eps?: number; out?: NDArray; mean?: NDArray; invStd?: NDArray } = {},
): LayerNormResult {
  const op = 'layerNorm';
  checkOptions(op, options, ['weight', 'bias', 'eps', 'out', 'mean', 'invStd']);
  checkFloatArray(op, 'input', x);
  const rows = rowShape(op, x, normalizedShape);
  const { weight, bias, eps = 1e-5 } = options;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new ValueError(`${op}: eps must be a finite number >= 0, got ${describe(eps)}`);
  }
  checkAffine(op, 'weight', weight, normalizedShape, x);
  checkAffine(op, 'bias', bias, normalizedShape, x);
  const output = prepareOut(op, options.out, x.shape, x.dtype);
  const mean = prepareOut(`${op} (mean)`, options.mean, rows, x.dtype);
  const invStd = prepareOut(`${op} (invStd)`, options.invStd, rows, x.dtype);
  checkDistinct(`${op} (mean)`, mean, { input: x, output, invStd });
  checkDistinct(`${op} (invStd)`, invStd, { input: x, output });
  kernel(op, ts.layerNorm)({ x, weight, bias, eps, out: output, mean, invStd });
  return { output, mean, invStd };
}

/**
 * layerNorm's backward pass: the input gradient (returned), and the weight
 * and bias gradients added into `weightGrad` and `biasGrad` where given.
 * `mean` and `invStd` are what {@link layerNorm} returned for this x.
 */
export function layerNormBackward(
  outputGrad: NDArray,
  x: NDArray,
  stats: { mean: NDArray; invStd: NDArray },
  options: { weight?: NDArray; weightGrad?: NDArray; biasGrad?: NDArray; inputGrad?: boolean; out?: NDArray } = {},
): NDArray | undefined {
  const op = 'layerNormBackward';
  checkOptions(op, options, ['weight', 'weightGrad', 'biasGrad', 'inputGrad', 'out']);
  checkFloatArray(op, 'outputGrad', outputGrad);
  checkFloatArray(op, 'input', x);
  checkSameShape(op, 'outputGrad', outputGrad, 'input', x);
  checkSameDType(op, 'outputGrad', outputGrad, 'input', x);
  const { weight, weightGrad, biasGrad, inputGrad = true } = options;
  const normalized = weight?.shape ?? weightGrad?.shape ?? biasGrad?.shape ?? x.shape.slice(stats.mean.ndim);
  const rows = rowShape(op, x, normalized);
  for (const [name, value] of [['mean', stats.mean], ['invStd', stats.invStd]] as const) {
    checkFloatArray(op, name, value);
    if (!shapesEqual(value.shape, rows)) {
      throw new ShapeError(`${op}: ${name} has shape ${formatShape(value.shape)}, expected ${formatShape(rows)}`);
    }
  }
  checkAffine(op, 'weight', weight, normalized, x);
  checkAffine(op, 'weightGrad', weightGrad, normalized, x);
  checkAffine(op, 'biasGrad', biasGrad, normalized, x);
  const dx = inputGrad ? prepareOut(op, options.out, x.shape, x.dtype) : undefined;
  kernel(op, ts.layerNormBackward)({
    grad: outputGrad,
    x,
    mean: stats.mean,
    invStd: stats.invStd,
    weight,
    dx,
    dWeight: weightGrad,
    dBias: biasGrad,
  });
  return dx;
}
