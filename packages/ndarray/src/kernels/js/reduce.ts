/**
 * The TypeScript reductions. Sums accumulate in float64 whatever the dtype and
 * round once into out; every output's inputs are visited in increasing flat
 * order, so a result does not depend on how many axes are reduced at once.
 */
import type { FloatArray, TypedArray } from '../../dtype';
import type { AxisArgs, KernelArgs, Kernels, ReduceArgs } from '../types';
import { host, hostFloat, span } from './host';

let scratch = new Float64Array(256);

/** A float64 scratch of at least `n` elements, zero-filled: grown rarely, never per call. */
function accumulator(n: number, init: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  scratch.fill(init, 0, n);
  return scratch;
}

/**
 * When the reduced axes are one contiguous block, x is [outer, len, inner]
 * around it: the common case, with its own tight loops. Otherwise undefined.
 */
function block(shape: readonly number[], axes: readonly number[]): [number, number, number] | undefined {
  if (axes.length === 0) return [span(shape, 0, shape.length), 1, 1];
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return undefined;
  const first = axes[0];
  const last = axes[axes.length - 1];
  return [span(shape, 0, first), span(shape, first, last + 1), span(shape, last + 1, shape.length)];
}

/** The stride of each of x's dimensions in the (keep-dims) output: 0 along reduced axes. */
function strideMap(shape: readonly number[], axes: readonly number[]): { outStrides: number[] } {
  const nd = shape.length;
  const outStrides = new Array<number>(nd).fill(0);
  for (let d = nd - 1, s = 1; d >= 0; d--) {
    if (axes.includes(d)) continue;
    outStrides[d] = s;
    s *= shape[d];
  }
  return { outStrides };
}

type Combine = 'sum' | 'max' | 'min';

/**
 * acc[outIndex] ⊕= x over x's elements in flat order, for any set of axes.
 * Neighbouring dimensions that are both reduced or both kept are merged, so
 * the innermost run is one tight loop: a row folded into one output (its
 * dimension reduced) or added onto a row of outputs (kept).
 */
function accumulate(x: TypedArray, shape: readonly number[], axes: readonly number[], acc: Float64Array, combine: Combine): void {
  const sizes: number[] = [];
  const reduced: boolean[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const r = axes.includes(d);
    const last = sizes.length - 1;
    if (last >= 0 && reduced[last] === r) sizes[last] *= shape[d];
    else {
      sizes.push(shape[d]);
      reduced.push(r);
    }
  }
  if (sizes.length === 0) {
    if (x.length > 0) acc[0] = fold(combine, acc[0], x, 0, 1);
    return;
  }
  // Strides in the output of every merged dimension (0 where reduced), and the innermost run.
  const nd = sizes.length;
  const outStrides = new Array<number>(nd).fill(0);
  for (let d = nd - 1, s = 1; d >= 0; d--) {
    if (reduced[d]) continue;
    outStrides[d] = s;
    s *= sizes[d];
  }
  const inner = sizes[nd - 1];
  const innerReduced = reduced[nd - 1];
  const rows = x.length / inner;
  const index = new Array<number>(nd).fill(0);
  let o = 0;
  for (let row = 0, at = 0; row < rows; row++, at += inner) {
    if (innerReduced) acc[o] = fold(combine, acc[o], x, at, inner);
    else if (combine === 'sum') for (let j = 0; j < inner; j++) acc[o + j] += x[at + j];
    else {
      const isMax = combine === 'max';
      for (let j = 0; j < inner; j++) {
        const v = x[at + j];
        // A NaN takes over and stays: nothing compares greater or smaller than it.
        if (isMax ? v > acc[o + j] || Number.isNaN(v) : v < acc[o + j] || Number.isNaN(v)) acc[o + j] = v;
      }
    }
    for (let d = nd - 2; d >= 0; d--) {
      o += outStrides[d];
      if (++index[d] < sizes[d]) break;
      o -= outStrides[d] * sizes[d];
      index[d] = 0;
    }
  }
}

/** `start` ⊕ x[at], ⊕ x[at + 1], … in order: n elements folded into one value. */
function fold(combine: Combine, start: number, x: TypedArray, at: number, n: number): number {
  let acc = start;
  const end = at + n;
  if (combine === 'sum') {
    for (let i = at; i < end; i++) acc += x[i];
    return acc;
  }
  const isMax = combine === 'max';
  for (let i = at; i < end; i++) {
    const v = x[i];
    if (isMax ? v > acc || Number.isNaN(v) : v < acc || Number.isNaN(v)) acc = v;
  }
  return acc;
}

function sum({ x, axes, out }: ReduceArgs): void {
  const a = host(x);
  const o = host(out);
  const geometry = block(x.shape, axes);
  if (geometry !== undefined) {
    const [outer, len, inner] = geometry;
    if (inner === 1) {
      for (let r = 0; r < outer; r++) {
        let s = 0;
        for (let i = r * len, end = i + len; i < end; i++) s += a[i];
        o[r] = s;
      }
      return;
    }
    const acc = accumulator(inner, 0);
    for (let r = 0; r < outer; r++) {
      const base = r * len * inner;
      acc.fill(0, 0, inner);
      for (let i = 0; i < len; i++) {
        const row = base + i * inner;
        for (let j = 0; j < inner; j++) acc[j] += a[row + j];
      }
      for (let j = 0; j < inner; j++) o[r * inner + j] = acc[j];
    }
    return;
  }
  const acc = accumulator(o.length, 0);
  accumulate(a, x.shape, axes, acc, 'sum');
  for (let j = 0; j < o.length; j++) o[j] = acc[j];
}

function extremum(isMax: boolean, { x, axes, out }: ReduceArgs): void {
  const a = host(x);
  const o = host(out);
  const geometry = block(x.shape, axes);
  if (geometry !== undefined) {
    const [outer, len, inner] = geometry;
    for (let r = 0; r < outer; r++) {
      const base = r * len * inner;
      for (let j = 0; j < inner; j++) {
        let best = a[base + j];
        for (let i = 1; i < len; i++) {
          const v = a[base + i * inner + j];
          if (Number.isNaN(v)) {
            best = v; // NaN wins, as torch.max
            break;
          }
          if (isMax ? v > best : v < best) best = v;
        }
        o[r * inner + j] = best;
      }
    }
    return;
  }
  const acc = accumulator(o.length, isMax ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
  accumulate(a, x.shape, axes, acc, isMax ? 'max' : 'min');
  for (let j = 0; j < o.length; j++) o[j] = acc[j];
}

function argExtremum(isMax: boolean, { x, axis, out }: AxisArgs): void {
  const a = host(x);
  const o = host(out);
  const outer = span(x.shape, 0, axis);
  const len = x.shape[axis];
  const inner = span(x.shape, axis + 1, x.shape.length);
  for (let r = 0; r < outer; r++) {
    const base = r * len * inner;
    for (let j = 0; j < inner; j++) {
      let best = a[base + j];
      let bestIndex = 0;
      for (let i = 1; i < len && !Number.isNaN(best); i++) {
        const v = a[base + i * inner + j];
        if (Number.isNaN(v) || (isMax ? v > best : v < best)) {
          best = v;
          bestIndex = i;
        }
      }
      o[r * inner + j] = bestIndex;
    }
  }
}

function variance({ x, axes, out, correction }: KernelArgs<'variance'>): void {
  const a = host(x);
  const o = host(out);
  const count = x.size / Math.max(o.length, 1);
  const means = accumulator(2 * o.length, 0);
  const sums = means.subarray(0, o.length);
  const squares = means.subarray(o.length, 2 * o.length);
  const { outStrides } = strideMap(x.shape, axes);
  const nd = x.shape.length;
  const shape = x.shape;
  // Two passes: the mean, then the squared deviations from it.
  for (let pass = 0; pass < 2; pass++) {
    const index = new Array<number>(nd).fill(0);
    let k = 0;
    for (let f = 0; f < a.length; f++) {
      if (pass === 0) sums[k] += a[f];
      else {
        const d = a[f] - sums[k] / count;
        squares[k] += d * d;
      }
      for (let d = nd - 1; d >= 0; d--) {
        k += outStrides[d];
        if (++index[d] < shape[d]) break;
        k -= outStrides[d] * shape[d];
        index[d] = 0;
      }
    }
  }
  // torch divides by max(0, count − correction): too few elements give NaN (or ∞), never a negative variance.
  const divisor = Math.max(0, count - correction);
  for (let j = 0; j < o.length; j++) o[j] = squares[j] / divisor;
}

function logSumExp({ x, axes, out }: ReduceArgs): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  const acc = accumulator(2 * o.length, 0);
  const maxima = acc.subarray(0, o.length);
  const sums = acc.subarray(o.length, 2 * o.length);
  maxima.fill(Number.NEGATIVE_INFINITY);
  accumulate(a, x.shape, axes, maxima, 'max');
  const { outStrides } = strideMap(x.shape, axes);
  const shape = x.shape;
  const nd = shape.length;
  const index = new Array<number>(nd).fill(0);
  let k = 0;
  for (let f = 0; f < a.length; f++) {
    const shift = maxima[k];
    // A row of −∞ sums to 0 (log 0 = −∞); a +∞ maximum stays +∞.
    sums[k] += Number.isFinite(shift) ? Math.exp(a[f] - shift) : a[f] === shift ? 1 : 0;
    for (let d = nd - 1; d >= 0; d--) {
      k += outStrides[d];
      if (++index[d] < shape[d]) break;
      k -= outStrides[d] * shape[d];
      index[d] = 0;
    }
  }
  for (let j = 0; j < o.length; j++) o[j] = maxima[j] + Math.log(sums[j]);
}

function vectorNorm({ x, ord, out }: KernelArgs<'vectorNorm'>): void {
  const a = hostFloat(x);
  let result = 0;
  if (ord === Number.POSITIVE_INFINITY) {
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]);
      if (v > result || Number.isNaN(v)) result = v;
      if (Number.isNaN(result)) break;
    }
  } else if (ord === 2) {
    for (let i = 0; i < a.length; i++) result += a[i] * a[i];
    result = Math.sqrt(result);
  } else if (ord === 1) {
    for (let i = 0; i < a.length; i++) result += Math.abs(a[i]);
  } else {
    for (let i = 0; i < a.length; i++) result += Math.abs(a[i]) ** ord;
    result **= 1 / ord;
  }
  hostFloat(out)[0] = result;
}

function firstOutside({ x, low, high }: KernelArgs<'firstOutside'>): number {
  const a: FloatArray | Int32Array = host(x);
  if (low === -Number.MAX_VALUE && high === Number.MAX_VALUE) {
    // The finite check: NaN and ±∞ times 0 are NaN, which sticks, so a healthy
    // array costs one branch-free pass, and only a bad one a second. Four
    // independent sums, so each addition need not wait for the one before.
    const n = a.length;
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      p0 += a[i] * 0;
      p1 += a[i + 1] * 0;
      p2 += a[i + 2] * 0;
      p3 += a[i + 3] * 0;
    }
    for (; i < n; i++) p0 += a[i] * 0;
    if (p0 + p1 + p2 + p3 === 0) return -1;
  }
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!(v >= low && v <= high)) return i;
  }
  return -1;
}

export const reduceKernels = {
  sum,
  max: (args: ReduceArgs) => extremum(true, args),
  min: (args: ReduceArgs) => extremum(false, args),
  argmax: (args: AxisArgs) => argExtremum(true, args),
  argmin: (args: AxisArgs) => argExtremum(false, args),
  variance,
  logSumExp,
  vectorNorm,
  firstOutside,
} satisfies Partial<Kernels>;
