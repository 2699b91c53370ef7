/**
 * Where an array's elements live. The TypeScript and WebAssembly backends keep
 * them in host typed arrays; a backend whose memory is elsewhere (GPU buffers)
 * gives its arrays a {@link DeviceStorage} instead, and only its own kernels
 * read it. Layers, losses and optimizers never look inside: they pass arrays
 * to ops, and ops pass them to kernels.
 */
import type { DType, TypedArray } from './dtype';

/**
 * A backend's handle on memory off the host (a GPU buffer, a region of
 * another module's memory). The NDArray holding it knows its shape and dtype;
 * the handle knows where the elements are and how to bring them to the host.
 */
export interface DeviceStorage {
  /** The name of the backend that owns this memory (and whose kernels read it). */
  readonly backend: string;
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
  /**
   * A host copy of the elements, for backends that can read synchronously;
   * others throw, naming `toHost()` (a browser cannot wait for a GPU buffer).
   */
  readSync(): TypedArray;
  /** A host copy of the elements. */
  read(): Promise<TypedArray>;
  /** Overwrites the elements with host values (of this dtype and length). */
  write(values: TypedArray): void;
  /**
   * Elements [begin, end) as storage of their own over the same memory (a
   * view: writes through either reach the other), as `TypedArray.subarray`.
   * Optional: without it, `narrow` on this backend's arrays is an error.
   */
  subarray?(begin: number, end: number): DeviceStorage;
  /** Whether this storage and `other` share any element (for views made by `subarray`). */
  overlaps?(other: DeviceStorage): boolean;
  /** Whether this storage and `other` are the same elements exactly (two views of one range). */
  sameElements?(other: DeviceStorage): boolean;
}

/** An array's memory: a host typed array, or a backend's device storage. */
export type Storage = TypedArray | DeviceStorage;
