import { type DType, allocate, commonDType } from '../dtype';
import { DTypeError, ShapeError, ValueError, describe, formatShape } from '../errors';
import { NDArray } from '../ndarray';
import { shapesEqual } from '../shape';

/** An array, or a plain number standing for a 0-d array of the other operand's dtype. */
export type Operand = NDArray | number;

export function checkArray(op: string, name: string, value: unknown): NDArray {
  if (!(value instanceof NDArray)) {
    throw new ValueError(`${op}: ${name} must be an NDArray, got ${describe(value)}`);
  }
  return value;
}

/** Turns number operands into 0-d arrays of the array operand's dtype. */
export function toArrays(op: string, a: Operand, b: Operand): [NDArray, NDArray] {
  const aIsArray = a instanceof NDArray;
  const bIsArray = b instanceof NDArray;
  if (!aIsArray && typeof a !== 'number') throw new ValueError(`${op}: first operand must be an NDArray or a number, got ${describe(a)}`);
  if (!bIsArray && typeof b !== 'number') throw new ValueError(`${op}: second operand must be an NDArray or a number, got ${describe(b)}`);
  if (!aIsArray && !bIsArray) {
    throw new ValueError(`${op}: at least one operand must be an NDArray, got two numbers`);
  }
  const dtype: DType = aIsArray ? (a as NDArray).dtype : (b as NDArray).dtype;
  const wrap = (x: Operand): NDArray => {
    if (x instanceof NDArray) return x;
    const data = allocate(dtype, 1);
    data[0] = x;
    return new NDArray(data, []);
  };
  const A = wrap(a);
  const B = wrap(b);
  commonDType(op, A.dtype, B.dtype);
  return [A, B];
}

/** The output array: `out` checked against the expected shape and dtype, or a new one. */
export function prepareOut(
  op: string,
  out: NDArray | undefined,
  shape: readonly number[],
  dtype: DType,
): NDArray {
  if (out === undefined) return new NDArray(allocate(dtype, shape.reduce((p, d) => p * d, 1)), shape);
  checkArray(op, 'out', out);
  if (!shapesEqual(out.shape, shape)) {
    throw new ShapeError(`${op}: out has shape ${formatShape(out.shape)}, expected ${formatShape(shape)}`);
  }
  if (out.dtype !== dtype) {
    throw new DTypeError(`${op}: out has dtype ${out.dtype}, expected ${dtype}`);
  }
  return out;
}
