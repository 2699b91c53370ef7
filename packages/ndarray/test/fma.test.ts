import { describe, expect, it } from 'vitest';
import { fma, fmaf } from '../src/index';

describe('fma', () => {
  it('rounds a·b + c once where the plain expression rounds twice', () => {
    const a = 1 + 2 ** -30;
    const b = 1 - 2 ** -30;
    expect(a * b - 1).toBe(0); // a·b = 1 − 2^-60 rounds to 1
    expect(fma(a, b, -1)).toBe(-(2 ** -60));
    // The classic double-rounding case: the exact sum sits just above a tie.
    expect(fma(1 + 2 ** -52, 1 + 2 ** -52, -1)).toBe(2 ** -51 + 2 ** -104);
  });
  it('passes infinities and NaN through as a·b + c does', () => {
    expect(fma(Number.POSITIVE_INFINITY, 2, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(fma(1e300, 1e300, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(fma(Number.NaN, 1, 1)).toBeNaN();
    expect(fma(1e300, 1e300, Number.NEGATIVE_INFINITY)).toBeNaN();
  });
});

describe('fmaf', () => {
  it('rounds a·b + c of float32 operands once, to float32', () => {
    const a = 1 + 2 ** -13;
    const b = 1 - 2 ** -13;
    expect(Math.fround(Math.fround(a * b) - 1)).toBe(0); // a·b = 1 − 2^-26 rounds to 1 in float32
    expect(fmaf(a, b, -1)).toBe(-(2 ** -26));
  });
  it('breaks a double-rounding tie towards the exact value', () => {
    // a·b = 3·2^-24·(1 − 2^-36) exactly, so a·b + 1 = 1 + 3·2^-24 − 3·2^-60. The double
    // sum rounds to 1 + 3·2^-24, the float32 midpoint, which fround breaks upwards to
    // even (1 + 2^-22); the exact value lies below the midpoint, so fmaf gives 1 + 2^-23.
    const a = 3 * 2 ** -24 * (1 - 2 ** -18);
    const b = 1 + 2 ** -18;
    expect(Math.fround(a)).toBe(a);
    expect(Math.fround(a * b + 1)).toBe(1 + 2 ** -22);
    expect(fmaf(a, b, 1)).toBe(1 + 2 ** -23);
    expect(fmaf(3, 5, 7)).toBe(22);
  });
  it('rounds a subnormal result once: a double of few bits among subnormals is not taken for a tie', () => {
    // Exact value 2⁻¹³⁹ + 3·2⁻¹⁵² + 12·2⁻¹⁹⁶: nearest float32 2⁻¹³⁹, whose neighbours lie 2⁻¹⁴⁹ away.
    const a = 3229540 * 2 ** -100;
    const b = 16341819 * 2 ** -96;
    const c = 2 ** -139;
    expect([Math.fround(a), Math.fround(b)]).toEqual([a, b]);
    expect(fmaf(a, b, c)).toBe(2 ** -139);
    expect(fmaf(-a, -b, -c)).toBe(-(2 ** -139));
  });
  it('overflows to ±∞ past the float32 range, and rounds the overflow midpoint by the exact value', () => {
    // −2·(−3e38): a product of few bits far past FLT_MAX is no tie, whatever its bit count.
    const big = Math.fround(-3e38);
    expect(fmaf(Math.fround(-1.9999999403953552), big, Math.fround(-0.7901746034622192))).toBe(Number.POSITIVE_INFINITY);
    expect(fmaf(Math.fround(-1.9999999403953552), -big, 0.5)).toBe(Number.NEGATIVE_INFINITY);
    // a·b = 2¹²⁸ − 2¹⁰³ = (2²⁵ − 1)·2¹⁰³ = 18631·1801·2¹⁰³ exactly, the midpoint between FLT_MAX and 2¹²⁸;
    // c nudges the exact sum below or above it.
    const a = 18631 * 2 ** 90;
    const b = 1801 * 2 ** 13;
    expect([Math.fround(a), Math.fround(b)]).toEqual([a, b]);
    expect(a * b).toBe(2 ** 128 - 2 ** 103);
    expect(fmaf(a, b, 0)).toBe(Number.POSITIVE_INFINITY); // the midpoint itself: ties to even, 2¹²⁸, overflows
    expect(fmaf(a, b, -1)).toBe(3.4028234663852886e38); // just below it: FLT_MAX
    expect(fmaf(a, b, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(fmaf(-a, b, 1)).toBe(-3.4028234663852886e38);
    expect(fmaf(-a, b, -1)).toBe(Number.NEGATIVE_INFINITY);
  });
});
