import { type DType, type TypedArray, allocate, checkDType, checkFloat, dtypeOf, isTypedArray } from './dtype';
import { ShapeError, ValueError, checkOptions, describe, formatShape } from './errors';
import { type NDArray, type NestedArray, inferShape } from './ndarray';
import { empty, upload } from './ops/operand';
import { fillNormal, fillUniform } from './ops/random';
import { defaultGenerator } from './random/torch';
import type { Generator } from './random/generator';
import { type Shape, checkShape, sizeOf } from './shape';

export interface DTypeOptions {
  /** Element type: float32 unless said otherwise, as in PyTorch; float64; int32 for indices. */
  dtype?: DType;
}

export interface ArrayOptions extends DTypeOptions {
  /** Reshape the values to this shape (one dimension may be -1). */
  shape?: readonly number[];
}

export interface RandomOptions extends DTypeOptions {
  /** Where the numbers come from; the global default generator (see `manualSeed`) otherwise. */
  rng?: Generator;
}

function resolveDType(op: string, options: DTypeOptions | undefined, fallback: DType = 'float32'): DType {
  return options?.dtype === undefined ? fallback : checkDType(op, options.dtype);
}

/**
 * An array from nested JavaScript arrays, a flat list with `shape`, a typed
 * array, or a single number (0-d). Always copies, as `torch.tensor` does.
 *
 * @example array([[1, 2], [3, 4]])                       // shape [2, 2], float32
 * @example array([1, 2, 3, 4, 5, 6], { shape: [2, 3], dtype: 'float64' })
 */
export function array(
  values: NestedArray | ArrayLike<number> | TypedArray,
  options: ArrayOptions = {},
): NDArray {
  checkOptions('array', options, ['dtype', 'shape']);
  if (ArrayBuffer.isView(values)) {
    const typed = values as unknown as ArrayLike<number>;
    const fallback: DType = isTypedArray(values) ? dtypeOf(values) : 'float32';
    const dtype = resolveDType('array', options, fallback);
    const data = allocate(dtype, typed.length);
    data.set(typed);
    return upload(data, inferShape('array', [data.length], options.shape ?? [data.length]));
  }
  const dtype = resolveDType('array', options);
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const data = allocate(dtype, sizeOf(shape));
  let k = 0;
  const fill = (node: unknown, dim: number, path: number[]): void => {
    if (dim === shape.length) {
      if (typeof node !== 'number') {
        throw new ValueError(
          `array: expected a number at index [${path.join(', ')}], got ${describe(node)}`,
        );
      }
      data[k++] = node;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[dim]) {
      throw new ShapeError(
        `array: nested arrays are ragged: index [${path.join(', ')}] has ` +
          `${Array.isArray(node) ? `length ${node.length}` : describe(node)}, expected length ${shape[dim]} ` +
          `(shape so far ${formatShape(shape)})`,
      );
    }
    for (let i = 0; i < node.length; i++) fill(node[i], dim + 1, [...path, i]);
  };
  fill(values, 0, []);
  const result = upload(data, shape);
  return options.shape ? result.reshape(options.shape as number[]) : result;
}

/** All zeros. */
export function zeros(shape: Shape, options: DTypeOptions = {}): NDArray {
  checkOptions('zeros', options, ['dtype']);
  return allocateShape('zeros', shape, resolveDType('zeros', options));
}

/**
 * A zero-filled array of `shape` on the active backend; an allocation the
 * runtime refuses (too many elements, not enough memory) is an error naming
 * the operation and the shape, not a bare RangeError.
 */
function allocateShape(op: string, shape: Shape, dtype: DType): NDArray {
  const dims = checkShape(op, shape);
  return allocating(op, dims, dtype, () => empty(dims, dtype));
}

/** `allocate()`, with a RangeError from the runtime turned into an error naming the op and the shape. */
function allocating<T>(op: string, dims: readonly number[], dtype: DType, allocate: () => T): T {
  try {
    return allocate();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const size = sizeOf(dims).toLocaleString('en-US');
    throw new ValueError(`${op}: cannot allocate an array of shape ${formatShape(dims)} (${size} ${dtype} elements): ${error.message}`);
  }
}

/** All ones. */
export function ones(shape: Shape, options: DTypeOptions = {}): NDArray {
  checkOptions('ones', options, ['dtype']);
  return full(shape, 1, options);
}

/** Every element `value`. */
export function full(shape: Shape, value: number, options: DTypeOptions = {}): NDArray {
  checkOptions('full', options, ['dtype']);
  if (typeof value !== 'number') throw new ValueError(`full: value must be a number, got ${describe(value)}`);
  return allocateShape('full', shape, resolveDType('full', options)).fill(value);
}

/** Zeros (or ones, or `value`) with the shape and dtype of `like`. */
export function zerosLike(like: NDArray): NDArray {
  return zeros(like.shape, { dtype: like.dtype });
}
export function onesLike(like: NDArray): NDArray {
  return full(like.shape, 1, { dtype: like.dtype });
}
export function fullLike(like: NDArray, value: number): NDArray {
  return full(like.shape, value, { dtype: like.dtype });
}

/**
 * Evenly spaced values in [start, stop) with `step`, as `numpy.arange`:
 * `arange(5)` is [0..4], `arange(2, 5)`, `arange(0, 1, 0.25)`.
 */
export function arange(start: number, stop?: number, step = 1, options: DTypeOptions = {}): NDArray {
  checkOptions('arange', options, ['dtype']);
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  for (const [name, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ValueError(`arange: ${name} must be a finite number, got ${describe(v)}`);
    }
  }
  if (step === 0) throw new ValueError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(resolveDType('arange', options), n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return upload(data, [n]);
}

/** `num` evenly spaced values from start to stop inclusive, as `numpy.linspace`. */
export function linspace(start: number, stop: number, num = 50, options: DTypeOptions = {}): NDArray {
  checkOptions('linspace', options, ['dtype']);
  if (!Number.isInteger(num) || num < 0) {
    throw new ValueError(`linspace: num must be a non-negative integer, got ${describe(num)}`);
  }
  const data = allocate(resolveDType('linspace', options), num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = start + i * step;
  if (num > 1) data[num - 1] = stop;
  return upload(data, [num]);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: DTypeOptions = {}): NDArray {
  checkOptions('eye', options, ['dtype']);
  const dims = checkShape('eye', [n, m]);
  const dtype = resolveDType('eye', options);
  const data = allocating('eye', dims, dtype, () => allocate(dtype, n * m));
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return upload(data, dims);
}

/** U[0, 1) samples, as `torch.rand` (bit for bit with a `TorchGenerator` of the same seed). */
export function rand(shape: Shape, options: RandomOptions = {}): NDArray {
  checkOptions('rand', options, ['dtype', 'rng']);
  const out = zeros(shape, { dtype: checkFloat('rand', 'dtype', resolveDType('rand', options)) });
  return fillUniform(out, 0, 1, options.rng ?? defaultGenerator);
}

/** N(0, 1) samples, as `torch.randn`. */
export function randn(shape: Shape, options: RandomOptions = {}): NDArray {
  checkOptions('randn', options, ['dtype', 'rng']);
  const out = zeros(shape, { dtype: checkFloat('randn', 'dtype', resolveDType('randn', options)) });
  return fillNormal(out, 0, 1, options.rng ?? defaultGenerator);
}

/** U[low, high) samples, as `torch.empty(shape).uniform_(low, high)`. */
export function uniform(shape: Shape, low: number, high: number, options: RandomOptions = {}): NDArray {
  checkOptions('uniform', options, ['dtype', 'rng']);
  if (typeof low !== 'number' || typeof high !== 'number') {
    throw new ValueError(`uniform: low and high must be numbers (uniform(shape, low, high, options)), got low=${describe(low)}, high=${describe(high)}`);
  }
  if (!(low <= high)) throw new ValueError(`uniform: expected low <= high, got low=${low}, high=${high}`);
  const out = zeros(shape, { dtype: checkFloat('uniform', 'dtype', resolveDType('uniform', options)) });
  return fillUniform(out, low, high, options.rng ?? defaultGenerator);
}
