import { commonDType } from '../dtype';
import { DTypeError, ShapeError, ValueError, checkOptions, describe, formatShape } from '../errors';
import { gemmKernels } from '../kernels/js/gemm';
import { kernel } from '../kernels/registry';
import type { GemmActivation, GemmProblem } from '../kernels/types';
import type { NDArray } from '../ndarray';
import { broadcastShapes, sizeOf, stridesOf } from '../shape';
import { checkDistinct, checkFloatArray, prepareOut } from './operand';

const runGemm = (problem: GemmProblem): void => kernel('gemm', gemmKernels.gemm)(problem);

/**
 * Matrix product with numpy's rules: 1-D·1-D is a dot product (0-d result);
 * a 1-D operand is a row (left) or column (right) vector whose unit dimension is
 * dropped from the result; above 2-D, the leading (batch) dimensions broadcast.
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  checkFloatArray('matmul', 'first operand', a);
  checkFloatArray('matmul', 'second operand', b);
  commonDType('matmul', a.dtype, b.dtype);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(
      `matmul: operands must have at least one dimension, got ${formatShape(a.shape)} and ${formatShape(b.shape)} (use mul for scalars)`,
    );
  }
  const aShape = a.ndim === 1 ? [1, a.shape[0]] : a.shape.slice();
  const bShape = b.ndim === 1 ? [b.shape[0], 1] : b.shape.slice();
  const m = aShape[aShape.length - 2];
  const k = aShape[aShape.length - 1];
  const kb = bShape[bShape.length - 2];
  const n = bShape[bShape.length - 1];
  if (k !== kb) {
    throw new ShapeError(
      `matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not aligned: ` +
        `${k} (last dimension of the first) != ${kb} (${b.ndim === 1 ? 'length' : 'second-to-last dimension'} of the second)`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes('matmul (batch dimensions)', aBatch, bBatch);
  const outShape = [...batch];
  if (a.ndim > 1) outShape.push(m);
  if (b.ndim > 1) outShape.push(n);
  const out = prepareOut('matmul', undefined, outShape, a.dtype);
  const problem = plainProblem(a, b, out, m, n, k);
  const batches = sizeOf(batch);
  // Offsets of each batch's matrix in a and b, with broadcast batch dimensions reused.
  const aStrides = batchStrides(aBatch, batch, m * k);
  const bStrides = batchStrides(bBatch, batch, k * n);
  // The last batch dimension becomes the kernel's own batch; outer ones (rare) loop here.
  const inner = batch.length === 0 ? 1 : batch[batch.length - 1];
  problem.batch = inner;
  problem.aStride = batch.length === 0 ? 0 : aStrides[batch.length - 1];
  problem.bStride = batch.length === 0 ? 0 : bStrides[batch.length - 1];
  problem.cStride = m * n;
  const outer = inner === 0 ? 0 : batches / inner;
  const index = new Array<number>(Math.max(batch.length - 1, 0)).fill(0);
  for (let t = 0; t < outer; t++) {
    let aOffset = 0;
    let bOffset = 0;
    for (let d = 0; d < index.length; d++) {
      aOffset += index[d] * aStrides[d];
      bOffset += index[d] * bStrides[d];
    }
    problem.aOffset = aOffset;
    problem.bOffset = bOffset;
    problem.cOffset = t * inner * m * n;
    runGemm(problem);
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < batch[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

function batchStrides(own: number[], target: number[], matrixSize: number): number[] {
  const strides = stridesOf(own).map((s) => s * matrixSize);
  const out = new Array<number>(target.length).fill(0);
  const offset = target.length - own.length;
  for (let i = 0; i < own.length; i++) out[offset + i] = own[i] === 1 ? 0 : strides[i];
  return out;
}

function plainProblem(a: NDArray, b: NDArray, c: NDArray, m: number, n: number, k: number): GemmProblem {
  return {
    a,
    b,
    c,
    transA: false,
    transB: false,
    m,
    n,
    k,
    batch: 1,
    aOffset: 0,
    bOffset: 0,
    cOffset: 0,
    aStride: 0,
    bStride: 0,
    cStride: 0,
    alpha: 1,
    beta: 0,
    bias: undefined,
    activation: undefined,
  };
}

export interface GemmOptions {
  /** Use aᵀ: a (or each matrix of a batch) is stored [k, m]. */
  transA?: boolean;
  /** Use bᵀ: b is stored [n, k]. */
  transB?: boolean;
  /** Write into this array instead of a new one: [m, n], or [batch, m, n] for a batched product. */
  out?: NDArray;
  /** Multiplies the product (default 1). */
  alpha?: number;
  /** Multiplies out's prior value, added to the product (default 0: out is overwritten; needs `out` otherwise). */
  beta?: number;
  /** Shorthand for `beta: 1`: add the product into `out`. */
  accumulate?: boolean;
  /** Added to every row ([n]) or every column ([m, 1]) of the result, as torch's addmm adds its input. */
  bias?: NDArray;
  /** Applied to the result last: `relu(alpha·op(a)·op(b) + beta·out + bias)`. */
  activation?: GemmActivation;
}

const GEMM_OPTIONS = ['transA', 'transB', 'out', 'alpha', 'beta', 'accumulate', 'bias', 'activation'];
const ACTIVATIONS: readonly GemmActivation[] = ['relu', 'tanh', 'sigmoid'];

/**
 * The matrix product BLAS calls gemm: `out = act(alpha·op(a)·op(b) + beta·out + bias)`,
 * with transposes read in place (no copies). The building block of the
 * layers' forward and backward passes: `Linear` is
 * `gemm(x, W, { transB: true, bias })`, its weight gradient
 * `gemm(g, x, { transA: true, out: W.grad, beta: 1 })`.
 *
 * Batched: a and b may be 3-D [batch, ·, ·] (or one 2-D matrix used for every
 * item). `out` is then [batch, m, n], or 2-D [m, n] to sum the items'
 * products into one matrix (a convolution's weight gradient:
 * `gemm(g, cols, { transB: true, out: dW, beta: 1 })` adds Σ_t g_t·cols_tᵀ).
 */
export function gemm(a: NDArray, b: NDArray, options: GemmOptions = {}): NDArray {
  const op = 'gemm';
  checkOptions(op, options, GEMM_OPTIONS);
  checkFloatArray(op, 'first operand', a);
  checkFloatArray(op, 'second operand', b);
  commonDType(op, a.dtype, b.dtype);
  if ((a.ndim !== 2 && a.ndim !== 3) || (b.ndim !== 2 && b.ndim !== 3)) {
    throw new ShapeError(`gemm: operands must be 2-D (or 3-D batches), got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  const { transA = false, transB = false, alpha = 1, bias, activation } = options;
  const beta = options.beta ?? (options.accumulate ? 1 : 0);
  for (const [name, value] of [['alpha', alpha], ['beta', beta]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValueError(`gemm: ${name} must be a finite number, got ${describe(value)}`);
    }
  }
  if (options.accumulate !== undefined && options.beta !== undefined) {
    throw new ValueError('gemm: give beta or accumulate, not both (accumulate: true is beta: 1)');
  }
  if (activation !== undefined && !ACTIVATIONS.includes(activation)) {
    throw new ValueError(`gemm: activation must be one of 'relu', 'tanh', 'sigmoid', got ${describe(activation)}`);
  }
  const aBatch = a.ndim === 3 ? a.shape[0] : 1;
  const bBatch = b.ndim === 3 ? b.shape[0] : 1;
  if (a.ndim === 3 && b.ndim === 3 && aBatch !== bBatch) {
    throw new ShapeError(`gemm: batches differ: ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  const batched = a.ndim === 3 || b.ndim === 3;
  const batch = Math.max(aBatch, bBatch);
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [m, k] = transA ? [ca, ra] : [ra, ca];
  const [kb, n] = transB ? [cb, rb] : [rb, cb];
  if (k !== kb) {
    throw new ShapeError(
      `gemm: ${transA ? 'aᵀ' : 'a'} of shape [${m}, ${k}] and ${transB ? 'bᵀ' : 'b'} of shape [${kb}, ${n}] ` +
        `are not aligned (${k} != ${kb}); a is ${formatShape(a.shape)}, b is ${formatShape(b.shape)}`,
    );
  }
  const summing = batched && options.out !== undefined && options.out.ndim === 2;
  if (beta !== 0 && options.out === undefined) {
    throw new ShapeError(`gemm: beta ${beta} (or accumulate) needs an out array to add into`);
  }
  const outShape = batched && !summing ? [batch, m, n] : [m, n];
  const out = prepareOut(op, options.out, outShape, a.dtype);
  if (bias !== undefined) {
    checkFloatArray(op, 'bias', bias);
    if (bias.dtype !== a.dtype) throw new DTypeError(`gemm: bias is ${bias.dtype} but the operands are ${a.dtype}`);
    const alongRows = bias.ndim === 1 && bias.shape[0] === n;
    const alongColumns = bias.ndim === 2 && bias.shape[0] === m && bias.shape[1] === 1;
    if (!alongRows && !alongColumns) {
      throw new ShapeError(`gemm: bias has shape ${formatShape(bias.shape)}; expected [${n}] (one per column) or [${m}, 1] (one per row)`);
    }
  }
  checkDistinct(op, out, { a, b, bias });
  runGemm({
    a,
    b,
    c: out,
    transA,
    transB,
    m,
    n,
    k,
    batch,
    aOffset: 0,
    bOffset: 0,
    cOffset: 0,
    aStride: a.ndim === 3 ? m * k : 0,
    bStride: b.ndim === 3 ? k * n : 0,
    cStride: summing || !batched ? 0 : m * n,
    alpha,
    beta,
    bias,
    activation,
  });
  return out;
}
