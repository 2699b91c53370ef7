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
 * `Math.cos(x)` correctly rounded (as glibc's `cos`, which CPython's
 * `math.cos` calls), for |x| < 2^26; beyond that it is `Math.cos`.
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
