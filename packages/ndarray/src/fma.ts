/**
 * Correctly rounded fused multiply-add, `a * b + c` with one rounding, which
 * JavaScript lacks (there is no Math.fma). PyTorch's CPU kernels are compiled
 * with FMA contraction, so reproducing their results to the last bit (random
 * streams, optimizer updates) needs it.
 */

// Scratch views for reading and nudging a double's bits (little-endian words).
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
f64[0] = 1;
if (u32[1] !== 0x3ff00000) throw new Error('fma: a little-endian host is required');

const fround = Math.fround;
/** 2^27 + 1: Veltkamp's constant that splits a double into two 26-bit halves. */
const SPLIT = 134217729;
/** 2^28 + 1: splits off the top 25 bits, to test for a float32 rounding tie. */
const SPLIT25 = 268435457;
/** The largest float32, and the double halfway between it and 2¹²⁸ (where float32 rounding overflows). */
const FLT_MAX = 3.4028234663852886e38;
const OVERFLOW_MIDPOINT = 2 ** 128 - 2 ** 103;

/**
 * `fl(s)` rounded "to odd" when `s + err` is the exact value: if the sum was
 * inexact and came out even, step one ulp towards the exact value. Round-to-odd
 * makes the second rounding in `fma` behave as if there had been only one.
 */
function roundToOdd(s: number, err: number): number {
  if (err === 0) return s;
  f64[0] = s;
  if ((u32[0] & 1) !== 0) return s;
  if ((err > 0) === (s > 0)) {
    u32[0] += 1; // the low word is even, so it cannot carry
  } else if (u32[0] === 0) {
    u32[0] = 0xffffffff;
    u32[1] -= 1;
  } else {
    u32[0] -= 1;
  }
  return f64[0];
}

/**
 * Correctly rounded `a * b + c` in double precision (C's `fma`), by Boldo and
 * Melquiond's emulation (IEEE Trans. Computers 57(4), 2008, Algorithm 5.4):
 * exact product (Dekker), exact sum with c (Knuth's 2Sum), the two error
 * terms added with round-to-odd, one final rounding. Exact while nothing
 * overflows or underflows; where an operand is infinite or the product
 * overflows, the plain `a * b + c` is returned (it is then the IEEE answer).
 */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const pe = ah * bh - p + ah * bl + al * bh + al * bl; // p + pe === a * b exactly
  const s = p + c;
  const bb = s - p;
  const se = p - (s - bb) + (c - bb); // s + se === p + c exactly
  const v = se + pe;
  const vb = v - se;
  const ve = se - (v - vb) + (pe - vb);
  const r = s + roundToOdd(v, ve);
  return Number.isNaN(r) ? a * b + c : r;
}

/**
 * Correctly rounded `a * b + c` in single precision (`vfmadd*ps`) for float32
 * a, b, c. The product of two floats is exact in a double, so one double
 * addition and one rounding to float are right except when the double sum
 * lands exactly halfway between two floats while the exact sum does not; that
 * tie is detected and broken towards the exact value.
 */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = fround(s);
  if (r === s) return r;
  // Past the float32 range a double with few bits is no midpoint between two floats: only
  // ±(2¹²⁸ − 2¹⁰³), halfway between ±FLT_MAX and the overflow, is (and is broken below).
  if (r === Number.POSITIVE_INFINITY || r === Number.NEGATIVE_INFINITY) {
    if (Math.abs(s) !== OVERFLOW_MIDPOINT) return r;
  }
  const t = SPLIT25 * s;
  if (t - (t - s) !== s) return r; // s has more than 25 significant bits: not a tie
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return r; // a true tie, which fround already breaks to even
  // The float on the other side of the midpoint s (±FLT_MAX where r overflowed).
  const other = Number.isFinite(r) ? 2 * s - r : Math.sign(r) * FLT_MAX;
  // Among subnormals (a fixed step of 2⁻¹⁴⁹) a double of few bits need not lie halfway between
  // two floats; where it does not, 2s − r is no float and fround(s) was already right.
  if (fround(other) !== other) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}
