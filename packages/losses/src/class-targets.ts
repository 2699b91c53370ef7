import {
  DTypeError,
  NDArray,
  checkFinite,
  ShapeError,
  ValueError,
  describe,
  formatShape,
  shapesEqual,
  unravelIndex,
} from '@backprop/ndarray';

/**
 * Class indices given without an NDArray: a plain array or any integer typed
 * array (`Uint8Array` labels read from a file work as they are; `BigInt64Array`
 * holds PyTorch's int64 targets). Values must be integers in [0, C) or the
 * loss's `ignoreIndex`.
 */
export type ClassIndices =
  | readonly number[]
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array;

/**
 * How a classification prediction is laid out: [C] (unbatched), [B, C] or
 * [B, C, d1, …] (PyTorch's K-dimensional case). Row r = (b, s) reads class c
 * at b·C·inner + c·inner + s.
 */
export interface ClassLayout {
  /** B, or 1 for an unbatched [C] prediction. */
  outer: number;
  /** C, the number of classes. */
  classes: number;
  /** d1·d2·…, 1 for [C] and [B, C]. */
  inner: number;
  /** outer · inner: one class index per row. */
  rows: number;
  /** The shape a class-index target must have: [], [B] or [B, d1, …]. */
  targetShape: number[];
}

/** The layout of `prediction`, which must have at least one dimension and C ≥ 1 classes. */
export function classLayout(op: string, prediction: NDArray): ClassLayout {
  const shape = prediction.shape;
  if (shape.length === 0) {
    throw new ShapeError(
      `${op}: prediction has shape [] but expected [C], [B, C] or [B, C, d1, ...] (classes along dimension 1)`,
    );
  }
  const unbatched = shape.length === 1;
  const classes = unbatched ? shape[0] : shape[1];
  if (classes < 1) {
    throw new ShapeError(`${op}: prediction of shape ${formatShape(shape)} has no classes; expected C >= 1`);
  }
  const outer = unbatched ? 1 : shape[0];
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d];
  const targetShape = unbatched ? [] : [shape[0], ...shape.slice(2)];
  return { outer, classes, inner, rows: outer * inner, targetShape };
}

function isIntegerTypedArray(value: unknown): value is Exclude<ClassIndices, readonly number[]> {
  return (
    value instanceof Int8Array ||
    value instanceof Uint8Array ||
    value instanceof Uint8ClampedArray ||
    value instanceof Int16Array ||
    value instanceof Uint16Array ||
    value instanceof Int32Array ||
    value instanceof Uint32Array ||
    value instanceof BigInt64Array
  );
}

/**
 * Reads class-index targets into `out` (length ≥ layout.rows), checking the
 * shape and that every value is an integer in [0, C) or `ignoreIndex`;
 * ignored rows are stored as {@link IGNORED}.
 * `probabilitiesAllowed` only changes the wording of shape errors.
 */
export function readClassIndices(
  op: string,
  target: unknown,
  prediction: NDArray,
  layout: ClassLayout,
  ignoreIndex: number,
  out: Int32Array,
  probabilitiesAllowed: boolean,
): void {
  const expected = () =>
    `expected class indices of shape ${formatShape(layout.targetShape)}` +
    (probabilitiesAllowed ? ` or class probabilities of shape ${formatShape(prediction.shape)}` : '');
  let shape: readonly number[];
  let read: (i: number) => unknown;
  if (target instanceof NDArray) {
    shape = target.shape;
    const data = target.data;
    read = (i) => data[i];
  } else if (typeof target === 'number') {
    shape = [];
    read = () => target;
  } else if (Array.isArray(target)) {
    shape = [target.length];
    read = (i) => target[i];
  } else if (isIntegerTypedArray(target)) {
    shape = [target.length];
    read = target instanceof BigInt64Array ? (i) => Number(target[i]) : (i) => target[i];
  } else {
    throw new ValueError(
      `${op}: target must be an NDArray, a number[], an integer typed array or (for a [C] prediction) a number; ` +
        `got ${describe(target)}`,
    );
  }
  if (!shapesEqual(shape, layout.targetShape)) {
    throw new ShapeError(
      `${op}: prediction has shape ${formatShape(prediction.shape)} but target has shape ${formatShape(shape)}; ${expected()}`,
    );
  }
  const C = layout.classes;
  const where = (i: number) => (shape.length === 0 ? '' : ` at index [${unravelIndex(i, shape).join(', ')}]`);
  for (let i = 0; i < layout.rows; i++) {
    const v = read(i);
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new ValueError(
        `${op}: target holds ${describe(v)}${where(i)}; expected integer class indices in [0, ${C}) ` +
          `or ignoreIndex (${ignoreIndex})`,
      );
    }
    if (v === ignoreIndex) {
      out[i] = IGNORED;
    } else if (v >= 0 && v < C) {
      out[i] = v;
    } else {
      throw new ValueError(
        `${op}: target holds class index ${v}${where(i)}, out of range for C = ${C} classes; ` +
          `expected an integer in [0, ${C}) or ignoreIndex (${ignoreIndex})`,
      );
    }
  }
}

/** What `readClassIndices` stores for a target equal to `ignoreIndex` (valid classes are >= 0). */
export const IGNORED = -1;

/** Checks a per-class weight against the prediction: same dtype, shape [C]. */
export function checkClassWeight(op: string, weight: NDArray | undefined, prediction: NDArray, classes: number): void {
  if (weight === undefined) return;
  if (weight.dtype !== prediction.dtype) {
    throw new DTypeError(
      `${op}: prediction is ${prediction.dtype} but weight is ${weight.dtype}; expected the same dtype (convert one with astype())`,
    );
  }
  if (weight.shape.length !== 1 || weight.shape[0] !== classes) {
    throw new ShapeError(
      `${op}: weight has shape ${formatShape(weight.shape)} but the prediction of shape ` +
        `${formatShape(prediction.shape)} has ${classes} classes; expected weight of shape [${classes}]`,
    );
  }
  // The weight is read live, so a value changed in place is checked at every forward.
  checkFinite(op, 'weight', weight);
}

/** Grows a scratch buffer only when needed, so repeated calls of one shape allocate nothing. */
export function ensureFloat64(buffer: Float64Array<ArrayBuffer>, size: number): Float64Array<ArrayBuffer> {
  return buffer.length >= size ? buffer : new Float64Array(size);
}

/** As {@link ensureFloat64}, for index buffers. */
export function ensureInt32(buffer: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  return buffer.length >= size ? buffer : new Int32Array(size);
}
