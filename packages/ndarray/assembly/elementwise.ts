// WebAssembly SIMD elementwise kernels for @backprop/ndarray (compiled by
// scripts/build-wasm.mjs into a module of their own, beside the GEMM): the
// ReLU forward and backward passes, which branch on every element in
// TypeScript (a data-dependent branch mispredicts about half the time) and
// here are a compare and a mask, four floats or two doubles at a time.
//
// The host copies operands into linear memory from `dataStart()` on and
// grows the memory first; nothing is allocated here. Results equal the
// TypeScript kernels bit for bit:
//   relu:          out = x if x > 0 or x is NaN, else +0
//   reluBackward:  out = g if y > 0, else +0 (torch's threshold_backward from the output)

export { dataStart } from './common';

/** out[i] = relu(x[i]) over n float32 values at byte addresses x and out (out may be x). */
export function reluF32(x: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const v = v128.load(x + off);
    // Keep lanes that are positive or NaN (NaN != NaN); every other lane becomes +0.
    const keep = v128.or(f32x4.gt(v, zero), f32x4.ne(v, v));
    v128.store(out + off, v128.and(v, keep));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const v = load<f32>(x + off);
    store<f32>(out + off, v > 0 || v != v ? v : 0);
  }
}

/** The same over float64 values. */
export function reluF64(x: usize, out: usize, n: i32): void {
  const zero = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 3;
    const v = v128.load(x + off);
    const keep = v128.or(f64x2.gt(v, zero), f64x2.ne(v, v));
    v128.store(out + off, v128.and(v, keep));
  }
  for (; i < n; i++) {
    const off = <usize>i << 3;
    const v = load<f64>(x + off);
    store<f64>(out + off, v > 0 || v != v ? v : 0);
  }
}

/** out[i] = y[i] > 0 ? g[i] : +0 over n float32 values (out may be g). */
export function reluBackwardF32(g: usize, y: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    v128.store(out + off, v128.and(v128.load(g + off), f32x4.gt(v128.load(y + off), zero)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, load<f32>(y + off) > 0 ? load<f32>(g + off) : 0);
  }
}

/** The same over float64 values. */
export function reluBackwardF64(g: usize, y: usize, out: usize, n: i32): void {
  const zero = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 3;
    v128.store(out + off, v128.and(v128.load(g + off), f64x2.gt(v128.load(y + off), zero)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 3;
    store<f64>(out + off, load<f64>(y + off) > 0 ? load<f64>(g + off) : 0);
  }
}
