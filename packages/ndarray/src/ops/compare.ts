import { ValueError, checkOptions } from '../errors';
import { NDArray } from '../ndarray';
import { broadcastShapes, broadcastStrides, sizeOf } from '../shape';
import { type Operand, toArrays } from './operand';

export interface CloseOptions {
  /** Relative tolerance (numpy's default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (numpy's default 1e-8). */
  atol?: number;
  /** Whether NaN equals NaN. */
  equalNan?: boolean;
}

/** Calls `visit(x, y)` for every broadcast pair of elements, on the host (these are checks, not kernels). */
function forEachPair(op: string, a: NDArray, b: NDArray, visit: (x: number, y: number) => boolean): boolean {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const n = sizeOf(shape);
  const index = new Array<number>(shape.length).fill(0);
  const A = a.data;
  const B = b.data;
  let ia = 0;
  let ib = 0;
  for (let k = 0; k < n; k++) {
    if (!visit(A[ia], B[ib])) return false;
    for (let d = shape.length - 1; d >= 0; d--) {
      ia += sa[d];
      ib += sb[d];
      if (++index[d] < shape[d]) break;
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      index[d] = 0;
    }
  }
  return true;
}

/**
 * numpy's `allclose`: every |a − b| ≤ atol + rtol·|b| (not symmetric: b is the
 * reference), with broadcasting. Infinities must match exactly; NaN is never
 * close unless `equalNan`. Arrays of different dtypes may be compared.
 */
export function allclose(a: Operand, b: Operand, options: CloseOptions = {}): boolean {
  checkOptions('allclose', options, ['rtol', 'atol', 'equalNan']);
  const { rtol = 1e-5, atol = 1e-8, equalNan = false } = options;
  if (!(rtol >= 0) || !(atol >= 0)) {
    throw new ValueError(`allclose: rtol and atol must be non-negative numbers, got rtol=${rtol}, atol=${atol}`);
  }
  const [A, B] = toArraysAnyDType(a, b);
  return forEachPair('allclose', A, B, (x, y) => {
    if (x === y) return true;
    if (Number.isNaN(x) || Number.isNaN(y)) return equalNan && Number.isNaN(x) && Number.isNaN(y);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
    return Math.abs(x - y) <= atol + rtol * Math.abs(y);
  });
}

/** The largest |a − b| over broadcast pairs (NaN if either holds NaN): the "max error" a report prints. */
export function maxAbsDiff(a: Operand, b: Operand): number {
  const [A, B] = toArraysAnyDType(a, b);
  let worst = 0;
  forEachPair('maxAbsDiff', A, B, (x, y) => {
    const d = x === y ? 0 : Math.abs(x - y);
    if (!(d <= worst)) worst = d; // also takes NaN
    return true;
  });
  return worst;
}

function toArraysAnyDType(a: Operand, b: Operand): [NDArray, NDArray] {
  // Comparing a float32 result with a float64 reference is the point of these
  // functions, and so is comparing two plain numbers (as numpy.allclose(1.0, 1.0)).
  if (typeof a === 'number' && typeof b === 'number') {
    return [new NDArray(new Float64Array([a]), []), new NDArray(new Float64Array([b]), [])];
  }
  if (typeof a !== 'number' && typeof b !== 'number' && a.dtype !== b.dtype) return [a, b];
  return toArrays('allclose', a, b);
}
