// WebAssembly kernels of max pooling for @backprop/ndarray (compiled by
// scripts/build-wasm.mjs into a module of their own, beside conv.ts's):
// forward (the maximum of each window and its position) and backward, in
// float32 and float64; the common 2×2, stride 2 window four float32 outputs
// at a time.
//
// As in conv.ts, the host copies operands into linear memory from
// `dataStart()` on, the geometry a record of int32 fields, and every entry
// takes the record's address, then its inputs', then its outputs'. Results
// equal the TypeScript kernels (src/kernels/js/pool.ts) bit for bit: the
// same values are compared, in the same order, by the same rule.

import { dataStart, field } from './common';

export { dataStart };

// Pool2dGeometry's fields, by index in the record.
const PLANES = 0;
const HEIGHT = 1;
const WIDTH = 2;
const KERNEL_H = 3;
const KERNEL_W = 4;
const STRIDE_H = 5;
const STRIDE_W = 6;
const PAD_H = 7;
const PAD_W = 8;
const OUT_H = 9;
const OUT_W = 10;

/** The maximum of one window and its flat position in the plane: into out[k] and indices[k]. */
@inline
function poolWindow<T>(input: usize, width: i32, y0: i32, y1: i32, x0: i32, x1: i32, out: usize, indices: usize, k: usize): void {
  const size = <usize>sizeof<T>();
  // As torch: start at −∞ and the window's first input, so an all −∞ window points there.
  let best = <T>-Infinity;
  let index = y0 * width + x0;
  for (let y = y0; y < y1; y++) {
    for (let i = y * width + x0, end = y * width + x1; i < end; i++) {
      const v = load<T>(input + <usize>i * size);
      // `>` keeps the first of equal maxima; a NaN always takes over, so the last NaN wins.
      if (v > best || v != v) {
        best = v;
        index = i;
      }
    }
  }
  store<T>(out + k * size, best);
  store<i32>(indices + (k << 2), index);
}

/**
 * Four outputs of a 2×2, stride 2 window at once (float32): the four
 * candidates of each window, deinterleaved into lanes, are taken in the
 * scalar loop's order with its rule (greater, or NaN), so values and indices
 * are the scalar loop's.
 */
@inline
function pool2x2F32(input: usize, width: i32, oy: i32, ox: i32, out: usize, indices: usize, k: usize): void {
  const top = input + (<usize>(2 * oy * width + 2 * ox) << 2);
  const bottom = top + (<usize>width << 2);
  const t0 = v128.load(top);
  const t1 = v128.load(top, 16);
  const b0 = v128.load(bottom);
  const b1 = v128.load(bottom, 16);
  const first = i32x4.add(i32x4.splat(2 * oy * width + 2 * ox), i32x4(0, 2, 4, 6));
  let best = v128.shuffle<f32>(t0, t1, 0, 2, 4, 6);
  let index = first;
  let candidate = v128.shuffle<f32>(t0, t1, 1, 3, 5, 7);
  let take = v128.or(f32x4.gt(candidate, best), f32x4.ne(candidate, candidate));
  best = v128.bitselect(candidate, best, take);
  index = v128.bitselect(i32x4.add(first, i32x4.splat(1)), index, take);
  candidate = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
  take = v128.or(f32x4.gt(candidate, best), f32x4.ne(candidate, candidate));
  best = v128.bitselect(candidate, best, take);
  index = v128.bitselect(i32x4.add(first, i32x4.splat(width)), index, take);
  candidate = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
  take = v128.or(f32x4.gt(candidate, best), f32x4.ne(candidate, candidate));
  best = v128.bitselect(candidate, best, take);
  index = v128.bitselect(i32x4.add(first, i32x4.splat(width + 1)), index, take);
  v128.store(out + (k << 2), best);
  v128.store(indices + (k << 2), index);
}

/** Max pooling: out and indices [planes, OH, OW]; an index is the flat position within its plane. */
function maxPool<T>(g: usize, x: usize, out: usize, indices: usize): void {
  const size = <usize>sizeof<T>();
  const planes = field(g, PLANES);
  const height = field(g, HEIGHT);
  const width = field(g, WIDTH);
  const kernelH = field(g, KERNEL_H);
  const kernelW = field(g, KERNEL_W);
  const strideH = field(g, STRIDE_H);
  const strideW = field(g, STRIDE_W);
  const padH = field(g, PAD_H);
  const padW = field(g, PAD_W);
  const outH = field(g, OUT_H);
  const outW = field(g, OUT_W);
  // The common 2×2, stride 2 window without padding runs four float32 outputs at a time,
  // over the columns whose windows lie whole inside the plane.
  const pairs = sizeof<T>() == 4 && kernelH == 2 && kernelW == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0;
  const whole = pairs ? min(outW, width / 2) : 0;
  let k: usize = 0;
  for (let plane = 0; plane < planes; plane++) {
    const input = x + <usize>(plane * height * width) * size;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = max(oy * strideH - padH, 0);
      const y1 = min(oy * strideH - padH + kernelH, height);
      let ox = 0;
      if (y1 - y0 == 2) {
        for (; ox + 4 <= whole; ox += 4, k += 4) pool2x2F32(input, width, oy, ox, out, indices, k);
      }
      for (; ox < outW; ox++, k++) {
        const x0 = max(ox * strideW - padW, 0);
        const x1 = min(ox * strideW - padW + kernelW, width);
        poolWindow<T>(input, width, y0, y1, x0, x1, out, indices, k);
      }
    }
  }
}

/** Max pooling's backward: dx [planes, H, W] = each gradient added at its window's argmax (dx overwritten). */
function maxPoolBackward<T>(g: usize, grad: usize, indices: usize, dx: usize): void {
  const size = <usize>sizeof<T>();
  const planeSize = field(g, HEIGHT) * field(g, WIDTH);
  const perPlane = field(g, OUT_H) * field(g, OUT_W);
  const planes = field(g, PLANES);
  memory.fill(dx, 0, <usize>(planes * planeSize) * size);
  let k: usize = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = dx + <usize>(plane * planeSize) * size;
    for (let j = 0; j < perPlane; j++, k++) {
      const at = base + <usize>load<i32>(indices + (k << 2)) * size;
      store<T>(at, load<T>(at) + load<T>(grad + k * size));
    }
  }
}

// The entries: the geometry record's address, then the inputs', then the outputs'.
export function maxPoolF32(g: usize, x: usize, out: usize, indices: usize): void {
  maxPool<f32>(g, x, out, indices);
}
export function maxPoolF64(g: usize, x: usize, out: usize, indices: usize): void {
  maxPool<f64>(g, x, out, indices);
}
export function maxPoolBackwardF32(g: usize, grad: usize, indices: usize, dx: usize): void {
  maxPoolBackward<f32>(g, grad, indices, dx);
}
export function maxPoolBackwardF64(g: usize, grad: usize, indices: usize, dx: usize): void {
  maxPoolBackward<f64>(g, grad, indices, dx);
}
