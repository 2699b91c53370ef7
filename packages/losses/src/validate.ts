import {
  DTypeError,
  NDArray,
  ShapeError,
  ValueError,
  broadcastShapes,
  checkFinite,
  describe,
  formatShape,
  shapesEqual,
} from '@backprop/ndarray';

/** Throws unless `value` is an NDArray holding only finite values; `what` names it in messages. */
export function checkInput(op: string, what: string, value: unknown): NDArray {
  if (!(value instanceof NDArray)) {
    throw new ValueError(`${op}: ${what} must be an NDArray, got ${describe(value)}`);
  }
  checkFinite(op, what, value);
  return value;
}

/** Throws unless two arrays share a dtype; mixing hides a precision loss, so we refuse it. */
export function checkSameDType(op: string, aName: string, a: NDArray, bName: string, b: NDArray): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(
      `${op}: ${aName} is ${a.dtype} but ${bName} is ${b.dtype}; expected the same dtype (convert one with astype())`,
    );
  }
}

/**
 * The target of an elementwise loss: an NDArray of exactly the prediction's
 * shape and dtype, all finite. PyTorch broadcasts a mismatched target with a
 * warning, which almost always hides a bug (a [B] target against a [B, 1]
 * prediction becomes [B, B]), so we refuse it.
 */
export function checkElementwiseTarget(op: string, prediction: NDArray, target: unknown): NDArray {
  if (!(target instanceof NDArray)) {
    throw new ValueError(
      `${op}: target must be an NDArray of shape ${formatShape(prediction.shape)}, got ${describe(target)}`,
    );
  }
  if (!shapesEqual(prediction.shape, target.shape)) {
    throw new ShapeError(
      `${op}: prediction has shape ${formatShape(prediction.shape)} but target has shape ` +
        `${formatShape(target.shape)}; expected the same shape (reshape one of them; no broadcasting is done)`,
    );
  }
  checkSameDType(op, 'prediction', prediction, 'target', target);
  checkFinite(op, 'target', target);
  return target;
}

/** Throws for an empty prediction under `'mean'`, whose mean PyTorch reports as NaN. */
export function checkNotEmpty(op: string, prediction: NDArray, reduction: string): void {
  if (prediction.size === 0 && reduction === 'mean') {
    throw new ValueError(
      `${op}: prediction of shape ${formatShape(prediction.shape)} is empty, and its mean is undefined; ` +
        `expected at least one element (or reduction 'sum')`,
    );
  }
}

/** Checks an optional weight-like option at construction: an NDArray with finite values. */
export function checkWeightOption(op: string, name: string, value: unknown): NDArray | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof NDArray)) {
    throw new ValueError(`${op}: ${name} must be an NDArray, got ${describe(value)}`);
  }
  checkFinite(op, name, value);
  return value;
}

/**
 * Maps each flat position of `to` to the flat position of `from` that
 * broadcasting reads (numpy rules), or returns null when `from` already has
 * `to`'s size (same shape up to leading 1s: the identity map).
 */
export function broadcastIndex(op: string, name: string, from: readonly number[], to: readonly number[]): Int32Array | null {
  let result: number[];
  try {
    result = broadcastShapes(op, from, to);
  } catch {
    result = [];
  }
  if (!shapesEqual(result, to)) {
    throw new ShapeError(
      `${op}: ${name} of shape ${formatShape(from)} does not broadcast to the prediction's shape ` +
        `${formatShape(to)}; expected a shape that numpy broadcasting stretches to ${formatShape(to)}`,
    );
  }
  let fromSize = 1;
  for (const d of from) fromSize *= d;
  let toSize = 1;
  for (const d of to) toSize *= d;
  if (fromSize === toSize) return null;
  // Strides of `from` laid against `to`, 0 along stretched dimensions.
  const offset = to.length - from.length;
  const strides = new Array<number>(to.length).fill(0);
  let s = 1;
  for (let i = from.length - 1; i >= 0; i--) {
    strides[i + offset] = from[i] === 1 ? 0 : s;
    s *= from[i];
  }
  const map = new Int32Array(toSize);
  const index = new Array<number>(to.length).fill(0);
  let src = 0;
  for (let flat = 0; flat < toSize; flat++) {
    map[flat] = src;
    // Odometer increment over `to`, keeping `src` in step.
    for (let d = to.length - 1; d >= 0; d--) {
      index[d]++;
      src += strides[d];
      if (index[d] < to[d]) break;
      src -= strides[d] * to[d];
      index[d] = 0;
    }
  }
  return map;
}

/**
 * Rounds to float32 when the arrays are float32, to reproduce where PyTorch's
 * float32 kernels round intermediate values (it decides saturated cases, such
 * as whether 1 − p or σ(x) rounds to exactly 1); the identity for float64.
 */
export function roundingFor(dtype: 'float32' | 'float64'): (x: number) => number {
  return dtype === 'float32' ? Math.fround : identity;
}

function identity(x: number): number {
  return x;
}
