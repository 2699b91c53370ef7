import {
  type DType,
  DTypeError,
  NDArray,
  ShapeError,
  ValueError,
  add,
  array,
  checkFinite,
  describe,
  div,
  equal,
  firstOutside,
  formatShape,
  getBackend,
  mul,
  narrow,
  shapesEqual,
  sub,
  unravelIndex,
  where,
} from '@backprop/ndarray';
import type { Scratch } from './scratch';

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
 * [B, C, d1, …] (PyTorch's K-dimensional case), classes along `axis`.
 */
export interface ClassLayout {
  /** The class axis: 1, or 0 for an unbatched [C] prediction. */
  axis: number;
  /** C, the number of classes. */
  classes: number;
  /** One class index per row: B·d1·…, or 1 for [C]. */
  rows: number;
  /** The shape a class-index target must have: [], [B] or [B, d1, …]. */
  targetShape: number[];
  /** The prediction's shape with the class axis of size 1: one entry per row, laid out to broadcast along the classes. */
  rowShape: number[];
  /** 1 in every dimension but C along the class axis: a per-class array laid out to broadcast over the rows. */
  classShape: number[];
}

/** The layout of `prediction`, which must have at least one dimension and C ≥ 1 classes. */
export function classLayout(op: string, prediction: NDArray): ClassLayout {
  const shape = prediction.shape;
  if (shape.length === 0) {
    throw new ShapeError(
      `${op}: prediction has shape [] but expected [C], [B, C] or [B, C, d1, ...] (classes along dimension 1)`,
    );
  }
  const axis = shape.length === 1 ? 0 : 1;
  const classes = shape[axis];
  if (classes < 1) {
    throw new ShapeError(`${op}: prediction of shape ${formatShape(shape)} has no classes; expected C >= 1`);
  }
  const rowShape = shape.slice();
  rowShape[axis] = 1;
  const classShape = shape.map((_, d) => (d === axis ? classes : 1));
  const targetShape = axis === 0 ? [] : [shape[0], ...shape.slice(2)];
  return { axis, classes, rows: prediction.size / classes, targetShape, rowShape, classShape };
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

/** What {@link classIndexArray} stores for a target equal to `ignoreIndex`: no class matches it. */
const IGNORED = -1;

/**
 * Class-index targets as an int32 array of the layout's `rowShape`, every
 * value a class in [0, C) or −1 for a target equal to `ignoreIndex` (which
 * matches no class), after checking the target's shape and values.
 *
 * An int32 NDArray is checked and used through ops, never read on the host
 * (unless it holds a bad value, to name it). Any other form (a number, a
 * number[], an integer typed array, a float NDArray of integer values) is read
 * and checked on the host into a scratch int32 array.
 * `probabilitiesAllowed` only changes the wording of shape errors.
 */
export function classIndexArray(
  op: string,
  target: unknown,
  prediction: NDArray,
  layout: ClassLayout,
  ignoreIndex: number,
  scratch: Scratch,
  probabilitiesAllowed: boolean,
): NDArray {
  if (target instanceof NDArray && target.dtype === 'int32' && shapesEqual(target.shape, layout.targetShape)) {
    const C = layout.classes;
    // Where the target equals ignoreIndex (nowhere if int32 cannot hold it).
    const ignored =
      ignoreIndex === (ignoreIndex | 0)
        ? equal(target, scratch.constant(ignoreIndex, 'int32'), scratch.take('ignored', target.shape, 'int32'))
        : undefined;
    // Every value must be a class once ignored entries stand in as class 0.
    const classes =
      ignored === undefined ? target : where(ignored, scratch.constant(0, 'int32'), target, scratch.take('classes', target.shape, 'int32'));
    if (firstOutside(classes, 0, C - 1, `${op}: target (class indices${ignoreIndex === (ignoreIndex | 0) ? ` other than ignoreIndex ${ignoreIndex}` : ''})`) >= 0) {
      // Read on the host only to name the bad value (this throws).
      readClassIndices(op, target, prediction, layout, ignoreIndex, new Int32Array(layout.rows), probabilitiesAllowed);
    }
    // An ignoreIndex outside [0, C) already matches no class; one inside becomes −1.
    const picks =
      ignored !== undefined && ignoreIndex >= 0 && ignoreIndex < C
        ? where(ignored, scratch.constant(IGNORED, 'int32'), target, classes)
        : target;
    return picks.reshape(layout.rowShape);
  }
  const { values, picks } = scratch.hostIndices(layout.rowShape);
  readClassIndices(op, target, prediction, layout, ignoreIndex, values, probabilitiesAllowed);
  // A host backend computes on these very values; a backend with memory of its own gets a copy.
  return getBackend().allocate === undefined ? picks : array(values, { shape: layout.rowShape, dtype: 'int32' });
}

/**
 * Reads class-index targets into `out` (length ≥ layout.rows), checking the
 * shape and that every value is an integer in [0, C) or `ignoreIndex`;
 * ignored rows are stored as {@link IGNORED}. An argument check, on the host.
 */
function readClassIndices(
  op: string,
  target: unknown,
  prediction: NDArray,
  layout: ClassLayout,
  ignoreIndex: number,
  out: { [i: number]: number },
  probabilitiesAllowed: boolean,
): void {
  const expected = () =>
    `expected class indices of shape ${formatShape(layout.targetShape)}` +
    (probabilitiesAllowed ? ` or class probabilities of shape ${formatShape(prediction.shape)}` : '');
  let shape: readonly number[];
  let read: (i: number) => unknown;
  if (target instanceof NDArray) {
    shape = target.shape;
    let data: ArrayLike<number> | undefined;
    // Read only once the shape is known to fit.
    read = (i) => {
      data ??= target.data;
      return data[i];
    };
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

/** Checks a per-class weight against the prediction: same dtype, shape [C], finite. */
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

/**
 * The loss from nllLoss's sums [Σ w_y·x_y, Σ_rows Σ_c w_c·x_c, Σ w_y] without reading them back (on a device):
 * −((1 − ε)·s0 + (ε/C)·s1), in `dtype` (the sums come in float64 where the backend has it), a 0-d array; under
 * 'mean' divided by Σ w_y, NaN when nothing was counted (every target ignored), as torch's. `divisor` is what
 * backward divides the gradient by: Σ w_y with 0 read as 1 (a zero gradient there, as torch's), or 1.
 */
export function lossFromSums(
  sums: NDArray,
  dtype: DType,
  { mean, labelSmoothing, classes }: { mean: boolean; labelSmoothing: number; classes: number },
): { loss: NDArray; divisor: NDArray | 1 } {
  const s = sums.dtype === dtype ? sums : sums.astype(dtype);
  const picked = narrow(s, 0, 1);
  const total = labelSmoothing > 0 ? add(mul(picked, 1 - labelSmoothing), mul(narrow(s, 1, 1), labelSmoothing / classes)) : picked;
  // 0 − total, not −total: nothing counted (every target ignored, under 'sum') is +0, as torch's.
  const loss = sub(0, total).reshape([]);
  if (!mean) return { loss, divisor: 1 };
  const weightTotal = narrow(s, 2, 1).clone().reshape([]);
  return { loss: div(loss, weightTotal, loss), divisor: add(weightTotal, equal(weightTotal, 0)) };
}
