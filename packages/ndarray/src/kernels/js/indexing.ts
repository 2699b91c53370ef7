
import type { GatherArgs, IndexAddArgs, KernelArgs, Kernels, ScatterAddArgs, TakeArgs } from '../types';
import { stridesOf } from '../../shape';
import { host, span } from './host';

/**
 * The output's dimensions as runs over the input: axes of size 1 dropped, and
 * an output axis merged into the one before it where the input steps over
 * both as one (stride of the outer = stride × size of the inner), so
 * [B, T, H, D] → [B, H, T, D] is B·H·T runs of D contiguous values.
 */
function runsOf(shape: readonly number[], axes: readonly number[]): { sizes: number[]; strides: number[] } {
  const inStrides = stridesOf(shape);
  const sizes: number[] = [];
  const strides: number[] = [];
  for (const axis of axes) {
    const size = shape[axis];
    if (size === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && strides[last] === inStrides[axis] * size) {
      sizes[last] *= size;
      strides[last] = inStrides[axis];
    } else {
      sizes.push(size);
      strides.push(inStrides[axis]);
    }
  }
  return { sizes, strides };
}

function permute({ x, axes, out }: KernelArgs<'permute'>): void {
  const src = host(x);
  const dst = host(out);
  if (dst.length === 0) return;
  const { sizes, strides } = runsOf(x.shape, axes);
  const nd = sizes.length;
  if (nd === 0) {
    dst[0] = src[0];
    return;
  }
  if (nd === 2 && strides[0] === 1) {
    // A matrix transpose ([rows, cols] read as [cols, rows]), in cache-friendly tiles.
    const [cols, rows] = sizes;
    const T = 32;
    for (let i0 = 0; i0 < rows; i0 += T) {
      for (let j0 = 0; j0 < cols; j0 += T) {
        const iEnd = Math.min(i0 + T, rows);
        const jEnd = Math.min(j0 + T, cols);
        for (let i = i0; i < iEnd; i++) for (let j = j0; j < jEnd; j++) dst[j * rows + i] = src[i * cols + j];
      }
    }
    return;
  }
  // An odometer over the outer runs; the innermost run is one tight loop.
  const inner = sizes[nd - 1];
  const step = strides[nd - 1];
  const index = new Array<number>(nd).fill(0);
  let offset = 0;
  for (let k = 0; k < dst.length; k += inner) {
    if (step === 1) for (let j = 0; j < inner; j++) dst[k + j] = src[offset + j];
    else for (let j = 0; j < inner; j++) dst[k + j] = src[offset + j * step];
    for (let d = nd - 2; d >= 0; d--) {
      offset += strides[d];
      if (++index[d] < sizes[d]) break;
      offset -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
}

function concat({ inputs, axis, out }: KernelArgs<'concat'>): void {
  const dst = host(out);
  const outer = span(out.shape, 0, axis);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of inputs) {
      const chunk = outer === 0 ? 0 : x.size / outer;
      dst.set(host(x).subarray(o * chunk, (o + 1) * chunk), at);
      at += chunk;
    }
  }
}

/** x viewed as [outer, n, inner] around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [span(shape, 0, axis), shape[axis], span(shape, axis + 1, shape.length)];
}

function take({ x, indices, axis, out }: TakeArgs): void {
  const src = host(x);
  const dst = host(out);
  const idx = host(indices);
  const [outer, n, inner] = around(x.shape, axis);
  const count = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < count; k++) {
      const i = idx[k] < 0 ? idx[k] + n : idx[k];
      const from = (o * n + i) * inner;
      dst.set(src.subarray(from, from + inner), (o * count + k) * inner);
    }
  }
}

function indexAdd({ source, indices, axis, out }: IndexAddArgs): void {
  const src = host(source);
  const dst = host(out);
  const idx = host(indices);
  const [outer, n, inner] = around(out.shape, axis);
  const count = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < count; k++) {
      const i = idx[k] < 0 ? idx[k] + n : idx[k];
      const to = (o * n + i) * inner;
      const from = (o * count + k) * inner;
      for (let j = 0; j < inner; j++) dst[to + j] += src[from + j];
    }
  }
}

/**
 * Visits every element of `indices` (shape `shape`) with its flat position
 * and the flat position, in an array of shape `other` (equal to shape but
 * along `axis`), of the element it picks along `axis`.
 */
function pick(
  shape: readonly number[],
  other: readonly number[],
  axis: number,
  idx: ArrayLike<number>,
  visit: (k: number, at: number) => void,
): void {
  const nd = shape.length;
  const otherStrides = new Array<number>(nd);
  for (let d = nd - 1, s = 1; d >= 0; d--) {
    otherStrides[d] = s;
    s *= other[d];
  }
  const index = new Array<number>(nd).fill(0);
  const n = other[axis];
  let base = 0; // the flat position in `other` of index with index[axis] = 0
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k] < 0 ? idx[k] + n : idx[k];
    visit(k, base + i * otherStrides[axis]);
    for (let d = nd - 1; d >= 0; d--) {
      if (d !== axis) base += otherStrides[d];
      if (++index[d] < shape[d]) break;
      if (d !== axis) base -= otherStrides[d] * shape[d];
      index[d] = 0;
    }
  }
}

function gather({ x, indices, axis, out }: GatherArgs): void {
  const src = host(x);
  const dst = host(out);
  pick(indices.shape, x.shape, axis, host(indices), (k, at) => {
    dst[k] = src[at];
  });
}

function scatterAdd({ source, indices, axis, out }: ScatterAddArgs): void {
  const src = host(source);
  const dst = host(out);
  pick(indices.shape, out.shape, axis, host(indices), (k, at) => {
    dst[at] += src[k];
  });
}

export const indexingKernels = { permute, concat, take, indexAdd, gather, scatterAdd } satisfies Partial<Kernels>;
