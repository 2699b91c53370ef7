/**
 * What every op does before its kernel runs: check its arrays (an NDArray,
 * living where the active backend keeps arrays), turn number operands into
 * 0-d arrays, and find or allocate its output.
 */
import { type DType, type FloatDType, type TypedArray, checkFloat, commonDType, dtypeOf, isTypedArray } from '../dtype';
import { DTypeError, ShapeError, ValueError, describe, formatShape } from '../errors';
import { allocateStorage, getBackend } from '../kernels/registry';
import { NDArray } from '../ndarray';
import { shapesEqual, sizeOf } from '../shape';

/** An array, or a plain number standing for a 0-d array of the other operand's dtype. */
export type Operand = NDArray | number;

/**
 * Throws unless `value` is an NDArray whose memory the active backend can
 * read: host memory for the TypeScript and WebAssembly backends, the
 * backend's own storage for a backend that keeps arrays elsewhere.
 */
export function checkArray(op: string, name: string, value: unknown): NDArray {
  if (!(value instanceof NDArray)) {
    throw new ValueError(`${op}: ${name} must be an NDArray, got ${describe(value)}`);
  }
  const storage = value.storage;
  const backend = getBackend();
  const onHost = isTypedArray(storage);
  if (onHost ? backend.allocate !== undefined : storage.backend !== backend.name) {
    const where = onHost ? 'on the host' : `on backend '${storage.backend}'`;
    throw new ValueError(
      `${op}: ${name} lives ${where} but the active backend is '${backend.name}'; move it there first${onHost ? ' with toBackend(array)' : ''}`,
    );
  }
  return value;
}

/** {@link checkArray}, and that the array holds floats (the arithmetic's dtypes). */
export function checkFloatArray(op: string, name: string, value: unknown): NDArray {
  const array = checkArray(op, name, value);
  checkFloat(op, name, array.dtype);
  return array;
}

/** An array of `shape` and `dtype` on the active backend, zero-filled. */
export function empty(shape: readonly number[], dtype: DType): NDArray {
  return new NDArray(allocateStorage(dtype, sizeOf(shape)), shape);
}

/**
 * `x` on the active backend: `x` itself where it already lives there, else a
 * copy uploaded from the host (a batch from a data loader, weights read from
 * a file) to a backend that keeps arrays off the host, as torch's
 * `x.to(device)`. Coming back is asynchronous on a GPU: `await x.toHost()`.
 */
export function toBackend(x: NDArray): NDArray {
  const op = 'toBackend';
  if (!(x instanceof NDArray)) throw new ValueError(`${op}: expected an NDArray, got ${describe(x)}`);
  const backend = getBackend();
  const storage = x.storage;
  if (isTypedArray(storage)) {
    if (backend.allocate === undefined) return x;
    if (backend.dtypes !== undefined && !backend.dtypes.includes(x.dtype)) {
      throw new DTypeError(`${op}: backend '${backend.name}' holds ${backend.dtypes.join(' and ')} arrays, got ${x.dtype}; convert it with astype() first`);
    }
    return upload(storage.slice(), x.shape);
  }
  if (storage.backend === backend.name) return x;
  throw new ValueError(
    `${op}: the array lives on backend '${storage.backend}' and the active backend is '${backend.name}'; read it to the host ` +
      'with `new NDArray(await x.toHost(), x.shape)` (a device cannot be read synchronously), then call toBackend on that',
  );
}

/** Host values as an array on the active backend: wrapped as they are on the host, written to the device otherwise. */
export function upload(values: TypedArray, shape: readonly number[]): NDArray {
  const storage = allocateStorage(dtypeOf(values), values.length);
  if (isTypedArray(storage)) return new NDArray(values, shape);
  storage.write(values);
  return new NDArray(storage, shape);
}

/** A 0-d array holding `value`, on the active backend. */
export function scalar(value: number, dtype: DType): NDArray {
  const storage = allocateStorage(dtype, 1);
  if (isTypedArray(storage)) {
    storage[0] = value;
    return new NDArray(storage, []);
  }
  return new NDArray(storage, []).fill(value);
}

/**
 * Number operands as 0-d arrays, made once per backend, dtype and value, so
 * `add(x, 1, out)` or a mean's divisor allocates nothing on later calls.
 * They only ever reach kernels as inputs (no op returns one or writes into
 * one), which is what makes sharing them safe. Host backends share one cache;
 * a backend with memory of its own has its own.
 */
const constants = new WeakMap<object, Map<string, NDArray>>();
const HOST_MEMORY = {};
/** Enough for the constants of any model; past it the cache starts over rather than grow. */
const MAX_CONSTANTS = 256;

export function constant(value: number, dtype: DType): NDArray {
  const backend = getBackend();
  const owner = backend.allocate === undefined ? HOST_MEMORY : backend;
  let cache = constants.get(owner);
  if (cache === undefined) {
    cache = new Map();
    constants.set(owner, cache);
  }
  // String(v) tells every double apart except −0 from 0.
  const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
  let array = cache.get(key);
  if (array === undefined) {
    if (cache.size >= MAX_CONSTANTS) cache.clear();
    array = scalar(value, dtype);
    cache.set(key, array);
  }
  return array;
}

/** Turns number operands into 0-d arrays of the array operand's dtype. */
export function toArrays(op: string, a: Operand, b: Operand): [NDArray, NDArray] {
  const aIsArray = a instanceof NDArray;
  const bIsArray = b instanceof NDArray;
  if (!aIsArray && typeof a !== 'number') throw new ValueError(`${op}: first operand must be an NDArray or a number, got ${describe(a)}`);
  if (!bIsArray && typeof b !== 'number') throw new ValueError(`${op}: second operand must be an NDArray or a number, got ${describe(b)}`);
  if (!aIsArray && !bIsArray) {
    throw new ValueError(`${op}: at least one operand must be an NDArray, got two numbers`);
  }
  const A = aIsArray ? checkArray(op, 'first operand', a) : undefined;
  const B = bIsArray ? checkArray(op, 'second operand', b) : undefined;
  const dtype = (A ?? (B as NDArray)).dtype;
  const left = A ?? constant(a as number, dtype);
  const right = B ?? constant(b as number, dtype);
  commonDType(op, left.dtype, right.dtype);
  return [left, right];
}

/** {@link toArrays} for operations on floats. */
export function toFloatArrays(op: string, a: Operand, b: Operand): [NDArray, NDArray] {
  const pair = toArrays(op, a, b);
  checkFloat(op, 'operands', pair[0].dtype);
  return pair;
}

/** The output array: `out` checked against the expected shape and dtype, or a new one. */
export function prepareOut(
  op: string,
  out: NDArray | undefined,
  shape: readonly number[],
  dtype: DType | undefined,
): NDArray {
  if (out === undefined) {
    if (dtype === undefined) throw new ValueError(`${op}: cannot tell the output's dtype; pass an array operand or out`);
    return empty(shape, dtype);
  }
  checkArray(op, 'out', out);
  if (!shapesEqual(out.shape, shape)) {
    throw new ShapeError(`${op}: out has shape ${formatShape(out.shape)}, expected ${formatShape(shape)}`);
  }
  if (dtype !== undefined && out.dtype !== dtype) {
    throw new DTypeError(`${op}: out has dtype ${out.dtype}, expected ${dtype}`);
  }
  return out;
}

/** Whether two arrays share memory: overlapping ranges of one host buffer, or the same device storage. */
export function sharesMemory(a: NDArray, b: NDArray): boolean {
  const x = a.storage;
  const y = b.storage;
  if (!isTypedArray(x) || !isTypedArray(y)) {
    if (x === y) return true;
    return !isTypedArray(x) && !isTypedArray(y) && x.backend === y.backend && (x.overlaps?.(y) ?? false);
  }
  if (x.buffer !== y.buffer) return false;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/** Whether two arrays are the same memory exactly (the same elements, not just overlapping ones). */
export function sameMemory(a: NDArray, b: NDArray): boolean {
  const x = a.storage;
  const y = b.storage;
  if (!isTypedArray(x) || !isTypedArray(y)) {
    if (x === y) return true;
    return !isTypedArray(x) && !isTypedArray(y) && x.backend === y.backend && (x.sameElements?.(y) ?? false);
  }
  return x.buffer === y.buffer && x.byteOffset === y.byteOffset && x.byteLength === y.byteLength;
}

/**
 * Throws when `out` shares memory with an input: for ops whose kernels read
 * their inputs after writing into `out` (a matrix product, a gather, a
 * window), an output laid over an input would be read half-overwritten.
 */
export function checkDistinct(op: string, out: NDArray, inputs: Record<string, NDArray | undefined>): void {
  for (const [name, input] of Object.entries(inputs)) {
    if (input !== undefined && sharesMemory(out, input)) {
      throw new ValueError(`${op}: out shares memory with ${name}; pass an out array of its own (or none)`);
    }
  }
}

/** Throws unless two arrays share a dtype, naming both. */
export function checkSameDType(op: string, aName: string, a: NDArray, bName: string, b: NDArray): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: ${aName} is ${a.dtype} but ${bName} is ${b.dtype}; expected the same dtype`);
  }
}

export type { FloatDType };
