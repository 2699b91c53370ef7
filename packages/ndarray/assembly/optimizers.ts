// WebAssembly SIMD kernels of the SGD and Adam/AdamW updates for
// @backprop/ndarray, float32 (compiled by scripts/build-wasm.mjs into a
// module of their own). They compute what src/kernels/js/optimizers.ts
// computes, in the same order of operations, so results are torch 1.13's
// bit for bit: products, sums, quotients and square roots are f32x4 lanes
// (each correctly rounded, as Math.fround of the double result is), and the
// fused multiply-adds of ATen's `add(x, y, alpha)`, `addcmul` and `addcdiv`
// are correctly rounded by `fmaf` below, four lanes at a time.
//
// The host copies operands into linear memory from `dataStart()` on, each
// region padded to 64 bytes, so the kernels run whole vectors over
// ceil(n / 4) lanes of four: the lanes past n read and write padding the
// host never copies back. Nothing is allocated here.

export { dataStart } from './common';

/**
 * a·b + c in double lanes (a, b, c float32 values), rounded to odd: exact
 * product, exact sum by Knuth's 2Sum, and where the double sum was inexact
 * and came out even, one ulp towards the exact value. Rounding that to
 * float32 then rounds once, as a fused multiply-add does (53 ≥ 24 + 2 bits).
 */
@inline
function fmaToOdd(a: v128, b: v128, c: v128): v128 {
  const p = f64x2.mul(a, b); // exact: 24 + 24 bits fit in 53
  const s = f64x2.add(p, c);
  const bb = f64x2.sub(s, p);
  const err = f64x2.add(f64x2.sub(p, f64x2.sub(s, bb)), f64x2.sub(c, bb));
  const even = i64x2.eq(v128.and(s, i64x2.splat(1)), i64x2.splat(0));
  const inexact = f64x2.ne(err, f64x2.splat(0));
  const finite = f64x2.lt(f64x2.abs(s), f64x2.splat(Infinity));
  // +1 where err and s have one sign (away from zero, towards err), −1 where they differ.
  const step = v128.or(i64x2.shr_s(v128.xor(err, s), 63), i64x2.splat(1));
  return i64x2.add(s, v128.and(step, v128.and(v128.and(even, inexact), finite)));
}

/** Correctly rounded a·b + c in four float32 lanes (vfmadd*ps), as ndarray's `fmaf`. */
@inline
function fmaf(a: v128, b: v128, c: v128): v128 {
  const low = fmaToOdd(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b), f64x2.promote_low_f32x4(c));
  const a2 = v128.shuffle<f32>(a, a, 2, 3, 0, 1);
  const b2 = v128.shuffle<f32>(b, b, 2, 3, 0, 1);
  const c2 = v128.shuffle<f32>(c, c, 2, 3, 0, 1);
  const high = fmaToOdd(f64x2.promote_low_f32x4(a2), f64x2.promote_low_f32x4(b2), f64x2.promote_low_f32x4(c2));
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5);
}

// SGD's flags.
const MAXIMIZE = 1;
const DECAY = 2;
const MOMENTUM = 4;
const FIRST = 8;
const UNIT_SCALE = 16;
const NESTEROV = 32;

/**
 * SGD over n float32 values in place (value, buffer), torch's single-tensor
 * order: g = ±grad (+ λθ fused); with momentum b = g on the first step, else
 * g + μb (a plain sum when dampening is 0) or fma((1 − τ), g, μb); g = b, or
 * fma(μ, b, g) with Nesterov; θ = fma(−lr, g, θ).
 */
export function sgdF32(value: usize, grad: usize, buffer: usize, n: i32, negLr: f32, momentum: f32, gradScale: f32, weightDecay: f32, flags: i32): void {
  const vNegLr = f32x4.splat(negLr);
  const vMomentum = f32x4.splat(momentum);
  const vGradScale = f32x4.splat(gradScale);
  const vDecay = f32x4.splat(weightDecay);
  const sign = f32x4.splat(flags & MAXIMIZE ? -1 : 1);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    const theta = v128.load(value + at);
    let g = f32x4.mul(sign, v128.load(grad + at));
    if (flags & DECAY) g = fmaf(vDecay, theta, g);
    if (flags & MOMENTUM) {
      let b = g;
      if (!(flags & FIRST)) {
        const kept = f32x4.mul(v128.load(buffer + at), vMomentum);
        b = flags & UNIT_SCALE ? f32x4.add(g, kept) : fmaf(vGradScale, g, kept);
      }
      v128.store(buffer + at, b);
      g = flags & NESTEROV ? fmaf(vMomentum, b, g) : b;
    }
    v128.store(value + at, fmaf(vNegLr, g, theta));
  }
}

// Adam's flags.
const ADAM_MAXIMIZE = 1;
const L2 = 2;
const DECOUPLED = 4;
const AMSGRAD = 8;

/**
 * Adam/AdamW over n float32 values in place (value, m, v, and vMax with
 * amsgrad), torch's single-tensor order: g = ±grad (+ λθ fused); θ·(1 − lr·λ)
 * for AdamW; m = fma(1 − β₁, g, β₁m); v = fma((1 − β₂)g, g, β₂v);
 * denom = √v̂ / √(1 − β₂ᵗ) + ε; θ + (−stepSize·m) / denom.
 */
export function adamF32(
  value: usize,
  grad: usize,
  m: usize,
  v: usize,
  vMax: usize,
  n: i32,
  l2: f32,
  decay: f32,
  beta1: f32,
  beta2: f32,
  oneMinusBeta1: f32,
  oneMinusBeta2: f32,
  biasCorrection2Sqrt: f32,
  eps: f32,
  negStepSize: f32,
  flags: i32,
): void {
  const sign = f32x4.splat(flags & ADAM_MAXIMIZE ? -1 : 1);
  const vL2 = f32x4.splat(l2);
  const vDecay = f32x4.splat(decay);
  const b1 = f32x4.splat(beta1);
  const b2 = f32x4.splat(beta2);
  const c1 = f32x4.splat(oneMinusBeta1);
  const c2 = f32x4.splat(oneMinusBeta2);
  const root = f32x4.splat(biasCorrection2Sqrt);
  const vEps = f32x4.splat(eps);
  const step = f32x4.splat(negStepSize);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    let theta = v128.load(value + at);
    let g = f32x4.mul(sign, v128.load(grad + at));
    if (flags & L2) g = fmaf(vL2, theta, g);
    if (flags & DECOUPLED) theta = f32x4.mul(theta, vDecay);
    const mi = fmaf(c1, g, f32x4.mul(v128.load(m + at), b1));
    v128.store(m + at, mi);
    // addcmul: (value · g) · g + v, the last two fused
    const vi = fmaf(f32x4.mul(c2, g), g, f32x4.mul(v128.load(v + at), b2));
    v128.store(v + at, vi);
    let second = vi;
    if (flags & AMSGRAD) {
      second = f32x4.max(v128.load(vMax + at), vi);
      v128.store(vMax + at, second);
    }
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(second), root), vEps);
    // addcdiv: θ + (−stepSize · m) / denom
    v128.store(value + at, f32x4.add(theta, f32x4.div(f32x4.mul(step, mi), denom)));
  }
}
