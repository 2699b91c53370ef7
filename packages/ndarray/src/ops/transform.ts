import { commonDType } from '../dtype';
import { DTypeError, ShapeError, ValueError, describe, formatShape } from '../errors';
import { indexingKernels as ts } from '../kernels/js/indexing';
import { KernelError, kernel, whereTheyLive } from '../kernels/registry';
import { NDArray } from '../ndarray';
import { normalizeAxis } from '../shape';
import { firstOutside } from '../validate';
import { checkArray, checkDistinct, checkSameDType, prepareOut, sharesMemory, upload } from './operand';

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
 * Items [start, start + length) of the first axis, as a view (no copy: writes
 * through it reach `a`), as `torch.narrow(a, 0, start, length)`: a time step
 * of a sequence, a gate's rows, a batch's first samples. Only the first axis
 * is a contiguous window; for any other axis `slice` makes a copy. On a
 * backend that keeps arrays off the host, the backend's storage must offer
 * `subarray`.
 */
export function narrow(a: NDArray, start: number, length: number): NDArray {
  const op = 'narrow';
  checkArray(op, 'input', a);
  if (a.ndim === 0) throw new ShapeError(`${op}: input is 0-d (shape []); expected at least one dimension to narrow`);
  const rows = a.shape[0];
  if (!Number.isInteger(start) || start < 0 || start > rows) {
    throw new ValueError(`${op}: start ${describe(start)} is outside [0, ${rows}] for the first axis of ${formatShape(a.shape)}`);
  }
  if (!Number.isInteger(length) || length < 0 || start + length > rows) {
    throw new ValueError(
      `${op}: length ${describe(length)} from start ${start} runs past the first axis of ${formatShape(a.shape)} (size ${rows})`,
    );
  }
  const rowSize = rows === 0 ? 0 : a.size / rows;
  const begin = start * rowSize;
  const end = (start + length) * rowSize;
  const storage = a.storage;
  const shape = [length, ...a.shape.slice(1)];
  if (ArrayBuffer.isView(storage)) return new NDArray(storage.subarray(begin, end), shape);
  if (storage.subarray === undefined) {
    throw new KernelError(`${op}: backend '${storage.backend}' cannot make views of its arrays (its storage has no subarray)`);
  }
  return new NDArray(storage.subarray(begin, end), shape);
}

/**
 * Reorders the dimensions (a copy), as `numpy.transpose` / `torch.permute`:
 * `axes[i]` is the input dimension that becomes output dimension i. With no
 * axes the order is reversed (the matrix transpose for 2-D).
 */
export function transpose(a: NDArray, axes?: readonly number[], out?: NDArray): NDArray {
  checkArray('transpose', 'input', a);
  const order = axes ? axes.map((ax) => normalizeAxis('transpose', ax, a.ndim)) : a.shape.map((_, i) => a.ndim - 1 - i);
  if (order.length !== a.ndim || new Set(order).size !== a.ndim) {
    throw new ValueError(
      `transpose: axes [${axes?.join(', ')}] must be a permutation of the ${a.ndim} dimensions of ${formatShape(a.shape)}`,
    );
  }
  const result = prepareOut('transpose', out, order.map((ax) => a.shape[ax]), a.dtype);
  checkDistinct('transpose', result, { input: a });
  kernel('permute', ts.permute)({ x: a, axes: order, out: result });
  return result;
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

/** Indices as an int32 NDArray: an int32 array as it is, a list or typed array checked and copied. */
function indexArray(op: string, indices: NDArray | ArrayLike<number>): NDArray {
  if (indices instanceof NDArray) {
    checkArray(op, 'indices', indices);
    if (indices.dtype !== 'int32') {
      throw new DTypeError(`${op}: indices must be int32, got ${indices.dtype} (convert with astype('int32'))`);
    }
    return indices;
  }
  if (indices === null || typeof indices !== 'object' || typeof (indices as ArrayLike<number>).length !== 'number') {
    throw new ValueError(`${op}: indices must be an int32 NDArray, a number[] or an integer typed array, got ${describe(indices)}`);
  }
  const data = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const v = indices[k];
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new ValueError(`${op}: indices[${k}] is ${describe(v)}; expected an integer`);
    }
    data[k] = v;
  }
  return upload(data, [data.length]);
}

/** Throws unless every index lies in [−n, n). Reads int32 indices: an argument check, on the host. */
function checkBounds(op: string, indices: NDArray, n: number, axis: number, shape: readonly number[]): void {
  // A kernel finds the first bad index where the indices live; only a bad one is read back, to name it.
  const k = firstOutside(indices, -n, n - 1);
  if (k >= 0) {
    const i = indices.data[k];
    throw new ValueError(`${op}: index ${i} is out of bounds for axis ${axis} of size ${n} (shape ${formatShape(shape)})`);
  }
}

/**
 * Gathers entries along `axis` (default 0) at `indices`, as `numpy.take` /
 * `torch.index_select`: `take(x, batchIndices)` picks a mini-batch of rows,
 * `take(embedding, tokenIds)` looks up embeddings. Negative indices count
 * from the end.
 */
export function take(a: NDArray, indices: NDArray | ArrayLike<number>, axis = 0, out?: NDArray): NDArray {
  const arrays = [a, ...(indices instanceof NDArray ? [indices] : []), ...(out === undefined ? [] : [out])];
  return whereTheyLive(arrays, () => takeHere(a, indices, axis, out));
}

function takeHere(a: NDArray, indices: NDArray | ArrayLike<number>, axis: number, out: NDArray | undefined): NDArray {
  const op = 'take';
  checkArray(op, 'input', a);
  const ax = normalizeAxis(op, axis, a.ndim);
  const idx = indexArray(op, indices);
  checkBounds(op, idx, a.shape[ax], ax, a.shape);
  const shape = [...a.shape.slice(0, ax), ...idx.shape, ...a.shape.slice(ax + 1)];
  const result = prepareOut(op, out, shape, a.dtype);
  checkDistinct(op, result, { input: a, indices: idx });
  kernel(op, ts.take)({ x: a, indices: idx.reshape([idx.size]), axis: ax, out: result.reshape([...a.shape.slice(0, ax), idx.size, ...a.shape.slice(ax + 1)]) });
  return result;
}

/**
 * `out[..., indices[i], ...] += source[..., i, ...]` along `axis`, in place,
 * as `torch.Tensor.index_add_`: take's adjoint (an embedding's weight
 * gradient). Repeated indices add up. Returns out.
 */
export function indexAdd(out: NDArray, axis: number, indices: NDArray | ArrayLike<number>, source: NDArray): NDArray {
  const op = 'indexAdd';
  checkArray(op, 'out', out);
  checkArray(op, 'source', source);
  checkSameDType(op, 'out', out, 'source', source);
  const ax = normalizeAxis(op, axis, out.ndim);
  const idx = indexArray(op, indices);
  checkBounds(op, idx, out.shape[ax], ax, out.shape);
  const expected = [...out.shape.slice(0, ax), idx.size, ...out.shape.slice(ax + 1)];
  if (source.size !== expected.reduce((p, d) => p * d, 1) || source.ndim !== out.ndim - 1 + idx.ndim) {
    throw new ShapeError(
      `${op}: source has shape ${formatShape(source.shape)}, expected ${formatShape([...out.shape.slice(0, ax), ...idx.shape, ...out.shape.slice(ax + 1)])}`,
    );
  }
  kernel(op, ts.indexAdd)({ source: source.reshape(expected), indices: idx.reshape([idx.size]), axis: ax, out });
  return out;
}

/** Checks torch.gather / scatter_add's int32 index against the array it addresses. */
function checkPickIndex(op: string, indices: NDArray, other: NDArray, axis: number): void {
  if (indices.dtype !== 'int32') throw new DTypeError(`${op}: indices must be int32, got ${indices.dtype}`);
  if (indices.ndim !== other.ndim) {
    throw new ShapeError(`${op}: indices ${formatShape(indices.shape)} must have the rank of ${formatShape(other.shape)}`);
  }
  for (let d = 0; d < other.ndim; d++) {
    if (d !== axis && indices.shape[d] > other.shape[d]) {
      throw new ShapeError(
        `${op}: indices ${formatShape(indices.shape)} is larger than ${formatShape(other.shape)} in dimension ${d}`,
      );
    }
  }
  checkBounds(op, indices, other.shape[axis], axis, other.shape);
}

/**
 * `out[i][j] = x[i][indices[i][j]]` along `axis` (here 1), as `torch.gather`:
 * one element per index, the index of x's rank. Picks the target class's
 * log-probability of every row: `gather(logp, 1, targets.reshape([-1, 1]))`.
 */
export function gather(x: NDArray, axis: number, indices: NDArray, out?: NDArray): NDArray {
  const op = 'gather';
  checkArray(op, 'input', x);
  checkArray(op, 'indices', indices);
  const ax = normalizeAxis(op, axis, x.ndim);
  checkPickIndex(op, indices, x, ax);
  if (indices.shape.some((d, i) => i !== ax && d !== x.shape[i])) {
    throw new ShapeError(`${op}: indices ${formatShape(indices.shape)} must match ${formatShape(x.shape)} but along axis ${ax}`);
  }
  const result = prepareOut(op, out, indices.shape, x.dtype);
  checkDistinct(op, result, { input: x, indices });
  kernel(op, ts.gather)({ x, indices, axis: ax, out: result });
  return result;
}

/**
 * `out[i][indices[i][j]] += source[i][j]` along `axis` (here 1), in place, as
 * `torch.Tensor.scatter_add_`: gather's adjoint. Returns out.
 */
export function scatterAdd(out: NDArray, axis: number, indices: NDArray, source: NDArray): NDArray {
  const op = 'scatterAdd';
  checkArray(op, 'out', out);
  checkArray(op, 'indices', indices);
  checkArray(op, 'source', source);
  checkSameDType(op, 'out', out, 'source', source);
  const ax = normalizeAxis(op, axis, out.ndim);
  checkPickIndex(op, indices, out, ax);
  if (source.ndim !== indices.ndim || source.shape.some((d, i) => d !== indices.shape[i])) {
    throw new ShapeError(`${op}: source ${formatShape(source.shape)} must have the shape of indices ${formatShape(indices.shape)}`);
  }
  kernel(op, ts.scatterAdd)({ source, indices, axis: ax, out });
  return out;
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
export function concat(arrays: readonly NDArray[], axis = 0, out?: NDArray): NDArray {
  if (!Array.isArray(arrays)) checkList('concat', arrays);
  return whereTheyLive(out === undefined ? arrays : [...arrays, out], () => concatHere(arrays, axis, out));
}

function concatHere(arrays: readonly NDArray[], axis: number, out: NDArray | undefined): NDArray {
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
  const shape = first.shape.slice();
  shape[ax] = arrays.reduce((s, x) => s + x.shape[ax], 0);
  const result = prepareOut('concat', out, shape, first.dtype);
  // Names are built only for an array that overlaps (this runs on every step of a loss).
  for (let i = 0; i < arrays.length; i++) {
    if (sharesMemory(result, arrays[i])) checkDistinct('concat', result, { [`arrays[${i}]`]: arrays[i] });
  }
  kernel('concat', ts.concat)({ inputs: arrays, axis: ax, out: result });
  return result;
}

/** Joins arrays of one shape along a new axis. */
export function stack(arrays: readonly NDArray[], axis = 0): NDArray {
  if (!Array.isArray(arrays)) checkList('stack', arrays);
  return whereTheyLive(arrays, () => stackHere(arrays, axis));
}

function stackHere(arrays: readonly NDArray[], axis: number): NDArray {
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
