/**
 * A backend whose arrays do not live in host typed arrays: each is an opaque
 * `DeviceStorage` box (as a GPU buffer would be), and only this backend's own
 * kernels open the boxes. Its kernels are the TypeScript ones run on the
 * boxes' contents, so it computes exactly what `js` computes; what it proves
 * is the seam: ops allocate on the backend, kernels receive arrays, and
 * nothing outside a kernel reads an array's memory unless `.data` is asked
 * for (each such read-back is counted).
 */
import type { DType, TypedArray } from '../dtype';
import { typescriptKernels } from '../kernels/js/index';
import type { Backend } from '../kernels/registry';
import type { Kernels } from '../kernels/types';
import type { DeviceStorage } from '../storage';
import { NDArray } from '../ndarray';

class Box implements DeviceStorage {
  readonly backend: string;
  readonly dtype: DType;
  readonly length: number;
  constructor(
    readonly owner: BoxedBackend,
    readonly contents: TypedArray,
    dtype: DType,
  ) {
    this.backend = owner.name;
    this.dtype = dtype;
    this.length = contents.length;
  }
  readSync(): TypedArray {
    this.owner.readBacks++;
    return this.contents.slice();
  }
  async read(): Promise<TypedArray> {
    return this.readSync();
  }
  write(values: TypedArray): void {
    this.contents.set(values);
  }
  subarray(begin: number, end: number): Box {
    return new Box(this.owner, this.contents.subarray(begin, end), this.dtype);
  }
  sameElements(other: DeviceStorage): boolean {
    if (!(other instanceof Box)) return false;
    const a = this.contents;
    const b = other.contents;
    return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength;
  }
  overlaps(other: DeviceStorage): boolean {
    if (!(other instanceof Box) || other.contents.buffer !== this.contents.buffer) return false;
    const a = this.contents;
    const b = other.contents;
    return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
  }
}

/** Swaps every boxed NDArray in a kernel's arguments for a host view of its contents. */
function unbox(value: unknown): unknown {
  if (value instanceof NDArray) {
    const storage = value.storage;
    if (storage instanceof Box) return new NDArray(storage.contents, value.shape);
    throw new Error('boxed backend: a kernel received an array that is not one of its boxes');
  }
  if (Array.isArray(value)) return value.map(unbox);
  return value;
}

export interface BoxedBackend extends Backend {
  /** How many times something read a box back to the host (`.data`, `toHost`). */
  readBacks: number;
}

export function createBoxedBackend(name = 'boxed'): BoxedBackend {
  const kernels: Partial<Kernels> = {};
  for (const [kernelName, run] of Object.entries(typescriptKernels)) {
    (kernels as Record<string, unknown>)[kernelName] = (args: Record<string, unknown>) => {
      const host: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(args)) host[key] = unbox(value);
      return (run as (a: unknown) => unknown)(host);
    };
  }
  const backend: BoxedBackend = {
    name,
    kernels,
    readBacks: 0,
    allocate(dtype: DType, size: number): DeviceStorage {
      const contents = dtype === 'float32' ? new Float32Array(size) : dtype === 'float64' ? new Float64Array(size) : new Int32Array(size);
      return new Box(backend, contents, dtype);
    },
  };
  return backend;
}
