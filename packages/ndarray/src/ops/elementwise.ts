/**
 * Elementwise ops. Binary ops broadcast as numpy does; a number stands for a
 * 0-d array of the other operand's dtype. Pass `out` (of the result's shape
 * and dtype, possibly an input) to write in place.
 */
import { DTYPES, type DType } from '../dtype';
import { DTypeError, ValueError, checkChoice, checkOptions, describe } from '../errors';
import { elementwiseKernels as ts } from '../kernels/js/elementwise';
import { kernel } from '../kernels/registry';
import { wasmGelu, wasmGeluBackward } from '../kernels/wasm/elementwise';
import type { GeluApproximate } from '../kernels/types';
import type { NDArray } from '../ndarray';
import { broadcastShapes } from '../shape';
import { checkSameShape } from '../validate';
import {
  type Operand,
  checkArray,
  checkDistinct,
  checkFloatArray,
  checkSameDType,
  constant,
  prepareOut,
  sameMemory,
  sharesMemory,
  toArrays,
  toFloatArrays,
} from './operand';

type Arithmetic = 'add' | 'sub' | 'mul' | 'maximum' | 'minimum';
type FloatArithmetic = 'div' | 'pow';
type Comparison = 'equal' | 'notEqual' | 'less' | 'lessEqual' | 'greater' | 'greaterEqual';
type Unary = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square' | 'sign' | 'tanh' | 'sigmoid' | 'relu' | 'erf' | 'silu' | 'mish';

/**
 * An elementwise op's output: `out` checked as {@link prepareOut} does, and
 * either an input itself (in place, element by element) or memory of its own;
 * an `out` that overlaps an input in part (two views of one array) would read
 * elements it has already overwritten, so it is refused, as torch refuses it.
 */
function elementwiseOut(op: string, out: NDArray | undefined, shape: readonly number[], dtype: DType | undefined, inputs: NDArray[]): NDArray {
  const result = prepareOut(op, out, shape, dtype);
  if (out === undefined) return result;
  for (const input of inputs) {
    if (sharesMemory(result, input) && !sameMemory(result, input)) {
      throw new ValueError(`${op}: out overlaps an input in part; write in place into the input itself, or into an array of its own`);
    }
  }
  return result;
}

function binary(op: Arithmetic | FloatArithmetic, a: Operand, b: Operand, out: NDArray | undefined): NDArray {
  const [A, B] = op === 'div' || op === 'pow' ? toFloatArrays(op, a, b) : toArrays(op, a, b);
  const result = elementwiseOut(op, out, broadcastShapes(op, A.shape, B.shape), A.dtype, [A, B]);
  kernel(op, ts[op])({ a: A, b: B, out: result });
  return result;
}

function compare(op: Comparison, a: Operand, b: Operand, out: NDArray | undefined): NDArray {
  const [A, B] = toArrays(op, a, b);
  // The result is 1 or 0: exact in any dtype, so `out` may have another.
  const shape = broadcastShapes(op, A.shape, B.shape);
  const result = elementwiseOut(op, out, shape, out === undefined ? A.dtype : undefined, [A, B]);
  kernel(op, ts[op])({ a: A, b: B, out: result });
  return result;
}

function unary(op: Unary, x: NDArray, out: NDArray | undefined): NDArray {
  checkFloatArray(op, 'input', x);
  const result = elementwiseOut(op, out, x.shape, x.dtype, [x]);
  kernel(op, ts[op])({ x, out: result });
  return result;
}

/** a + b */
export const add = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('add', a, b, out);
/** a − b */
export const sub = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('sub', a, b, out);
/** a · b, elementwise */
export const mul = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('mul', a, b, out);
/** a / b, elementwise (IEEE: x/0 is ±Infinity, 0/0 is NaN, as numpy and torch); floats only. */
export const div = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('div', a, b, out);
/** a ** b, elementwise; floats only. */
export const pow = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('pow', a, b, out);
/** The larger of a and b, elementwise; NaN propagates. */
export const maximum = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('maximum', a, b, out);
/** The smaller of a and b, elementwise; NaN propagates. */
export const minimum = (a: Operand, b: Operand, out?: NDArray): NDArray => binary('minimum', a, b, out);

// Comparisons give 1 where true and 0 where false, in the operands' dtype (or
// out's, which may be any), so a comparison is a mask to multiply by.

/** a == b (NaN equals nothing) */
export const equal = (a: Operand, b: Operand, out?: NDArray): NDArray => compare('equal', a, b, out);
/** a != b */
export const notEqual = (a: Operand, b: Operand, out?: NDArray): NDArray => compare('notEqual', a, b, out);
/** a < b */
export const less = (a: Operand, b: Operand, out?: NDArray): NDArray => compare('less', a, b, out);
/** a <= b */
export const lessEqual = (a: Operand, b: Operand, out?: NDArray): NDArray => compare('lessEqual', a, b, out);
/** a > b */
export const greater = (a: Operand, b: Operand, out?: NDArray): NDArray => compare('greater', a, b, out);
/** a >= b */
export const greaterEqual = (a: Operand, b: Operand, out?: NDArray): NDArray => compare('greaterEqual', a, b, out);

/**
 * `condition ≠ 0 ? a : b`, elementwise, all three broadcast together, as
 * `torch.where`; `condition` may have any dtype, a and b share one.
 *
 * @example where(greater(x, 0), x, 0)   // relu
 */
export function where(condition: NDArray, a: Operand, b: Operand, out?: NDArray): NDArray {
  const op = 'where';
  checkArray(op, 'condition', condition);
  let A: NDArray;
  let B: NDArray;
  if (typeof a === 'number' && typeof b === 'number') {
    const dtype = out?.dtype;
    if (dtype === undefined) throw new ValueError(`${op}: a and b are both numbers; pass out to say the result's dtype`);
    A = constant(a, dtype);
    B = constant(b, dtype);
  } else {
    [A, B] = toArrays(op, a, b);
  }
  const shape = broadcastShapes(op, broadcastShapes(op, condition.shape, A.shape), B.shape);
  const result = elementwiseOut(op, out, shape, A.dtype, [condition, A, B]);
  kernel('where', ts.where)({ condition, a: A, b: B, out: result });
  return result;
}

/** −x */
export const neg = (x: NDArray, out?: NDArray): NDArray => unary('neg', x, out);
/** eˣ */
export const exp = (x: NDArray, out?: NDArray): NDArray => unary('exp', x, out);
/** Natural logarithm (log 0 = −Infinity, log of a negative = NaN, as torch). */
export const log = (x: NDArray, out?: NDArray): NDArray => unary('log', x, out);
/** √x */
export const sqrt = (x: NDArray, out?: NDArray): NDArray => unary('sqrt', x, out);
/** |x| */
export const abs = (x: NDArray, out?: NDArray): NDArray => unary('abs', x, out);
/** x² */
export const square = (x: NDArray, out?: NDArray): NDArray => unary('square', x, out);
/** −1, 0 or 1 (sign(0) = 0, as torch.sign); NaN stays NaN. */
export const sign = (x: NDArray, out?: NDArray): NDArray => unary('sign', x, out);
/** tanh(x) */
export const tanh = (x: NDArray, out?: NDArray): NDArray => unary('tanh', x, out);
/** 1 / (1 + e⁻ˣ), computed in that form as torch does (float32 rounds each step). */
export const sigmoid = (x: NDArray, out?: NDArray): NDArray => unary('sigmoid', x, out);
/** max(x, 0); NaN stays NaN. */
export const relu = (x: NDArray, out?: NDArray): NDArray => unary('relu', x, out);

/** x where x > 0, else x·negativeSlope, as `torch.nn.functional.leaky_relu`. */
export function leakyRelu(x: NDArray, negativeSlope = 0.01, out?: NDArray): NDArray {
  const op = 'leakyRelu';
  checkFloatArray(op, 'input', x);
  checkScalar(op, 'negativeSlope', negativeSlope);
  const result = elementwiseOut(op, out, x.shape, x.dtype, [x]);
  kernel(op, ts.leakyRelu)({ x, negativeSlope, out: result });
  return result;
}

/** Clamps every element into [min, max], as `torch.clamp`. */
export function clip(x: NDArray, min: number, max: number, out?: NDArray): NDArray {
  const op = 'clip';
  checkArray(op, 'input', x);
  if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max)) {
    throw new ValueError(`${op}: min and max must be numbers, got ${describe(min)} and ${describe(max)}`);
  }
  if (min > max) throw new ValueError(`${op}: min must be <= max, got min=${min}, max=${max}`);
  const result = elementwiseOut(op, out, x.shape, x.dtype, [x]);
  kernel(op, ts.clip)({ x, min, max, out: result });
  return result;
}

/** The arguments of an activation's backward pass: two float arrays of one shape and dtype. */
function checkGradPair(op: string, grad: NDArray, otherName: string, other: NDArray, out: NDArray | undefined): NDArray {
  checkFloatArray(op, 'outputGrad', grad);
  checkFloatArray(op, otherName, other);
  checkSameShape(op, 'outputGrad', grad, otherName, other);
  checkSameDType(op, 'outputGrad', grad, otherName, other);
  return elementwiseOut(op, out, other.shape, other.dtype, [grad, other]);
}

/**
 * ReLU's backward pass from its output: `outputGrad` where `output` > 0, else
 * 0, as torch's `threshold_backward(grad, output, 0)` (relu′(0) = 0, and a
 * NaN or infinite gradient where the unit is off still gives 0).
 *
 * @example
 * const y = relu(x);
 * const dx = reluBackward(dy, y); // dLoss/dx from dLoss/dy
 */
export function reluBackward(outputGrad: NDArray, output: NDArray, out?: NDArray): NDArray {
  const result = checkGradPair('reluBackward', outputGrad, 'output', output, out);
  kernel('reluBackward', ts.reluBackward)({ grad: outputGrad, output, out: result });
  return result;
}

/** tanh's backward pass from its output y: outputGrad·(1 − y²), as torch's `tanh_backward`. */
export function tanhBackward(outputGrad: NDArray, output: NDArray, out?: NDArray): NDArray {
  const result = checkGradPair('tanhBackward', outputGrad, 'output', output, out);
  kernel('tanhBackward', ts.tanhBackward)({ grad: outputGrad, output, out: result });
  return result;
}

/** sigmoid's backward pass from its output y: outputGrad·(1 − y)·y, as torch's `sigmoid_backward`. */
export function sigmoidBackward(outputGrad: NDArray, output: NDArray, out?: NDArray): NDArray {
  const result = checkGradPair('sigmoidBackward', outputGrad, 'output', output, out);
  kernel('sigmoidBackward', ts.sigmoidBackward)({ grad: outputGrad, output, out: result });
  return result;
}

/**
 * leaky_relu's backward pass from its input x: outputGrad where x > 0, else
 * outputGrad·negativeSlope (so the derivative at 0 is the slope, as torch's).
 */
export function leakyReluBackward(outputGrad: NDArray, input: NDArray, negativeSlope = 0.01, out?: NDArray): NDArray {
  const op = 'leakyReluBackward';
  checkScalar(op, 'negativeSlope', negativeSlope);
  const result = checkGradPair(op, outputGrad, 'input', input, out);
  kernel(op, ts.leakyReluBackward)({ grad: outputGrad, input, negativeSlope, out: result });
  return result;
}

/**
 * The error function erf(x) = (2/√π)·∫₀ˣ e^(−t²) dt, elementwise, as
 * `torch.erf`: fdlibm's algorithm in double (within 1 ulp), rounded once into
 * float32 arrays. erf(±0) = ±0, erf(±∞) = ±1, NaN stays NaN.
 *
 * @example erf(array([0, 0.5, -3], { dtype: 'float64' }))   // [0, 0.5204998778130465, -0.9999779095030014]
 */
export const erf = (x: NDArray, out?: NDArray): NDArray => unary('erf', x, out);

/** GELU's options, as `torch.nn.functional.gelu`'s keyword arguments. */
export interface GeluOptions {
  /** 'none' (default): x·Φ(x) with the exact erf; 'tanh': the tanh approximation. */
  approximate?: GeluApproximate;
}

const GELU_FORMS: readonly GeluApproximate[] = ['none', 'tanh'];

function geluForm(op: string, options: GeluOptions | undefined): GeluApproximate {
  checkOptions(op, options, ['approximate']);
  const approximate = options?.approximate;
  return approximate === undefined ? 'none' : checkChoice(op, 'approximate', approximate, GELU_FORMS);
}

/**
 * The Gaussian error linear unit, as `torch.nn.functional.gelu`:
 * x·Φ(x) = 0.5·x·(1 + erf(x/√2)), or with `approximate: 'tanh'`
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 *
 * @example gelu(x, { approximate: 'tanh' })
 */
export function gelu(x: NDArray, options?: GeluOptions, out?: NDArray): NDArray {
  const op = 'gelu';
  const approximate = geluForm(op, options);
  checkFloatArray(op, 'input', x);
  const result = elementwiseOut(op, out, x.shape, x.dtype, [x]);
  kernel(op, ts.gelu, wasmGelu)({ x, approximate, out: result });
  return result;
}

/**
 * GELU's backward pass from its input x, as torch's `gelu_backward`:
 * outputGrad·(Φ(x) + x·φ(x)) for the exact form, the derivative of the tanh
 * form for `approximate: 'tanh'`.
 *
 * @example
 * const y = gelu(x);
 * const dx = geluBackward(dy, x); // dLoss/dx from dLoss/dy
 */
export function geluBackward(outputGrad: NDArray, input: NDArray, options?: GeluOptions, out?: NDArray): NDArray {
  const op = 'geluBackward';
  const approximate = geluForm(op, options);
  const result = checkGradPair(op, outputGrad, 'input', input, out);
  kernel(op, ts.geluBackward, wasmGeluBackward)({ grad: outputGrad, input, approximate, out: result });
  return result;
}

/**
 * The sigmoid linear unit (swish) x·σ(x), computed as x/(1 + e⁻ˣ) as
 * `torch.nn.functional.silu`.
 *
 * @example silu(array([-1, 0, 2], { dtype: 'float64' }))   // [-0.2689414213699951, 0, 1.7615941559557646]
 */
export const silu = (x: NDArray, out?: NDArray): NDArray => unary('silu', x, out);

/** SiLU's backward pass from its input x: outputGrad·σ(x)·(1 + x·(1 − σ(x))), as torch's `silu_backward`. */
export const siluBackward = (outputGrad: NDArray, input: NDArray, out?: NDArray): NDArray =>
  backwardFromInput('siluBackward', outputGrad, input, out);

/**
 * The exponential linear unit, as `torch.nn.functional.elu`: x where x > 0,
 * else alpha·(eˣ − 1) (torch 1.13 computes eˣ − 1, not expm1).
 *
 * @example elu(x, 1.0)
 */
export function elu(x: NDArray, alpha = 1, out?: NDArray): NDArray {
  const op = 'elu';
  checkFloatArray(op, 'input', x);
  checkScalar(op, 'alpha', alpha);
  const result = elementwiseOut(op, out, x.shape, x.dtype, [x]);
  kernel(op, ts.elu)({ x, alpha, out: result });
  return result;
}

/**
 * ELU's backward pass from its input x: outputGrad where x > 0, else
 * outputGrad·alpha·eˣ, as torch's `elu_backward(..., is_result=false, self)`
 * (what autograd uses for the out-of-place `elu`).
 */
export function eluBackward(outputGrad: NDArray, input: NDArray, alpha = 1, out?: NDArray): NDArray {
  const op = 'eluBackward';
  checkScalar(op, 'alpha', alpha);
  const result = checkGradPair(op, outputGrad, 'input', input, out);
  kernel(op, ts.eluBackward)({ grad: outputGrad, input, alpha, out: result });
  return result;
}

function checkSoftplus(op: string, beta: unknown, threshold: unknown): void {
  checkScalar(op, 'beta', beta);
  if (beta === 0) throw new ValueError(`${op}: beta must be non-zero (softplus divides by it), got 0`);
  checkScalar(op, 'threshold', threshold);
}

/**
 * Softplus, as `torch.nn.functional.softplus`: log(1 + e^(beta·x))/beta,
 * computed as log1p(e^(beta·x))/beta, and x itself where beta·x > threshold
 * (where the two agree to the precision of a float).
 *
 * @example softplus(x, 1, 20)
 */
export function softplus(x: NDArray, beta = 1, threshold = 20, out?: NDArray): NDArray {
  const op = 'softplus';
  checkFloatArray(op, 'input', x);
  checkSoftplus(op, beta, threshold);
  const result = elementwiseOut(op, out, x.shape, x.dtype, [x]);
  kernel(op, ts.softplus)({ x, beta, threshold, out: result });
  return result;
}

/**
 * Softplus's backward pass from its input x, as torch's `softplus_backward`:
 * outputGrad where beta·x > threshold, else outputGrad·z/(z + 1) with z = e^(beta·x).
 */
export function softplusBackward(outputGrad: NDArray, input: NDArray, beta = 1, threshold = 20, out?: NDArray): NDArray {
  const op = 'softplusBackward';
  checkSoftplus(op, beta, threshold);
  const result = checkGradPair(op, outputGrad, 'input', input, out);
  kernel(op, ts.softplusBackward)({ grad: outputGrad, input, beta, threshold, out: result });
  return result;
}

/**
 * Mish, x·tanh(softplus(x)), computed as x·tanh(log1p(eˣ)) as `torch.nn.functional.mish`.
 *
 * @example mish(array([-1, 0, 1]))
 */
export const mish = (x: NDArray, out?: NDArray): NDArray => unary('mish', x, out);

/** Mish's backward pass from its input x: outputGrad·(t + x·σ(x)·(1 − t²)), t = tanh(softplus(x)), as torch's `mish_backward`. */
export const mishBackward = (outputGrad: NDArray, input: NDArray, out?: NDArray): NDArray =>
  backwardFromInput('mishBackward', outputGrad, input, out);

/** The backward pass of an activation with no options, differentiated from its input. */
function backwardFromInput(op: 'siluBackward' | 'mishBackward', outputGrad: NDArray, input: NDArray, out: NDArray | undefined): NDArray {
  const result = checkGradPair(op, outputGrad, 'input', input, out);
  kernel(op, ts[op])({ grad: outputGrad, input, out: result });
  return result;
}

function checkScalar(op: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${op}: ${name} must be a finite number, got ${describe(value)}`);
  }
}

/** A copy of `x` in `out` (same shape and dtype); returns out. */
export function copyInto(out: NDArray, x: NDArray): NDArray {
  const op = 'copyInto';
  checkArray(op, 'source', x);
  elementwiseOut(op, out, x.shape, undefined, [x]);
  if (out.dtype !== x.dtype) {
    throw new DTypeError(`${op}: out is ${out.dtype} but the source is ${x.dtype}; use astype to convert`);
  }
  kernel('copy', ts.copy)({ x, out });
  return out;
}

/**
 * `x` converted to `dtype`, into `out` where given (`x.to(dtype)` in torch,
 * `astype` for a new array): float64 → float32 rounds to nearest, a float to
 * int32 truncates toward zero, int32 to a float is exact up to 2⁵³.
 */
export function cast(x: NDArray, dtype: DType, out?: NDArray): NDArray {
  const op = 'cast';
  checkArray(op, 'input', x);
  if (!(DTYPES as readonly unknown[]).includes(dtype)) {
    throw new DTypeError(`${op}: dtype must be one of ${DTYPES.join(', ')}, got ${describe(dtype)}`);
  }
  const result = prepareOut(op, out, x.shape, dtype);
  if (result !== x) checkDistinct(op, result, { input: x });
  kernel(x.dtype === dtype ? 'copy' : 'cast', x.dtype === dtype ? ts.copy : ts.cast)({ x, out: result });
  return result;
}
