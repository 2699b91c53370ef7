import { DTypeError, describe } from './errors';

/** Element types. float32 is the default, as in PyTorch. */
export type DType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64'];

export function checkDType(op: string, dtype: unknown): DType {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(`${op}: dtype must be 'float32' or 'float64', got ${describe(dtype)}`);
  }
  return dtype;
}

export function allocate(dtype: DType, size: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

/** The dtype two operands share; mixing float32 and float64 is an error, as it hides a precision loss. */
export function commonDType(op: string, a: DType, b: DType): DType {
  if (a !== b) {
    throw new DTypeError(
      `${op}: operands have different dtypes (${a} and ${b}); convert one with astype() first`,
    );
  }
  return a;
}
