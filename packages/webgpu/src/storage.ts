/**
 * Where a WebGPU array's elements live: a range of a `GPUBuffer`. Buffers come
 * from a pool keyed by byte size; when the array owning a buffer is garbage
 * collected, a `FinalizationRegistry` hands the buffer back to the pool, so a
 * training loop that drops its arrays reuses the same buffers step after step
 * and nobody calls `dispose()`.
 */
import { type DType, type DeviceStorage, DTypeError, type TypedArray } from '@backprop/ndarray';
import type { GpuRuntime } from './runtime';

/** Bytes per element of the dtypes a GPU holds. */
export const BYTES = 4;

/** The host typed array of a GPU dtype. */
export function hostArray(dtype: DType, length: number): Float32Array | Int32Array {
  return dtype === 'int32' ? new Int32Array(length) : new Float32Array(length);
}

/** Throws unless `dtype` is one WGSL computes in: float32 and int32 (there is no f64 on a GPU). */
export function checkGpuDType(op: string, dtype: DType): void {
  if (dtype === 'float64') {
    throw new DTypeError(
      `${op}: float64 arrays cannot live on the GPU (WebGPU computes in float32); convert with astype('float32'), ` +
        "or keep float64 work on the CPU with setBackend('wasm') or setBackend('js')",
    );
  }
}

/** A buffer of the pool and how many bytes it holds. */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
}

/**
 * A WebGPU array's storage: `length` elements of `dtype` starting `offset`
 * elements into `buffer`. A view made by `subarray` shares the buffer and
 * keeps its root alive, so the buffer returns to the pool only when every
 * view of it has been collected.
 */
export class GpuStorage implements DeviceStorage {
  readonly backend: string;

  constructor(
    readonly runtime: GpuRuntime,
    readonly dtype: DType,
    readonly length: number,
    readonly pooled: PooledBuffer,
    /** In elements, from the start of the buffer. */
    readonly offset = 0,
    /** The storage that owns the buffer, for views (kept alive by this reference). */
    readonly root?: GpuStorage,
  ) {
    this.backend = runtime.name;
  }

  get buffer(): GPUBuffer {
    return this.pooled.buffer;
  }

  readSync(): TypedArray {
    throw new Error(
      `webgpu: a ${this.dtype} array of ${this.length} elements lives on the GPU, which a browser cannot read ` +
        'synchronously (`.data`, `item()`, `toArray()`, `get()`, a loss\'s `forward`): read it with `await x.toHost()` ' +
        'or `await x.itemAsync()`; for a loss, `lossFn.compute(prediction, target)` leaves the loss on the GPU as a 0-d array, ' +
        'and clipGradNorm(..., { read: false }) the total norm',
    );
  }

  read(): Promise<TypedArray> {
    return this.runtime.read(this);
  }

  write(values: TypedArray): void {
    if (values.length !== this.length) {
      throw new RangeError(`webgpu: write of ${values.length} values into storage of ${this.length} elements`);
    }
    this.runtime.write(this, values);
  }

  subarray(begin: number, end: number): GpuStorage {
    return new GpuStorage(this.runtime, this.dtype, end - begin, this.pooled, this.offset + begin, this.root ?? this);
  }

  overlaps(other: DeviceStorage): boolean {
    if (!(other instanceof GpuStorage) || other.pooled !== this.pooled) return false;
    return this.offset < other.offset + other.length && other.offset < this.offset + this.length && this.length > 0 && other.length > 0;
  }

  sameElements(other: DeviceStorage): boolean {
    return other instanceof GpuStorage && other.pooled === this.pooled && other.offset === this.offset && other.length === this.length;
  }
}
