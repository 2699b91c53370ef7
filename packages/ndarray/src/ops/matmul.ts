import { commonDType } from '../dtype';
import { ShapeError, checkOptions, formatShape } from '../errors';
import { getBackend } from '../kernels/index';
import type { NDArray } from '../ndarray';
import { broadcastShapes, sizeOf, stridesOf } from '../shape';
import { checkArray, prepareOut } from './operand';

/**
 * Matrix product with numpy's rules: 1-D·1-D is a dot product (0-d result);
 * a 1-D operand is a row (left) or column (right) vector whose unit dimension is
 * dropped from the result; above 2-D, the leading (batch) dimensions broadcast.
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  checkArray('matmul', 'first operand', a);
  checkArray('matmul', 'second operand', b);
  const dtype = commonDType('matmul', a.dtype, b.dtype);
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
  const out = prepareOut('matmul', undefined, outShape, dtype);
  const backend = getBackend();
  const batches = sizeOf(batch);
  if (batches === 1) {
    backend.gemm(false, false, m, n, k, a.data, 0, b.data, 0, out.data, 0, false);
    return out;
  }
  // Offsets of each batch's matrix in a and b, with broadcast batch dimensions reused.
  const aStrides = batchStrides(aBatch, batch, m * k);
  const bStrides = batchStrides(bBatch, batch, k * n);
  const index = new Array<number>(batch.length).fill(0);
  for (let t = 0; t < batches; t++) {
    let aOffset = 0;
    let bOffset = 0;
    for (let d = 0; d < batch.length; d++) {
      aOffset += index[d] * aStrides[d];
      bOffset += index[d] * bStrides[d];
    }
    backend.gemm(false, false, m, n, k, a.data, aOffset, b.data, bOffset, out.data, t * m * n, false);
    for (let d = batch.length - 1; d >= 0; d--) {
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

export interface GemmOptions {
  /** Use aᵀ: a is stored [k, m]. */
  transA?: boolean;
  /** Use bᵀ: b is stored [n, k]. */
  transB?: boolean;
  /** Write into this [m, n] array instead of a new one. */
  out?: NDArray;
  /** Add the product into `out` (out += op(a)·op(b)) instead of overwriting it. */
  accumulate?: boolean;
}

/**
 * The 2-D product op(a)·op(b) with transposes read in place (no copies), into
 * an optional `out`, optionally accumulating: the building block of the layers'
 * forward and backward passes (`dW += gᵀ·x` is `gemm(g, x, { transA: true, out: dW, accumulate: true })`).
 */
export function gemm(a: NDArray, b: NDArray, options: GemmOptions = {}): NDArray {
  checkOptions('gemm', options, ['transA', 'transB', 'out', 'accumulate']);
  checkArray('gemm', 'first operand', a);
  checkArray('gemm', 'second operand', b);
  const dtype = commonDType('gemm', a.dtype, b.dtype);
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new ShapeError(
      `gemm: operands must be 2-D, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const { transA = false, transB = false, accumulate = false } = options;
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== kb) {
    throw new ShapeError(
      `gemm: ${transA ? 'aᵀ' : 'a'} of shape [${m}, ${k}] and ${transB ? 'bᵀ' : 'b'} of shape [${kb}, ${n}] ` +
        `are not aligned (${k} != ${kb}); a is ${formatShape(a.shape)}, b is ${formatShape(b.shape)}`,
    );
  }
  if (accumulate && options.out === undefined) {
    throw new ShapeError('gemm: accumulate needs an out array to add into');
  }
  const out = prepareOut('gemm', options.out, [m, n], dtype);
  getBackend().gemm(transA, transB, m, n, k, a.data, 0, b.data, 0, out.data, 0, accumulate);
  return out;
}
