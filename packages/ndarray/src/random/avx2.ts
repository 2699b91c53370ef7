import { fma, fmaf } from '../fma';
import { glibcCos, glibcLog, glibcSin } from './libm';

const fround = Math.fround;
// Scratch views for reading a float32's bits.
const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

// ----------------------------------------------------------------------------
// torch's AVX2 float32 Box–Muller (native/cpu/DistributionTemplates.h,
// normal_fill_16_AVX2, with log256_ps and sincos256_ps of avx_mathfun.h)
// ----------------------------------------------------------------------------

// The _PS256_CONST values of avx_mathfun.h: double literals rounded to float
// (three written so that they parse to the same double without lint noise).
const SQRTHF = fround(Math.SQRT1_2); // cephes_SQRTHF, 0.707106781186547524
const LOG_P0 = fround(7.0376836292e-2);
const LOG_P1 = fround(-1.151461031e-1);
const LOG_P2 = fround(1.167699874e-1);
const LOG_P3 = fround(-1.2420140846e-1);
const LOG_P4 = fround(1.4249322787e-1);
const LOG_P5 = fround(-1.6668057665e-1);
const LOG_P6 = fround(2.0000714765e-1);
const LOG_P7 = fround(-2.4999993993e-1);
const LOG_P8 = fround(3.3333331174e-1);
const LOG_Q1 = fround(-2.12194440e-4);
const LOG_Q2 = fround(0.693359375);
const MINUS_DP1 = fround(-0.78515625);
const MINUS_DP2 = fround(-2.4187564849853516e-4);
const MINUS_DP3 = fround(-3.774894977445941e-8);
const SINCOF_P0 = fround(-1.9515295891e-4);
const SINCOF_P1 = fround(8.3321608736e-3);
const SINCOF_P2 = fround(-1.6666654611e-1);
const COSCOF_P0 = fround(2.443315711809948e-5);
const COSCOF_P1 = fround(-1.388731625493765e-3);
const COSCOF_P2 = fround(4.166664568298827e-2);
const FOPI = fround(1.27323954473516);
/** `_mm256_set1_ps(2.0f * c10::pi<double>)` */
const TWO_PI_F = fround(2 * Math.PI);
export const TWO_PI = 2 * Math.PI;

/**
 * log256_ps for one lane, x a positive normal float. The fmaf calls are where
 * GCC 12 (`-O2 -mavx2 -mfma`) fuses the intrinsics' multiplies and adds; the
 * result was checked against torch's own output for a million samples.
 */
function logAvx2(x: number): number {
  f32[0] = x;
  const bits = i32[0];
  let e = (bits >>> 23) - 127 + 1;
  i32[0] = (bits & ~0x7f800000) | 0x3f000000; // the mantissa, scaled into [0.5, 1)
  const m = f32[0];
  let v = m - 1; // exact
  if (m < SQRTHF) {
    e -= 1;
    v = m - 1 + m; // exact
  }
  let y = fmaf(LOG_P0, v, LOG_P1);
  y = fmaf(y, v, LOG_P2);
  y = fmaf(y, v, LOG_P3);
  y = fmaf(y, v, LOG_P4);
  y = fmaf(y, v, LOG_P5);
  y = fmaf(y, v, LOG_P6);
  y = fmaf(y, v, LOG_P7);
  y = fmaf(y, v, LOG_P8);
  const z = fround(v * v);
  y = fround(y * v);
  y = fmaf(y, z, fround(e * LOG_Q1));
  y = fround(y - z * 0.5); // z * 0.5 is exact, so the fused form rounds the same
  v = fround(v + y);
  return fmaf(e, LOG_Q2, v);
}

let sinAvx2 = 0;
let cosAvx2 = 0;

/** sincos256_ps for one lane, x >= 0; leaves its results in sinAvx2 / cosAvx2. */
function sincosAvx2(x: number): void {
  let j = Math.trunc(fround(x * FOPI));
  j = (j + 1) & ~1;
  const swapSin = (j & 4) !== 0;
  const polyMask = (j & 2) === 0;
  const negCos = (~(j - 2) & 4) !== 0;
  let r = fmaf(j, MINUS_DP1, x);
  r = fmaf(j, MINUS_DP2, r);
  r = fmaf(j, MINUS_DP3, r);
  const z = fround(r * r);
  let yc = fmaf(COSCOF_P0, z, COSCOF_P1);
  yc = fmaf(yc, z, COSCOF_P2);
  yc = fmaf(fround(z * yc), z, -fround(z * 0.5));
  yc = fround(yc + 1);
  let ys = fmaf(SINCOF_P0, z, SINCOF_P1);
  ys = fmaf(ys, z, SINCOF_P2);
  ys = fmaf(r, fround(z * ys), r);
  // The selection is done with masks and adds of +0, which can turn a -0 into +0.
  const sin2 = polyMask ? ys : 0;
  const sin1 = polyMask ? 0 : yc;
  const s = sin2 + sin1;
  const c = ys - sin2 + (yc - sin1);
  sinAvx2 = swapSin ? -s : s;
  cosAvx2 = negCos ? -c : c;
}

/** normal_fill_16_AVX2: Box–Muller on data[off .. off+16) (uniforms in, normals out). */
export function normalFill16Avx2(data: Float32Array, off: number, mean: number, std: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = 1 - data[off + j]; // exact
    const u2 = data[off + j + 8];
    const radius = fround(Math.sqrt(-2 * logAvx2(u1)));
    sincosAvx2(fround(TWO_PI_F * u2));
    data[off + j] = fmaf(fround(radius * cosAvx2), std, mean);
    data[off + j + 8] = fmaf(fround(radius * sinAvx2), std, mean);
  }
}

/** normal_fill_16<double>: the same transform in double with glibc's log, sin, cos. */
export function normalFill16Double(data: Float64Array, off: number, mean: number, std: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = 1 - data[off + j];
    const u2 = data[off + j + 8];
    const radius = Math.sqrt(-2 * glibcLog(u1));
    const theta = TWO_PI * u2;
    data[off + j] = fma(radius * glibcCos(theta), std, mean);
    data[off + j + 8] = fma(radius * glibcSin(theta), std, mean);
  }
}
