/**
 * `@backprop/ndarray/test`: what every package's tests share (and what a
 * contributor's own package can use): one definition of "within 1e-10 of
 * PyTorch", fixture loading, seeded test data, finite differences, and
 * counters that show what a training step allocates and reads back. It
 * throws plain Errors, so it works under any test runner.
 */
import { readFileSync } from 'node:fs';
import { array } from '../creation';
import type { DType, TypedArray } from '../dtype';
import { NDArray } from '../ndarray';

/**
 * The project's tolerances against PyTorch: float64 results within 1e-10
 * relative, float32 within 1e-5, as {@link relativeError} measures.
 */
export const TOLERANCE: Readonly<Record<'float32' | 'float64', number>> = { float64: 1e-10, float32: 1e-5 };

/**
 * How far below the array's largest |value| an entry's own magnitude stops
 * being the yardstick. float64 entries are judged elementwise (down to 1e-6
 * of the largest value). float32 entries are judged against the largest value
 * (normwise relative error, ‖a − e‖∞ / ‖e‖∞): a float32 entry that is a sum of
 * many O(1) terms cancelling to 1e-3 carries float32 round-off of the terms,
 * about 1e-7, which is 1e-4 of the entry itself whatever order torch or we
 * sum in, so an elementwise test would measure summation order, not
 * correctness.
 */
export const FLOOR: Readonly<Record<'float32' | 'float64', number>> = { float64: 1e-6, float32: 1 };

/** A tensor as tools/torch-fixtures/common.py writes it. */
export interface FixtureTensor {
  shape: number[];
  dtype: DType | 'int64';
  data: number[];
}

/** Reads a JSON fixture: `readFixture(new URL('./fixtures/linear.json', import.meta.url))`. */
export function readFixture<T>(url: URL): T {
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

/** A fixture tensor as an NDArray of its dtype (int64 targets become int32), or of `dtype` (torch's `.to()`). */
export function fromFixture(t: FixtureTensor, dtype?: DType): NDArray {
  const target: DType = dtype ?? (t.dtype === 'int64' ? 'int32' : t.dtype);
  return array(t.data, { shape: t.shape, dtype: target });
}

/** Values to compare: an NDArray, a fixture tensor, or a plain list (compared in float64 terms). */
export type Comparable = NDArray | FixtureTensor | ArrayLike<number>;

function elements(value: Comparable): ArrayLike<number> {
  if (value instanceof NDArray) return value.data;
  if (isFixture(value)) return value.data;
  return value;
}

function isFixture(value: unknown): value is FixtureTensor {
  return typeof value === 'object' && value !== null && Array.isArray((value as FixtureTensor).shape) && Array.isArray((value as FixtureTensor).data);
}

function dtypeOfComparable(value: Comparable): 'float32' | 'float64' {
  const dtype = value instanceof NDArray || isFixture(value) ? value.dtype : 'float64';
  return dtype === 'float32' ? 'float32' : 'float64';
}

/**
 * The worst relative error of `actual` against `expected`,
 * |a − e| / max(|e|, floor · max|e|) with the dtype's {@link FLOOR}, and
 * where it is (NaN anywhere is an infinite error unless both are NaN).
 */
export function relativeError(
  actual: Comparable,
  expected: Comparable,
  floorFraction = FLOOR[dtypeOfComparable(expected)],
): { error: number; index: number } {
  const a = elements(actual);
  const e = elements(expected);
  let scale = 0;
  for (let i = 0; i < e.length; i++) if (Number.isFinite(e[i])) scale = Math.max(scale, Math.abs(e[i]));
  const floor = Math.max(scale * floorFraction, Number.MIN_VALUE);
  let error = 0;
  let index = -1;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    let err: number;
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) err = 0;
    else if (!Number.isFinite(x) || !Number.isFinite(y)) err = Number.POSITIVE_INFINITY;
    else err = Math.abs(x - y) / Math.max(Math.abs(y), floor);
    if (err > error) {
      error = err;
      index = i;
    }
  }
  return { error, index };
}

/** The worst errors seen by {@link assertClose}, per dtype, for suites that report them. */
export const worstSeen: Record<'float32' | 'float64', { error: number; label: string }> = {
  float64: { error: 0, label: '' },
  float32: { error: 0, label: '' },
};

/**
 * Throws unless `actual` matches `expected` (an NDArray or a torch fixture)
 * in shape, dtype and values within the dtype's {@link TOLERANCE}, naming the
 * worst entry; returns the worst relative error.
 */
export function assertClose(actual: NDArray, expected: NDArray | FixtureTensor, label: string, tolerance?: number): number {
  const want = expected instanceof NDArray ? expected : fromFixture(expected);
  if (actual.shape.length !== want.shape.length || actual.shape.some((d, i) => d !== want.shape[i])) {
    throw new Error(`${label}: shape [${actual.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
  }
  if (actual.dtype !== want.dtype) throw new Error(`${label}: dtype ${actual.dtype}, expected ${want.dtype}`);
  const dtype = want.dtype === 'float32' ? 'float32' : 'float64';
  const { error, index } = relativeError(actual, want);
  if (error > worstSeen[dtype].error) worstSeen[dtype] = { error, label };
  const limit = tolerance ?? TOLERANCE[dtype];
  if (!(error < limit) && error !== 0) {
    throw new Error(
      `${label}: worst relative error ${error} at flat index ${index}: got ${actual.data[index]}, expected ${want.data[index]} (tolerance ${limit})`,
    );
  }
  return error;
}

/** Throws unless one number is within the dtype's tolerance of another (relative). */
export function assertNumberClose(actual: number, expected: number, dtype: 'float32' | 'float64', label: string): number {
  const error = Object.is(actual, expected) ? 0 : Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
  if (!(error < TOLERANCE[dtype])) {
    throw new Error(`${label}: got ${actual}, expected ${expected} (relative error ${error}, tolerance ${TOLERANCE[dtype]})`);
  }
  return error;
}

/** Throws unless `actual` equals `expected` bit for bit (NaN equals NaN; +0 and −0 differ), naming the first difference. */
export function assertBitwiseEqual(actual: Comparable, expected: Comparable, label: string): void {
  const a = elements(actual);
  const e = elements(expected);
  if (a.length !== e.length) throw new Error(`${label}: ${a.length} elements, expected ${e.length}`);
  for (let i = 0; i < e.length; i++) {
    if (!Object.is(a[i], e[i]) && !(Number.isNaN(a[i]) && Number.isNaN(e[i]))) {
      throw new Error(`${label}: first difference at flat index ${i}: got ${a[i]}, expected ${e[i]}`);
    }
  }
}

/** A deterministic pseudo-random source for test data (an LCG; not the library's generators). */
export function testRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** An array of `shape` with values uniform in [low, high) from `next`. */
export function randomArray(shape: readonly number[], dtype: 'float32' | 'float64', next: () => number, low = -2, high = 2): NDArray {
  const size = shape.reduce((p, d) => p * d, 1);
  const data = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = low + (high - low) * next();
  return array(data, { shape: [...shape] });
}

/**
 * Central finite differences of `f` at `x` (float64 on the host): for every
 * element, (f(x + hεᵢ) − f(x − hεᵢ)) / 2h, restoring x afterwards.
 */
export function numericGradient(f: (x: NDArray) => number, x: NDArray, h = 1e-6): Float64Array {
  const data = x.data;
  const out = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const old = data[i];
    data[i] = old + h;
    const plus = f(x);
    data[i] = old - h;
    const minus = f(x);
    data[i] = old;
    out[i] = (plus - minus) / (2 * h);
  }
  return out;
}

/** What {@link countTypedArrays} counted. */
export interface TypedArrayCounts {
  /** Typed arrays with memory of their own (a length, or a copy). */
  owning: number;
  owningBytes: number;
  /** Views on existing memory (`subarray`, `new Float32Array(buffer, …)`). */
  views: number;
}

/**
 * Counts the float and int32 typed arrays created while `run` runs, by
 * standing in for their global constructors and their prototypes'
 * `constructor` (through which `slice` and `subarray` create): what a
 * training step allocates.
 */
export function countTypedArrays(run: () => void): TypedArrayCounts {
  const counts: TypedArrayCounts = { owning: 0, owningBytes: 0, views: 0 };
  const originals = { Float32Array, Float64Array, Int32Array } as const;
  type Ctor = typeof Float32Array | typeof Float64Array | typeof Int32Array;
  const wrap = <T extends Ctor>(ctor: T): T =>
    new Proxy(ctor, {
      construct(target, args) {
        const made = Reflect.construct(target, args) as TypedArray;
        if (args[0] instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && args[0] instanceof SharedArrayBuffer)) {
          counts.views++;
        } else {
          counts.owning++;
          counts.owningBytes += made.byteLength;
        }
        return made;
      },
    });
  const globals = globalThis as Record<string, unknown>;
  const names = ['Float32Array', 'Float64Array', 'Int32Array'] as const;
  for (const name of names) {
    const wrapped = wrap(originals[name]);
    globals[name] = wrapped;
    originals[name].prototype.constructor = wrapped;
  }
  try {
    run();
  } finally {
    for (const name of names) {
      globals[name] = originals[name];
      (originals[name].prototype as { constructor: unknown }).constructor = originals[name];
    }
  }
  return counts;
}

/**
 * Counts the reads of `NDArray.data` while `run` runs. Kernels reach an
 * array's memory through `storage`; `.data` is the user's (and the argument
 * checks') way in, so a training step that reads it 0 times computes
 * entirely through ops, and a backend whose memory is a GPU's would have
 * nothing to read back.
 */
export function countDataReads(run: () => void): number {
  return dataReads(run).length;
}

/** The arrays whose `NDArray.data` is read while `run` runs, one entry a read, in order. */
export function dataReads(run: () => void): NDArray[] {
  const descriptor = Object.getOwnPropertyDescriptor(NDArray.prototype, 'data');
  if (descriptor?.get === undefined) throw new Error('dataReads: NDArray.prototype.data is not a getter');
  const get = descriptor.get;
  const read: NDArray[] = [];
  Object.defineProperty(NDArray.prototype, 'data', {
    ...descriptor,
    get(this: NDArray) {
      read.push(this);
      return get.call(this);
    },
  });
  try {
    run();
  } finally {
    Object.defineProperty(NDArray.prototype, 'data', descriptor);
  }
  return read;
}

export { type BoxedBackend, createBoxedBackend } from './boxed-backend';
export { type ConformanceOptions, type SuiteApi, conformanceKernels, conformanceSuite } from './conformance';
