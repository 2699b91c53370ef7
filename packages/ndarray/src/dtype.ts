import { DTypeError, describe } from './errors';

/**
 * Element types. float32 is the default, as in PyTorch; int32 holds indices
 * (what `argmax` returns, class targets, gathers), as torch's int64 does.
 */
export type DType = 'float32' | 'float64' | 'int32';
/** The dtypes arithmetic runs on. */
export type FloatDType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array | Int32Array;
export type FloatArray = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function checkDType(op: string, dtype: unknown): DType {
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') {
    throw new DTypeError(`${op}: dtype must be 'float32', 'float64' or 'int32', got ${describe(dtype)}`);
  }
  return dtype;
}

export function allocate(dtype: DType, size: number): TypedArray {
  if (dtype === 'float32') return new Float32Array(size);
  return dtype === 'float64' ? new Float64Array(size) : new Int32Array(size);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32';
}

export function isTypedArray(value: unknown): value is TypedArray {
  return value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array;
}

/** The dtype two operands share; mixing dtypes is an error, as it hides a precision loss. */
export function commonDType(op: string, a: DType, b: DType): DType {
  if (a !== b) {
    throw new DTypeError(
      `${op}: operands have different dtypes (${a} and ${b}); convert one with astype() first`,
    );
  }
  return a;
}

/** Throws unless `dtype` is a float dtype: the arithmetic and the layers run on float32 and float64. */
export function checkFloat(op: string, name: string, dtype: DType): FloatDType {
  if (dtype === 'int32') {
    throw new DTypeError(`${op}: ${name} is int32, expected float32 or float64 (convert it with astype('float32'))`);
  }
  return dtype;
}
