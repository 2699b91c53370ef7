import { type DType, type TypedArray, checkDType, dtypeOf, isTypedArray } from './dtype';
import { ShapeError, ValueError, describe, formatShape } from './errors';
import { formatArray, formatRepr } from './format';
import { castKernel, copyKernel, fillKernel } from './ops/copy';
import { type Shape, checkShape, sizeOf, stridesOf } from './shape';
import type { DeviceStorage, Storage } from './storage';

/** Nested JavaScript arrays of numbers, as `toArray()` returns and `array()` takes. */
export type NestedArray = number | NestedArray[];

/**
 * Marks NDArrays so `instanceof NDArray` holds across copies of this package:
 * an app that loads the CommonJS build in one place and the ES module build in
 * another has two NDArray classes, and arrays must pass between them.
 */
const NDARRAY = Symbol.for('@backprop/ndarray:NDArray');

/**
 * An n-dimensional array of float32, float64 or int32 numbers, row-major.
 * Operations are free functions (`add(a, b)`, `matmul(a, b)`) so a bundle
 * carries only the ones it uses; the class holds what every array needs.
 *
 * The elements live in `storage`: a host typed array for the TypeScript and
 * WebAssembly backends, or a backend's own {@link DeviceStorage} (a GPU buffer).
 * `data` is the host view of them, what a user reads and writes; ops hand
 * arrays to kernels, which read `storage`.
 *
 * Arrays are plain garbage-collected objects: there is no `dispose()`.
 */
export class NDArray {
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[NDARRAY] === true;
  }

  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  /** Where the elements are: a host typed array, or a backend's device storage. */
  readonly storage: Storage;

  /**
   * Wraps `storage` (not copied) as an array of `shape`: a Float32Array,
   * Float64Array or Int32Array whose length is the product of the shape, or
   * a backend's device storage. Prefer `array()`, `zeros()` and friends.
   */
  constructor(storage: Storage, shape: Shape) {
    const host = isTypedArray(storage);
    if (!host && !isDeviceStorage(storage)) {
      throw new ValueError(
        `NDArray: data must be a Float32Array, Float64Array or Int32Array (or a backend's storage), got ${describe(storage)}`,
      );
    }
    const dims = checkShape('NDArray', shape);
    const size = sizeOf(dims);
    if (storage.length !== size) {
      throw new ShapeError(
        `NDArray: data of length ${storage.length} does not fit shape ${formatShape(dims)} (${size} elements)`,
      );
    }
    this.shape = Object.freeze(dims);
    this.dtype = host ? dtypeOf(storage) : checkDType('NDArray', storage.dtype);
    this.storage = storage;
    this.size = size;
  }

  /**
   * The elements on the host, row-major: the typed array itself for arrays on
   * the host (writes go straight to the array), a copy read back from the
   * device otherwise, where the backend can read synchronously (else use
   * `await toHost()`).
   */
  get data(): TypedArray {
    const storage = this.storage;
    return isTypedArray(storage) ? storage : storage.readSync();
  }

  /** The elements on the host: `data`, awaited from the device where the array lives on one. */
  async toHost(): Promise<TypedArray> {
    const storage = this.storage;
    return isTypedArray(storage) ? storage : storage.read();
  }

  get [NDARRAY](): true {
    return true;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Row-major strides, in elements. */
  get strides(): number[] {
    return stridesOf(this.shape);
  }

  /** The element at a full index, negative indices counting from the end. */
  get(...index: number[]): number {
    return this.data[this.offsetOf('get', index)];
  }

  /** Writes one element in place. */
  set(value: number, ...index: number[]): void {
    this.data[this.offsetOf('set', index)] = value;
  }

  /** The single value of a one-element array, as `tensor.item()` (read synchronously: host arrays; see `itemAsync`). */
  item(): number {
    this.checkOneElement('item');
    return this.data[0];
  }

  /**
   * The single value of a one-element array, awaited from the device where
   * the array lives on one (a GPU): `await loss.itemAsync()` reads a loss on
   * every backend, where `item()` reads only what the host holds.
   */
  async itemAsync(): Promise<number> {
    this.checkOneElement('itemAsync');
    return (await this.toHost())[0];
  }

  private checkOneElement(op: string): void {
    if (this.size !== 1) {
      throw new ShapeError(`${op}: only an array with one element has an item, got shape ${formatShape(this.shape)}`);
    }
  }

  /**
   * The same data seen with another shape (no copy). One dimension may be -1
   * and is then inferred.
   */
  reshape(...shape: number[] | [readonly number[]]): NDArray {
    const dims = (Array.isArray(shape[0]) ? shape[0] : shape) as number[];
    return new NDArray(this.storage, inferShape('reshape', this.shape, dims));
  }

  /** A deep copy. */
  clone(): NDArray {
    return copyKernel(this);
  }

  /**
   * A copy converted to `dtype`: float64 → float32 rounds to nearest, a float
   * to int32 truncates toward zero (as torch's `.to(torch.int32)`).
   */
  astype(dtype: DType): NDArray {
    return castKernel(this, checkDType('astype', dtype));
  }

  /** Overwrites every element with `value`, in place; returns this. */
  fill(value: number): this {
    fillKernel(this, value);
    return this;
  }

  /** Nested JavaScript arrays (a number for a 0-d array). */
  toArray(): NestedArray {
    const data = this.data;
    if (this.shape.length === 0) return data[0];
    const strides = this.strides;
    const build = (dim: number, offset: number): NestedArray[] => {
      const out: NestedArray[] = new Array(this.shape[dim]);
      for (let i = 0; i < this.shape[dim]; i++) {
        const o = offset + i * strides[dim];
        out[i] = dim === this.shape.length - 1 ? data[o] : build(dim + 1, o);
      }
      return out;
    };
    return build(0, 0);
  }

  /** numpy's `str(array)`: aligned columns, `...` past 1000 elements. */
  toString(): string {
    return formatArray(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatRepr(this);
  }

  private offsetOf(op: string, index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ShapeError(
        `${op}: index [${index.join(', ')}] has ${index.length} entries, array of shape ${formatShape(this.shape)} needs ${this.shape.length}`,
      );
    }
    let offset = 0;
    let stride = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      const n = this.shape[d];
      let i = index[d];
      if (!Number.isInteger(i) || i < -n || i >= n) {
        throw new ValueError(
          `${op}: index ${i} is out of bounds for dimension ${d} of size ${n} (shape ${formatShape(this.shape)})`,
        );
      }
      if (i < 0) i += n;
      offset += i * stride;
      stride *= n;
    }
    return offset;
  }
}

/** Resolves a reshape target with at most one -1 against the source shape. */
export function inferShape(op: string, from: Shape, to: readonly number[]): number[] {
  const size = sizeOf(from);
  let unknown = -1;
  let known = 1;
  for (let i = 0; i < to.length; i++) {
    const d = to[i];
    if (d === -1 && unknown === -1) unknown = i;
    else if (!Number.isInteger(d) || d < 0) {
      throw new ValueError(
        `${op}: target shape ${formatShape(to)} may hold non-negative integers and one -1`,
      );
    } else known *= d;
  }
  const out = to.slice();
  if (unknown >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(
        `${op}: cannot reshape ${formatShape(from)} (${size} elements) into ${formatShape(to)}`,
      );
    }
    out[unknown] = size / known;
  } else if (known !== size) {
    throw new ShapeError(
      `${op}: cannot reshape ${formatShape(from)} (${size} elements) into ${formatShape(to)} (${known} elements)`,
    );
  }
  return out;
}

export function isNDArray(value: unknown): value is NDArray {
  return value instanceof NDArray;
}

function isDeviceStorage(value: unknown): value is DeviceStorage {
  const s = value as DeviceStorage | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.backend === 'string' &&
    typeof s.length === 'number' &&
    typeof s.readSync === 'function' &&
    typeof s.read === 'function' &&
    typeof s.write === 'function'
  );
}
