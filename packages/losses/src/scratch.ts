import {
  type Backend,
  type DType,
  NDArray,
  Slot,
  type TypedArray,
  concat,
  full,
  getBackend,
  shapesEqual,
  sizeOf,
  sum,
} from '@backprop/ndarray';

/**
 * The arrays a loss keeps from call to call, so a training step at a steady
 * batch size allocates only the gradient it returns: named {@link Slot}s for
 * intermediate results, and 0-d constants for the numbers a formula uses (a
 * plain number operand would become a fresh 0-d array on every call).
 * Everything lives on the active backend; constants are remade if it changes.
 */
export class Scratch {
  readonly #slots = new Map<string, Slot>();
  readonly #constants = new Map<string, NDArray>();
  #backend: Backend | undefined;
  #indices: { values: Int32Array; picks: NDArray } | undefined;

  /** The array named `name` with this shape and dtype, to be overwritten (the same one while they repeat). */
  take(name: string, shape: readonly number[], dtype: DType): NDArray {
    let slot = this.#slots.get(name);
    if (slot === undefined) {
      slot = new Slot();
      this.#slots.set(name, slot);
    }
    return slot.take(shape, dtype);
  }

  /** {@link take} with the shape and dtype of `like`. */
  like(name: string, like: NDArray): NDArray {
    return this.take(name, like.shape, like.dtype);
  }

  /** A 0-d array holding `value`, made once per value, dtype and backend; never write to it. */
  constant(value: number, dtype: DType): NDArray {
    const backend = getBackend();
    if (backend !== this.#backend) {
      this.#constants.clear();
      this.#backend = backend;
    }
    const key = `${dtype} ${value}`;
    let constant = this.#constants.get(key);
    if (constant === undefined) {
      constant = full([], value, { dtype });
      this.#constants.set(key, constant);
    }
    return constant;
  }

  /**
   * Host int32 memory for class indices read on the host, and an NDArray of
   * `shape` wrapping it (not a copy): the same pair while the shape repeats.
   */
  hostIndices(shape: readonly number[]): { values: Int32Array; picks: NDArray } {
    const last = this.#indices;
    if (last !== undefined && shapesEqual(last.picks.shape, shape)) return last;
    const values = new Int32Array(sizeOf(shape));
    this.#indices = { values, picks: new NDArray(values, shape) };
    return this.#indices;
  }

  /** A 0-d array named `name` holding `value` until the next call: for values that change per call (a gradient's scale). */
  scalar(name: string, value: number, dtype: DType): NDArray {
    return this.take(name, [], dtype).fill(value);
  }

  /**
   * Σ of every element of each array, brought to the host in one read-back:
   * a training step's only one, because `forward` returns a number.
   * The sums accumulate in float64 and round once to the arrays' dtype.
   */
  sumsToHost(arrays: readonly NDArray[]): TypedArray {
    const dtype = arrays[0].dtype;
    const parts = arrays.map((x, i) => sum(x, null, false, this.take(`sum ${i}`, [], dtype)).reshape([1]));
    const joined = parts.length === 1 ? parts[0] : concat(parts, 0, this.take('sums', [parts.length], dtype));
    return joined.data;
  }
}
