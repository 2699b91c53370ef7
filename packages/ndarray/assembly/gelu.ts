// WebAssembly kernels of the exact GELU, x·Φ(x), and its backward for
// @backprop/ndarray (compiled by scripts/build-wasm.mjs into a module of its
// own), float32 and float64. They compute what src/kernels/js/elementwise.ts
// computes, in double precision, operation for operation: erf is
// src/kernels/js/erf.ts (fdlibm's s_erf.c), and exp is fdlibm's e_exp.c,
// which is what V8 (and so Node and Chrome) computes for Math.exp; float32
// values are widened, computed in double and rounded once, as a Float32Array
// store rounds. So results equal the TypeScript kernels' bit for bit where
// the engine's Math.exp is fdlibm's (V8, SpiderMonkey).
//
// The host copies operands into linear memory from `dataStart()` on and
// grows the memory first; nothing is allocated here.

export { dataStart } from './common';

// erf's constants, as src/kernels/js/erf.ts names them.
const EFX: f64 = 0.1283791670955126;
const PP0: f64 = 0.12837916709551256;
const PP1: f64 = -0.3250421072470015;
const PP2: f64 = -0.02848174957559851;
const PP3: f64 = -0.005770270296489442;
const PP4: f64 = -0.000023763016656650163;
const QQ1: f64 = 0.39791722395915535;
const QQ2: f64 = 0.0650222499887673;
const QQ3: f64 = 0.005081306281875766;
const QQ4: f64 = 0.00013249473800432164;
const QQ5: f64 = -0.000003960228278775368;
const ERX: f64 = 0.8450629115104675;
const PA0: f64 = -0.0023621185607526594;
const PA1: f64 = 0.41485611868374833;
const PA2: f64 = -0.3722078760357013;
const PA3: f64 = 0.31834661990116175;
const PA4: f64 = -0.11089469428239668;
const PA5: f64 = 0.035478304325618236;
const PA6: f64 = -0.002166375594868791;
const QA1: f64 = 0.10642088040084423;
const QA2: f64 = 0.540397917702171;
const QA3: f64 = 0.07182865441419627;
const QA4: f64 = 0.12617121980876164;
const QA5: f64 = 0.01363708391202905;
const QA6: f64 = 0.011984499846799107;
const RA0: f64 = -0.009864944034847148;
const RA1: f64 = -0.6938585727071818;
const RA2: f64 = -10.558626225323291;
const RA3: f64 = -62.375332450326006;
const RA4: f64 = -162.39666946257347;
const RA5: f64 = -184.60509290671104;
const RA6: f64 = -81.2874355063066;
const RA7: f64 = -9.814329344169145;
const SA1: f64 = 19.651271667439257;
const SA2: f64 = 137.65775414351904;
const SA3: f64 = 434.56587747522923;
const SA4: f64 = 645.3872717332679;
const SA5: f64 = 429.00814002756783;
const SA6: f64 = 108.63500554177944;
const SA7: f64 = 6.570249770319282;
const SA8: f64 = -0.0604244152148581;
const RB0: f64 = -0.0098649429247001;
const RB1: f64 = -0.799283237680523;
const RB2: f64 = -17.757954917754752;
const RB3: f64 = -160.63638485582192;
const RB4: f64 = -637.5664433683896;
const RB5: f64 = -1025.0951316110772;
const RB6: f64 = -483.5191916086514;
const SB1: f64 = 30.33806074348246;
const SB2: f64 = 325.7925129965739;
const SB3: f64 = 1536.729586084437;
const SB4: f64 = 3199.8582195085955;
const SB5: f64 = 2553.0504064331644;
const SB6: f64 = 474.52854120695537;
const SB7: f64 = -22.44095244658582;
const SPLIT: f64 = 2.8571434020996094;
const SMALL: f64 = 3.725290298461914e-9; // 2⁻²⁸

// fdlibm e_exp.c's constants.
const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e0;
const P1: f64 = 1.66666666666666019037e-1;
const P2: f64 = -2.77777777770155933842e-3;
const P3: f64 = 6.61375632143793436117e-5;
const P4: f64 = -1.65339022054652515390e-6;
const P5: f64 = 4.13813679705723846039e-8;
const O_THRESHOLD: f64 = 7.09782712893383973096e2;
const U_THRESHOLD: f64 = -7.45133219101941108420e2;
const TWO_M1000: f64 = 9.33263618503218878990e-302; // 2⁻¹⁰⁰⁰

/** e^x, fdlibm's e_exp.c: x = k·ln2 + r, |r| ≤ ln2/2, a rational approximation of e^r, scaled by 2^k. */
function exp(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  const negative = <i32>(bits >> 63);
  const hx = <u32>(bits >> 32) & 0x7fffffff;
  if (hx >= 0x40862e42) {
    // |x| ≥ 709.78…: NaN, ±∞, or past overflow or underflow.
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | <u32>bits) != 0) return x + x;
      return negative ? 0 : x;
    }
    if (x > O_THRESHOLD) return Infinity;
    if (x < U_THRESHOLD) return 0;
  }
  let hi: f64 = 0;
  let lo: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3fd62e42) {
    // |x| > ln2/2: reduce.
    if (hx < 0x3ff0a2b2) {
      hi = negative ? x + LN2_HI : x - LN2_HI;
      lo = negative ? -LN2_LO : LN2_LO;
      k = negative ? -1 : 1;
    } else {
      k = <i32>(INV_LN2 * x + (negative ? -0.5 : 0.5));
      const t = <f64>k;
      hi = x - t * LN2_HI; // exact
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    return 1 + x; // |x| < 2⁻²⁸
  }
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1 - ((x * c) / (c - 2.0) - x);
  const y = 1 - (lo - (x * c) / (2.0 - c) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * 8.98846567431158e307; // 2¹⁰²³
    return y * reinterpret<f64>(<u64>(0x3ff + k) << 52);
  }
  return y * reinterpret<f64>(<u64>(0x3ff + k + 1000) << 52) * TWO_M1000;
}

/** erf(x) in double precision: src/kernels/js/erf.ts, line for line. */
function erf(x: f64): f64 {
  if (x != x) return x;
  const ax = abs(x);
  if (ax < 0.84375) {
    if (ax < SMALL) return x + EFX * x;
    const z = x * x;
    const r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    const s = 1 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    return x + x * (r / s);
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
    const q = 1 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
    return x >= 0 ? ERX + p / q : -ERX - p / q;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1;
  const s = 1 / (ax * ax);
  let r: f64;
  let q: f64;
  if (ax < SPLIT) {
    r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
    q = 1 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
  } else {
    r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
    q = 1 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
  }
  const unit: f64 = ax < 2 ? 9.5367431640625e-7 : ax < 4 ? 1.9073486328125e-6 : 3.814697265625e-6; // 2⁻²⁰, 2⁻¹⁹, 2⁻¹⁸
  const z = Math.floor(ax / unit) * unit;
  const e = exp(-z * z - 0.5625) * exp((z - ax) * (z + ax) + r / q);
  return x >= 0 ? 1 - e / ax : e / ax - 1;
}

const SQRT1_2: f64 = 0.7071067811865476;
/** 1/√(2π), as src/kernels/js/elementwise.ts's GELU_PDF_BETA. */
const PDF_BETA: f64 = 1.1283791670955126 * 0.7071067811865476 * 0.5;

@inline
function geluAt(v: f64): f64 {
  return v * 0.5 * (1 + erf(v * SQRT1_2));
}

@inline
function geluGradAt(g: f64, v: f64): f64 {
  const cdf = 0.5 * (1 + erf(v * SQRT1_2));
  const pdf = PDF_BETA * exp(v * v * -0.5);
  return g * (cdf + v * pdf);
}

/** out[i] = x[i]·Φ(x[i]) over n values at byte addresses x and out. */
export function geluF32(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, <f32>geluAt(<f64>load<f32>(x + at)));
  }
}
export function geluF64(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(out + at, geluAt(load<f64>(x + at)));
  }
}

/** out[i] = g[i]·(Φ(x[i]) + x[i]·φ(x[i])). */
export function geluBackwardF32(g: usize, x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, <f32>geluGradAt(<f64>load<f32>(g + at), <f64>load<f32>(x + at)));
  }
}
export function geluBackwardF64(g: usize, x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 3;
    store<f64>(out + at, geluGradAt(load<f64>(g + at), load<f64>(x + at)));
  }
}

/** e^x and erf(x), for the tests that hold them to Math.exp and src/kernels/js/erf.ts. */
export function expF64(x: f64): f64 {
  return exp(x);
}
export function erfF64(x: f64): f64 {
  return erf(x);
}
