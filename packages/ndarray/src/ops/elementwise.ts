import { DTypeError, ValueError, describe } from '../errors';
import { getBackend } from '../kernels/index';
import type { BinaryOp, UnaryOp } from '../kernels/types';
import type { NDArray } from '../ndarray';
import { broadcastShapes, broadcastStrides } from '../shape';
import { checkSameShape } from '../validate';
import { type Operand, checkArray, prepareOut, toArrays } from './operand';

function binary(op: BinaryOp, a: Operand, b: Operand, out?: NDArray): NDArray {
  const [A, B] = toArrays(op, a, b);
  const shape = broadcastShapes(op, A.shape, B.shape);
  const result = prepareOut(op, out, shape, A.dtype);
  getBackend().binary(
    op,
    shape,
    A.data,
    broadcastStrides(A.shape, shape),
    B.data,
    broadcastStrides(B.shape, shape),
    result.data,
  );
  return result;
}

function unary(op: UnaryOp, a: NDArray, out?: NDArray): NDArray {
  checkArray(op, 'input', a);
  const result = prepareOut(op, out, a.shape, a.dtype);
  getBackend().unary(op, a.data, result.data);
  return result;
}

// Binary operations broadcast as numpy does; a number stands for a 0-d array.
// Pass `out` (of the broadcast shape and dtype, possibly an input) to write in place.

/** a + b */
export const add = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('add', a, b, out);
/** a − b */
export const sub = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('sub', a, b, out);
/** a · b, elementwise */
export const mul = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('mul', a, b, out);
/** a / b, elementwise (IEEE: x/0 is ±Infinity, 0/0 is NaN, as numpy and torch) */
export const div = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('div', a, b, out);
/** a ** b, elementwise */
export const pow = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('pow', a, b, out);
/** The larger of a and b, elementwise; NaN propagates. */
export const maximum = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('maximum', a, b, out);
/** The smaller of a and b, elementwise; NaN propagates. */
export const minimum = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('minimum', a, b, out);

/** −a */
export const neg = (a: NDArray, out?: NDArray): NDArray => unary('neg', a, out);
/** eˣ */
export const exp = (a: NDArray, out?: NDArray): NDArray => unary('exp', a, out);
/** Natural logarithm (log 0 = −Infinity, log of a negative = NaN, as torch). */
export const log = (a: NDArray, out?: NDArray): NDArray => unary('log', a, out);
/** √a */
export const sqrt = (a: NDArray, out?: NDArray): NDArray => unary('sqrt', a, out);
/** |a| */
export const abs = (a: NDArray, out?: NDArray): NDArray => unary('abs', a, out);
/** a² */
export const square = (a: NDArray, out?: NDArray): NDArray => unary('square', a, out);
/** −1, 0 or 1 (sign(0) = 0, as torch.sign). */
export const sign = (a: NDArray, out?: NDArray): NDArray => unary('sign', a, out);
/** tanh(a) */
export const tanh = (a: NDArray, out?: NDArray): NDArray => unary('tanh', a, out);
/** 1 / (1 + e⁻ˣ), computed in that form as torch does. */
export const sigmoid = (a: NDArray, out?: NDArray): NDArray => unary('sigmoid', a, out);
/** max(a, 0); NaN stays NaN. */
export const relu = (a: NDArray, out?: NDArray): NDArray => unary('relu', a, out);

/**
 * ReLU's backward pass from its output: `outputGrad` where `output` > 0, else
 * 0, as torch's `threshold_backward(grad, output, 0)` (relu′(0) = 0, and a
 * NaN or infinite gradient where the unit is off still gives 0). `output` is
 * what `relu` returned; both of one shape and dtype. Pass `out` (possibly
 * `outputGrad`) to write in place.
 *
 * @example
 * const y = relu(x);
 * const dx = reluBackward(dy, y); // dLoss/dx from dLoss/dy
 */
export function reluBackward(outputGrad: NDArray, output: NDArray, out?: NDArray): NDArray {
  const op = 'reluBackward';
  checkArray(op, 'outputGrad', outputGrad);
  checkArray(op, 'output', output);
  checkSameShape(op, 'outputGrad', outputGrad, 'output', output);
  if (outputGrad.dtype !== output.dtype) {
    throw new DTypeError(`${op}: outputGrad is ${outputGrad.dtype} but output is ${output.dtype}; expected the same dtype`);
  }
  const result = prepareOut(op, out, output.shape, output.dtype);
  getBackend().reluBackward(outputGrad.data, output.data, result.data);
  return result;
}

/** Clamps every element into [min, max], as `torch.clamp`. */
export function clip(a: NDArray, min: number, max: number, out?: NDArray): NDArray {
  checkArray('clip', 'input', a);
  if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max)) {
    throw new ValueError(`clip: min and max must be numbers, got ${describe(min)} and ${describe(max)}`);
  }
  if (min > max) throw new ValueError(`clip: min must be <= max, got min=${min}, max=${max}`);
  const result = prepareOut('clip', out, a.shape, a.dtype);
  getBackend().clip(a.data, min, max, result.data);
  return result;
}
