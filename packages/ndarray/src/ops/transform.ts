import { allocate, commonDType } from '../dtype';
import { ShapeError, ValueError, describe, formatShape } from '../errors';
import { NDArray } from '../ndarray';
import { normalizeAxis, sizeOf, stridesOf } from '../shape';
import { checkArray } from './operand';

/** The same data with a new shape (no copy); one dimension may be -1. */
export function reshape(a: NDArray, shape: readonly number[]): NDArray {
  checkArray('reshape', 'input', a);
  return a.reshape(shape);
}

/** Flattens dimensions startAxis..endAxis into one, as `torch.flatten` (all by default). */
export function flatten(a: NDArray, startAxis = 0, endAxis = -1): NDArray {
  checkArray('flatten', 'input', a);
  if (a.ndim === 0) return a.reshape([1]);
  const start = normalizeAxis('flatten', startAxis, a.ndim);
  const end = normalizeAxis('flatten', endAxis, a.ndim);
  if (start > end) throw new ValueError(`flatten: startAxis ${startAxis} comes after endAxis ${endAxis}`);
  const merged = a.shape.slice(start, end + 1).reduce((p, d) => p * d, 1);
  return a.reshape([...a.shape.slice(0, start), merged, ...a.shape.slice(end + 1)]);
}

/**
 * Reorders the dimensions (a copy), as `numpy.transpose` / `torch.permute`:
 * `axes[i]` is the input dimension that becomes output dimension i. With no
 * axes the order is reversed (the matrix transpose for 2-D).
 */
export function transpose(a: NDArray, axes?: readonly number[]): NDArray {
  checkArray('transpose', 'input', a);
  const order = axes ? axes.map((ax) => normalizeAxis('transpose', ax, a.ndim)) : a.shape.map((_, i) => a.ndim - 1 - i);
  if (order.length !== a.ndim || new Set(order).size !== a.ndim) {
    throw new ValueError(
      `transpose: axes [${axes?.join(', ')}] must be a permutation of the ${a.ndim} dimensions of ${formatShape(a.shape)}`,
    );
  }
  const outShape = order.map((ax) => a.shape[ax]);
  const inStrides = stridesOf(a.shape);
  const strides = order.map((ax) => inStrides[ax]);
  const out = allocate(a.dtype, a.size);
  const src = a.data;
  if (a.ndim === 2 && order[0] === 1) {
    // The common matrix transpose, in cache-friendly tiles.
    const [rows, cols] = a.shape;
    const T = 32;
    for (let i0 = 0; i0 < rows; i0 += T) {
      for (let j0 = 0; j0 < cols; j0 += T) {
        const iEnd = Math.min(i0 + T, rows);
        const jEnd = Math.min(j0 + T, cols);
        for (let i = i0; i < iEnd; i++) for (let j = j0; j < jEnd; j++) out[j * rows + i] = src[i * cols + j];
      }
    }
    return new NDArray(out, outShape);
  }
  const index = new Array<number>(a.ndim).fill(0);
  let offset = 0;
  for (let k = 0; k < out.length; k++) {
    out[k] = src[offset];
    for (let d = a.ndim - 1; d >= 0; d--) {
      offset += strides[d];
      if (++index[d] < outShape[d]) break;
      offset -= strides[d] * outShape[d];
      index[d] = 0;
    }
  }
  return new NDArray(out, outShape);
}

/** `torch.permute`: the same as `transpose(a, axes)`. */
export function permute(a: NDArray, axes: readonly number[]): NDArray {
  return transpose(a, axes);
}

/** Inserts a dimension of size 1 at `axis` (no copy). */
export function expandDims(a: NDArray, axis: number): NDArray {
  checkArray('expandDims', 'input', a);
  const ax = normalizeAxis('expandDims', axis, a.ndim + 1);
  const shape = a.shape.slice();
  shape.splice(ax, 0, 1);
  return a.reshape(shape);
}

/** Removes dimensions of size 1 (only `axis`, if given; it must have size 1). */
export function squeeze(a: NDArray, axis?: number): NDArray {
  checkArray('squeeze', 'input', a);
  if (axis === undefined) return a.reshape(a.shape.filter((d) => d !== 1));
  const ax = normalizeAxis('squeeze', axis, a.ndim);
  if (a.shape[ax] !== 1) {
    throw new ShapeError(`squeeze: axis ${axis} of ${formatShape(a.shape)} has size ${a.shape[ax]}, not 1`);
  }
  return a.reshape(a.shape.filter((_, i) => i !== ax));
}

/** Copies elements [start, end) along `axis` (default 0: rows), as `a[start:end]`. Negative bounds count from the end. */
export function slice(a: NDArray, start: number, end?: number, axis = 0): NDArray {
  checkArray('slice', 'input', a);
  const ax = normalizeAxis('slice', axis, a.ndim);
  const n = a.shape[ax];
  const clamp = (i: number): number => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new ValueError(`slice: start and end must be integers, got ${describe(start)} and ${describe(end)}`);
  }
  const s = clamp(start);
  const e = Math.max(s, end === undefined ? n : clamp(end));
  const indices = new Int32Array(e - s);
  for (let i = 0; i < indices.length; i++) indices[i] = s + i;
  return take(a, indices, ax);
}

/**
 * Gathers entries along `axis` (default 0) at `indices`, as `numpy.take`:
 * `take(x, batchIndices)` picks a mini-batch of rows.
 */
export function take(a: NDArray, indices: ArrayLike<number>, axis = 0): NDArray {
  checkArray('take', 'input', a);
  const ax = normalizeAxis('take', axis, a.ndim);
  const n = a.shape[ax];
  let outer = 1;
  for (let i = 0; i < ax; i++) outer *= a.shape[i];
  const inner = sizeOf(a.shape.slice(ax + 1));
  const count = indices.length;
  const out = allocate(a.dtype, outer * count * inner);
  for (let k = 0; k < count; k++) {
    const raw = indices[k];
    if (!Number.isInteger(raw) || raw < -n || raw >= n) {
      throw new ValueError(
        `take: index ${raw} is out of bounds for axis ${ax} of size ${n} (shape ${formatShape(a.shape)})`,
      );
    }
  }
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < count; k++) {
      const i = indices[k] < 0 ? indices[k] + n : indices[k];
      const src = (o * n + i) * inner;
      out.set(a.data.subarray(src, src + inner), (o * count + k) * inner);
    }
  }
  const shape = a.shape.slice();
  shape[ax] = count;
  return new NDArray(out, shape);
}

/** Row `i` of the first axis (a copy), as `a[i]`. */
export function index(a: NDArray, i: number): NDArray {
  checkArray('index', 'input', a);
  if (a.ndim === 0) throw new ShapeError('index: a 0-d array has no rows');
  return take(a, [i], 0).reshape(a.shape.slice(1));
}

function checkList(op: string, arrays: readonly NDArray[]): void {
  if (!Array.isArray(arrays) || arrays.length === 0) {
    throw new ValueError(`${op}: expected a non-empty array of NDArrays, got ${describe(arrays)}`);
  }
  for (const [i, x] of arrays.entries()) checkArray(op, `arrays[${i}]`, x);
  for (const x of arrays) commonDType(op, arrays[0].dtype, x.dtype);
}

/** Joins arrays along an existing axis; every other dimension must agree. */
export function concat(arrays: readonly NDArray[], axis = 0): NDArray {
  checkList('concat', arrays);
  const first = arrays[0];
  const ax = normalizeAxis('concat', axis, first.ndim);
  for (const [i, x] of arrays.entries()) {
    const fits = x.ndim === first.ndim && x.shape.every((d, j) => j === ax || d === first.shape[j]);
    if (!fits) {
      throw new ShapeError(
        `concat: arrays[${i}] has shape ${formatShape(x.shape)}, which does not fit arrays[0] ${formatShape(first.shape)} ` +
          `along axis ${ax} (all dimensions but axis ${ax} must match)`,
      );
    }
  }
  const outer = sizeOf(first.shape.slice(0, ax));
  const total = arrays.reduce((s, x) => s + x.shape[ax], 0);
  const shape = first.shape.slice();
  shape[ax] = total;
  const out = allocate(first.dtype, sizeOf(shape));
  let dst = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of arrays) {
      const chunk = x.size / Math.max(outer, 1);
      out.set(x.data.subarray(o * chunk, (o + 1) * chunk), dst);
      dst += chunk;
    }
  }
  return new NDArray(out, shape);
}

/** Joins arrays of one shape along a new axis. */
export function stack(arrays: readonly NDArray[], axis = 0): NDArray {
  checkList('stack', arrays);
  const first = arrays[0];
  for (const [i, x] of arrays.entries()) {
    if (x.ndim !== first.ndim || x.shape.some((d, j) => d !== first.shape[j])) {
      throw new ShapeError(
        `stack: arrays[${i}] has shape ${formatShape(x.shape)}, expected ${formatShape(first.shape)} like arrays[0]`,
      );
    }
  }
  const ax = normalizeAxis('stack', axis, first.ndim + 1);
  return concat(arrays.map((x) => expandDims(x, ax)), ax);
}
