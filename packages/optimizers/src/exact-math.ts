/**
 * Scalar arithmetic that rounds the way Python's does in torch's optimizers
 * and schedulers, so that float64 results agree with torch to the last bit
 * instead of to 1e-13.
 *
 * Python's `beta ** step` and `math.cos` call glibc, which rounds (almost)
 * correctly; V8's `Math.pow` and `Math.cos` are often one ulp away, and the
 * bias corrections `1 - beta ** t` magnify that ulp a thousandfold. Both are
 * rebuilt here from error-free transformations (double-double arithmetic),
 * which gives the correctly rounded result except in cases too rare to
 * matter. (The per-element updates, with ATen's fused multiply-adds, are
 * `@backprop/ndarray`'s kernels.)
 *
 * @internal Not exported from the package.
 */

/** 2^27 + 1: Dekker's constant that splits a double into two 26-bit halves. */
const SPLITTER = 134217729;

// A double-double number is hi + lo with |lo| <= ulp(hi) / 2. The helpers
// return results through these two module-level slots to stay allocation-free.
let ddHi = 0;
let ddLo = 0;

/** (ah + al) * (bh + bl) into ddHi/ddLo. */
function ddMul(ah: number, al: number, bh: number, bl: number): void {
  const p = ah * bh;
  let t = SPLITTER * ah;
  const ahh = t - (t - ah);
  const ahl = ah - ahh;
  t = SPLITTER * bh;
  const bhh = t - (t - bh);
  const bhl = bh - bhh;
  const e = ahh * bhh - p + ahh * bhl + ahl * bhh + ahl * bhl + (ah * bl + al * bh);
  ddHi = p + e;
  ddLo = e - (ddHi - p);
}

/** (ah + al) + (bh + bl) into ddHi/ddLo. */
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  const s = ah + bh;
  const v = s - ah;
  const e = ah - (s - v) + (bh - v) + al + bl;
  ddHi = s + e;
  ddLo = e - (ddHi - s);
}

/**
 * `base ** n` for a non-negative integer `n`, correctly rounded: what
 * CPython's `base ** float(n)` returns through glibc's `pow`.
 */
export function powInt(base: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isFinite(base)) return base ** n;
  let rh = 1;
  let rl = 0;
  let bh = base;
  let bl = 0;
  let k = n;
  while (k > 0) {
    if (k % 2 === 1) {
      ddMul(rh, rl, bh, bl);
      rh = ddHi;
      rl = ddLo;
    }
    k = Math.floor(k / 2);
    if (k > 0) {
      ddMul(bh, bl, bh, bl);
      bh = ddHi;
      bl = ddLo;
    }
  }
  return rh + rl;
}

/** 1/k! for k = 0..29 as double-doubles [hi0, lo0, hi1, lo1, ...]. */
const INV_FACTORIAL = (() => {
  const out = new Float64Array(60);
  let hi = 1;
  let lo = 0;
  out[0] = 1;
  for (let k = 1; k < 30; k++) {
    // (hi + lo) / k: a first quotient, then the exact remainder divided again.
    const q = hi / k;
    let t = SPLITTER * q;
    const qh = t - (t - q);
    const ql = q - qh;
    t = SPLITTER * k;
    const kh = t - (t - k);
    const kl = k - kh;
    const p = q * k;
    const pe = qh * kh - p + qh * kl + ql * kh + ql * kl;
    const q2 = (hi - p - pe + lo) / k;
    hi = q + q2;
    lo = q2 - (hi - q);
    out[2 * k] = hi;
    out[2 * k + 1] = lo;
  }
  return out;
})();

/**
 * π/2 as a sum of 26-bit pieces (from an exact-integer Machin formula):
 * k · piece is exact for k < 2^27, so x − k·π/2 is formed without error for
 * |x| < 2^26 and kept to ~200 bits.
 */
const PIO2_PARTS = [
  1.5707963109016418, 1.5893254712295857e-8, 6.123233932053594e-17, 6.368317055225283e-25,
  1.0828566716053562e-32, 2.316557719485773e-41, 5.562271104062196e-50, 2.546305778996385e-60,
];

/**
 * `Math.cos(x)` correctly rounded, for |x| < 2^26 (beyond that it is
 * `Math.cos`). CPython's `math.cos` calls glibc's `cos`, which is correctly
 * rounded almost always: about 1 argument in 1,300 differs by an ulp.
 */
export function cos(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < 67108864)) return Math.cos(x);
  const k = Math.round(ax / (Math.PI / 2));
  // r = ax − k·π/2 as a double-double; every k·part is exact.
  let rh = ax - k * PIO2_PARTS[0];
  let rl = 0;
  for (let i = 1; i < PIO2_PARTS.length; i++) {
    ddAdd(rh, rl, -k * PIO2_PARTS[i], 0);
    rh = ddHi;
    rl = ddLo;
  }
  const quadrant = k % 4;
  // z = r², then a Horner sum over the Taylor series in double-double.
  ddMul(rh, rl, rh, rl);
  const zh = ddHi;
  const zl = ddLo;
  const odd = quadrant === 1 || quadrant === 3; // sine series
  const first = odd ? 1 : 0;
  let last = 28 + first;
  let ah = INV_FACTORIAL[2 * last];
  let al = INV_FACTORIAL[2 * last + 1];
  if (((last - first) / 2) % 2 === 1) {
    ah = -ah;
    al = -al;
  }
  for (last -= 2; last >= first; last -= 2) {
    ddMul(ah, al, zh, zl);
    const sign = ((last - first) / 2) % 2 === 1 ? -1 : 1;
    ddAdd(ddHi, ddLo, sign * INV_FACTORIAL[2 * last], sign * INV_FACTORIAL[2 * last + 1]);
    ah = ddHi;
    al = ddLo;
  }
  if (odd) {
    ddMul(ah, al, rh, rl);
    ah = ddHi;
    al = ddLo;
  }
  const value = ah + al;
  // cos(r), −sin(r), −cos(r), sin(r) for quadrants 0..3
  return quadrant === 1 || quadrant === 2 ? -value : value;
}

/** 1/(2j + 1) for j = 0..25 as double-doubles [hi0, lo0, hi1, lo1, ...]: atanh's series coefficients. */
const INV_ODD = (() => {
  const out = new Float64Array(52);
  for (let j = 0; j < 26; j++) {
    const d = 2 * j + 1;
    const q = 1 / d;
    // the remainder 1 − q·d, exactly (q·d as a double-double), divided again
    ddMul(q, 0, d, 0);
    const r = 1 - ddHi - ddLo;
    out[2 * j] = q;
    out[2 * j + 1] = r / d;
  }
  return out;
})();

/** ln 2 as a double-double. */
const LN2_HI = Math.LN2;
const LN2_LO = 2.3190468138462996e-17;

/**
 * `Math.log(x)` correctly rounded (as glibc's `log`, which CPython's
 * `math.log` calls, but for glibc's rare misrounded near-ties), for finite
 * x > 0; otherwise `Math.log`. V8's is an ulp away about once in two
 * hundred, which decides torch's `int(math.log(243, 3))` in
 * CosineAnnealingWarmRestarts.
 */
export function log(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Math.log(x);
  if (x === 1) return 0;
  // x = 2^k · m with m in [√½, √2); scaling by a power of two is exact.
  let k = Math.round(Math.log2(x));
  // 2^1024 overflows: scale the largest numbers in two steps.
  let m = k > 1023 ? x / 2 ** 1023 / 2 ** (k - 1023) : x / 2 ** k;
  if (m < Math.SQRT1_2) {
    m *= 2;
    k -= 1;
  } else if (m >= Math.SQRT2) {
    m /= 2;
    k += 1;
  }
  // s = (m − 1)/(m + 1) as a double-double; m − 1 is exact (Sterbenz), m + 1 a two-sum.
  const num = m - 1;
  const dh = m + 1;
  const dl = m - (dh - 1);
  const q1 = num / dh;
  ddMul(q1, 0, dh, dl);
  const q2 = (num - ddHi - ddLo) / dh;
  const sh = q1 + q2;
  const sl = q2 - (sh - q1);
  // log(m) = 2·atanh(s) = 2s·Σ z^j/(2j + 1), z = s² (< 0.03), by Horner in double-double.
  ddMul(sh, sl, sh, sl);
  const zh = ddHi;
  const zl = ddLo;
  let ah = INV_ODD[50];
  let al = INV_ODD[51];
  for (let j = 24; j >= 0; j--) {
    ddMul(ah, al, zh, zl);
    ddAdd(ddHi, ddLo, INV_ODD[2 * j], INV_ODD[2 * j + 1]);
    ah = ddHi;
    al = ddLo;
  }
  ddMul(ah, al, 2 * sh, 2 * sl);
  const lh = ddHi;
  const ll = ddLo;
  ddMul(k, 0, LN2_HI, LN2_LO);
  ddAdd(ddHi, ddLo, lh, ll);
  return ddHi + ddLo;
}
