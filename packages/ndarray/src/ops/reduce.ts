import { allocate } from '../dtype';
import { ValueError } from '../errors';
import { getBackend } from '../kernels/index';
import type { ReduceOp } from '../kernels/types';
import { NDArray } from '../ndarray';
import { normalizeAxis } from '../shape';
import { checkArray } from './operand';

/** One axis, several, or all of them (undefined/null). Negative axes count from the end. */
export type Axis = number | readonly number[] | null | undefined;

function resolveAxes(op: string, a: NDArray, axis: Axis): number[] {
  if (axis === undefined || axis === null) return a.shape.map((_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const axes = list.map((ax) => normalizeAxis(op, ax, a.ndim));
  if (new Set(axes).size !== axes.length) {
    throw new ValueError(`${op}: axis [${list.join(', ')}] repeats an axis`);
  }
  return axes.sort((x, y) => x - y);
}

/** [outer, axis, inner] sizes of `shape` around dimension `d`. */
function split(shape: readonly number[], d: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < d; i++) outer *= shape[i];
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[d], inner];
}

function reduceShape(shape: readonly number[], axes: number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

function reduceAxes(op: ReduceOp, a: NDArray, axis: Axis, keepDims: boolean): NDArray {
  checkArray(op, 'input', a);
  const axes = resolveAxes(op, a, axis);
  if (op !== 'sum') {
    for (const ax of axes) {
      if (a.shape[ax] === 0) {
        throw new ValueError(
          `${op}: cannot reduce an empty dimension (axis ${ax} of shape [${a.shape.join(', ')}]); it has no ${op === 'max' ? 'maximum' : 'minimum'}`,
        );
      }
    }
  }
  // Reduce one axis at a time, last first, keeping dims so the others stay in place.
  let current = a;
  let shape = a.shape.slice();
  for (let i = axes.length - 1; i >= 0; i--) {
    const [outer, len, inner] = split(shape, axes[i]);
    const data = allocate(a.dtype, outer * inner);
    getBackend().reduce(op, current.data, outer, len, inner, data);
    shape = shape.slice();
    shape[axes[i]] = 1;
    current = new NDArray(data, shape);
  }
  if (axes.length === 0) current = a.clone();
  return current.reshape(reduceShape(a.shape, axes, keepDims));
}

/** Sum over `axis` (all axes by default), as `numpy.sum(a, axis, keepdims)`. */
export function sum(a: NDArray, axis?: Axis, keepDims = false): NDArray {
  return reduceAxes('sum', a, axis, keepDims);
}

/** Arithmetic mean over `axis` (all by default). The mean of nothing is NaN, as numpy and torch. */
export function mean(a: NDArray, axis?: Axis, keepDims = false): NDArray {
  const total = reduceAxes('sum', a, axis, keepDims);
  const count = a.size / Math.max(total.size, 1);
  const data = total.data;
  for (let i = 0; i < data.length; i++) data[i] /= count;
  return total;
}

/** Maximum over `axis` (all by default); NaN if any element is NaN. */
export function max(a: NDArray, axis?: Axis, keepDims = false): NDArray {
  return reduceAxes('max', a, axis, keepDims);
}

/** Minimum over `axis` (all by default); NaN if any element is NaN. */
export function min(a: NDArray, axis?: Axis, keepDims = false): NDArray {
  return reduceAxes('min', a, axis, keepDims);
}

function argReduce(op: 'argmax' | 'argmin', a: NDArray, axis: number | undefined, keepDims: boolean): NDArray {
  checkArray(op, 'input', a);
  if (a.size === 0) throw new ValueError(`${op}: the array is empty (shape [${a.shape.join(', ')}])`);
  const flat = axis === undefined;
  const source = flat ? a.reshape([a.size]) : a;
  const d = flat ? 0 : normalizeAxis(op, axis, a.ndim);
  const [outer, len, inner] = split(source.shape, d);
  const indices = new Int32Array(outer * inner);
  getBackend().argReduce(op, source.data, outer, len, inner, indices);
  const data = allocate(a.dtype, indices.length);
  data.set(indices);
  const shape = flat ? (keepDims ? a.shape.map(() => 1) : []) : reduceShape(a.shape, [d], keepDims);
  return new NDArray(data, shape);
}

/**
 * Index of the first maximum along `axis` (of the flattened array when no axis
 * is given), as `numpy.argmax`. The indices come back as an array of the
 * input's dtype: exact for any dimension below 2^24 elements.
 */
export function argmax(a: NDArray, axis?: number, keepDims = false): NDArray {
  return argReduce('argmax', a, axis, keepDims);
}

/** Index of the first minimum along `axis`, as `numpy.argmin`. */
export function argmin(a: NDArray, axis?: number, keepDims = false): NDArray {
  return argReduce('argmin', a, axis, keepDims);
}

/**
 * log(Σ exp(a)) over `axis`, computed as m + log Σ exp(a − m) with m the
 * maximum, so it is finite wherever the answer is (`torch.logsumexp`).
 */
export function logSumExp(a: NDArray, axis?: Axis, keepDims = false): NDArray {
  checkArray('logSumExp', 'input', a);
  const axes = resolveAxes('logSumExp', a, axis);
  const m = reduceAxes('max', a, axes, true);
  // exp(a - m) with m broadcast back over the reduced axes.
  const shifted = new NDArray(a.data.slice(), a.shape);
  const mShape = m.shape;
  const mStrides = mShape.map((_, i) => mShape.slice(i + 1).reduce((p, x) => p * x, 1));
  const aStrides = a.strides;
  const data = shifted.data;
  for (let flat = 0; flat < data.length; flat++) {
    let mIndex = 0;
    let rest = flat;
    for (let d = 0; d < a.ndim; d++) {
      const i = Math.floor(rest / aStrides[d]);
      rest -= i * aStrides[d];
      if (mShape[d] !== 1) mIndex += i * mStrides[d];
    }
    const shift = m.data[mIndex];
    // A row of -Infinity sums to 0 (log 0 = -Infinity); a +Infinity max stays +Infinity.
    data[flat] = Number.isFinite(shift) ? Math.exp(data[flat] - shift) : data[flat] === shift ? 1 : 0;
  }
  const s = reduceAxes('sum', shifted, axes, true);
  for (let i = 0; i < s.data.length; i++) s.data[i] = m.data[i] + Math.log(s.data[i]);
  return s.reshape(reduceShape(a.shape, axes, keepDims));
}
