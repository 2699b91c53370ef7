import { type DType, isTypedArray } from './dtype';
import { allocateStorage, getBackend } from './kernels/registry';
import { NDArray } from './ndarray';
import { shapesEqual, sizeOf } from './shape';
import type { Storage } from './storage';

/**
 * One array reused from call to call: where a layer writes its output, or
 * its input gradient, when its caller says the result need not outlive the
 * next call (a `Sequential` hands each child a slot for what it passes to the
 * next child), and where any code keeps a scratch array.
 *
 * `take(shape, dtype)` returns the very same NDArray while the shape and dtype
 * repeat, a view of the first elements of its memory for a smaller shape, and
 * new memory only for a larger one; so a loop at a steady size allocates
 * nothing. The array's elements are whatever was last written: take it only
 * to overwrite every element (every op's `out` does).
 *
 * @example
 * const slot = new Slot();
 * const h = relu(x, slot.take(x.shape, x.dtype)); // the same array on every call of this size
 */
export class Slot {
  #store: Storage | undefined;
  #last: NDArray | undefined;

  /** An array of `shape` and `dtype` on this slot's memory, to be overwritten. */
  take(shape: readonly number[], dtype: DType): NDArray {
    const last = this.#last;
    if (last !== undefined && last.dtype === dtype && shapesEqual(last.shape, shape) && this.usable(last.storage)) return last;
    const size = sizeOf(shape);
    let store = this.#store;
    if (store === undefined || !this.usable(store) || !hasDType(store, dtype) || store.length < size || !isTypedArray(store)) {
      // Off the host, memory is not sliced: a new shape gets memory of its own size.
      store = allocateStorage(dtype, size);
      this.#store = store;
    }
    const view = !isTypedArray(store) || store.length === size ? store : store.subarray(0, size);
    const array = new NDArray(view, shape);
    this.#last = array;
    return array;
  }

  /** Whether `array` lives on this slot's memory (so a later `take` may overwrite it). */
  holds(array: NDArray): boolean {
    const store = this.#store;
    if (store === undefined) return false;
    const storage = array.storage;
    if (isTypedArray(store) && isTypedArray(storage)) return storage.buffer === store.buffer;
    return storage === store;
  }

  /** Memory the active backend can use: host memory for a host backend, its own storage otherwise. */
  private usable(storage: Storage): boolean {
    const backend = getBackend();
    return isTypedArray(storage) ? backend.allocate === undefined : storage.backend === backend.name;
  }
}

function hasDType(storage: Storage, dtype: DType): boolean {
  if (!isTypedArray(storage)) return storage.dtype === dtype;
  return dtype === 'float32' ? storage instanceof Float32Array : dtype === 'float64' ? storage instanceof Float64Array : storage instanceof Int32Array;
}
