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

/**
 * Throws unless `value` is a float NDArray holding only finite values; `what`
 * names it in messages. The finite check runs as a kernel: the values are
 * read on the host only to name a bad one.
 */
export function checkInput(op: string, what: string, value: unknown): NDArray {
  if (!(value instanceof NDArray)) {
    throw new ValueError(`${op}: ${what} must be an NDArray, got ${describe(value)}`);
  }
  if (value.dtype === 'int32') {
    throw new DTypeError(`${op}: ${what} is int32, expected float32 or float64 (convert it with astype('float32'))`);
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
 * Checks an elementwise loss's weight against this prediction: the same
 * dtype, finite (it is read live, so a NaN set in place must fail here rather
 * than turn into a NaN loss), and a shape that numpy broadcasting stretches
 * to the prediction's, so the ops' own broadcasting applies it.
 */
export function checkBroadcastWeight(op: string, name: string, weight: NDArray | undefined, prediction: NDArray): void {
  if (weight === undefined) return;
  checkSameDType(op, 'prediction', prediction, name, weight);
  checkFinite(op, name, weight);
  let result: number[];
  try {
    result = broadcastShapes(op, weight.shape, prediction.shape);
  } catch {
    result = [];
  }
  if (!shapesEqual(result, prediction.shape)) {
    throw new ShapeError(
      `${op}: ${name} of shape ${formatShape(weight.shape)} does not broadcast to the prediction's shape ` +
        `${formatShape(prediction.shape)}; expected a shape that numpy broadcasting stretches to ${formatShape(prediction.shape)}`,
    );
  }
}
