/**
 * Reuse of output and gradient arrays inside a container (internal).
 *
 * A layer called by a user must return a new array every time: the user may
 * keep it, and a later call must not overwrite it. But inside a `Sequential`
 * most arrays never reach the user: layer i's output is read by layer i + 1
 * (which may keep it for its backward pass until its own next forward), and
 * layer i's input gradient is read by layer i − 1's backward and dropped. Such
 * an array can live in a buffer the layer keeps and overwrites on its next
 * call, so a training step at a steady batch size allocates nothing new
 * inside the model.
 *
 * The module-level flag below says "the array being produced now stays inside
 * a container". Only `Sequential` sets it, around the child calls whose result
 * it hands to another child, and restores the previous value after each, so a
 * direct call (or the last layer of the outermost Sequential) always sees it
 * off and gets a fresh array. Layers take their output and input gradient from
 * an {@link OutputBuffer}, which looks at the flag.
 */
import { type DType, NDArray, type TypedArray, shapesEqual, sizeOf, zeros } from '@backprop/ndarray';
import type { NeuralLayer } from './layer';

let staysInside = false;

/** Whether the array being produced now stays inside a container (set only by `Sequential`). */
export function resultStaysInside(): boolean {
  return staysInside;
}

/**
 * Sets the flag; the caller saves {@link resultStaysInside} first and restores
 * it afterwards (in a `finally`, so an error in a layer cannot leave it set).
 */
export function setResultStaysInside(value: boolean): void {
  staysInside = value;
}

/** The backing stores of every OutputBuffer: an array on one of them may be overwritten later. */
const reusedStores = new WeakSet<ArrayBufferLike>();

/** How many backing stores OutputBuffers have allocated (grown) so far: for tests. */
let storesAllocated = 0;

/** The number of backing stores every OutputBuffer together has allocated so far (tests read it). */
export function reusedStoresAllocated(): number {
  return storesAllocated;
}

/**
 * `array` itself, or a fresh copy when it shares memory with an
 * OutputBuffer (a pass-through layer such as `Identity` or `Flatten` can hand
 * on a reused array): what a container returns to its caller must not be
 * overwritten by a later call.
 */
export function detached(array: NDArray): NDArray {
  return reusedStores.has(array.data.buffer) ? array.clone() : array;
}

/**
 * One reusable array of a layer (its output, its input gradient, a scratch
 * array). It keeps the largest backing store it has needed and the last array
 * it handed out, so a repeated shape returns the very same NDArray and a
 * smaller one a view of the first elements.
 */
export class OutputBuffer {
  private store: TypedArray | undefined;
  private last: NDArray | undefined;

  /**
   * The array a layer writes its result into: a fresh zero-filled array, as
   * the layer allocated before, unless the flag says the result stays inside a
   * container; then this buffer's array, overwritten. `zeroed` asks for it to
   * be cleared first, as a fresh one would be, for kernels that add into their
   * output rather than write every element.
   */
  produce(shape: readonly number[], dtype: DType, zeroed: boolean): NDArray {
    return staysInside ? this.reuse(shape, dtype, zeroed) : zeros(shape, { dtype });
  }

  /**
   * This buffer's array whatever the flag says: only for scratch that never
   * leaves the layer (nor is kept by anyone past the layer's call).
   */
  reuse(shape: readonly number[], dtype: DType, zeroed: boolean): NDArray {
    const last = this.last;
    if (last !== undefined && last.dtype === dtype && shapesEqual(last.shape, shape)) {
      if (zeroed) last.data.fill(0);
      return last;
    }
    const size = sizeOf(shape);
    let store = this.store;
    if (store === undefined || (store instanceof Float64Array) !== (dtype === 'float64') || store.length < size) {
      // A fresh store is zero-filled already.
      store = zeros([size], { dtype }).data;
      this.store = store;
      reusedStores.add(store.buffer);
      storesAllocated++;
    } else if (zeroed) {
      store.fill(0, 0, size);
    }
    const array = new NDArray(store.length === size ? store : store.subarray(0, size), shape);
    this.last = array;
    return array;
  }
}

/** Instances of this package's own layer classes (not users' subclasses); see {@link isReusing}. */
const builtIns = new WeakSet<NeuralLayer>();

/**
 * Called by each of this package's layer constructors as
 * `markReusing(this, new.target, Linear)`: marks the instance when it is
 * exactly that class, not a user's subclass. Done at construction, not by a
 * module-level statement, so that bundlers can still drop unused layers.
 */
export function markReusing(layer: NeuralLayer, newTarget: unknown, ownClass: unknown): void {
  if (newTarget === ownClass) builtIns.add(layer);
}

/**
 * Whether `layer` is an instance of one of this package's classes itself (not
 * a user's subclass) whose passes have not been replaced on the instance (as
 * a hook that records every output would). Only those run with the flag set,
 * and only they receive reused arrays: they read their input (and output
 * gradient) during the call and keep it at most until their own next forward,
 * which a user's code might not (it could keep every array it was given, or
 * call a layer twice).
 */
export function isReusing(layer: NeuralLayer): boolean {
  return (
    builtIns.has(layer) &&
    !Object.hasOwn(layer, 'forward') &&
    !Object.hasOwn(layer, 'backward') &&
    !Object.hasOwn(layer, 'backwardParameters')
  );
}
