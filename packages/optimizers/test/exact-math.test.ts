import { describe, expect, test } from 'vitest';
import { fma as fma64, fmaf as fma32 } from '@backprop/ndarray';
import { cos, log, powInt } from '../src/exact-math';
import { loadFixture } from './helpers';

/** Correctly rounded values (exact rationals or 300-bit mpmath) next to CPython's (glibc's). */
const fixture = loadFixture<{
  pow: [number, number, number, number][];
  cos: [number, number, number][];
  fma: [number, number, number, number][];
  log: [number, number, number][];
}>('exact-math');

describe('log', () => {
  test('is correctly rounded on powers, their neighbours and random values, over the whole range', () => {
    const wrong = fixture.log.filter(([x, exact]) => log(x) !== exact);
    expect(wrong).toEqual([]);
  });

  test("equals glibc's (CPython's math.log) but where glibc misrounds a near-tie, which Math.log does not reach", () => {
    const differ = fixture.log.filter(([x, , glibc]) => log(x) !== glibc);
    expect(differ.length).toBeLessThanOrEqual(2);
    expect(fixture.log.filter(([x, , glibc]) => Math.log(x) !== glibc).length).toBeGreaterThan(differ.length);
  });

  test("decides torch's int(math.log(243, 3)) as glibc does: 4", () => {
    expect(Math.trunc(log(243) / log(3))).toBe(4);
    expect(log(1)).toBe(0);
    expect(Number.isNaN(log(-1))).toBe(true);
    expect(log(0)).toBe(Number.NEGATIVE_INFINITY);
  });
});

// The update kernels' fma is @backprop/ndarray's fma/fmaf; these pin down, on this package's
// fixture of exact rational results, what the updates rely on.
describe('fma at float64 and float32', () => {
  test('rounds a·b + c once, where the plain expression rounds twice', () => {
    const a = 1 + 2 ** -30;
    const b = 1 - 2 ** -30;
    // a·b = 1 − 2^-60 exactly, which a double product rounds to 1.
    expect(a * b - 1).toBe(0);
    expect(fma64(a, b, -1)).toBe(-(2 ** -60));
  });

  test('matches the exact rational result on random and cancelling cases', () => {
    const wrong = fixture.fma.filter(([a, b, c, exact]) => fma64(a, b, c) !== exact);
    expect(wrong).toEqual([]);
  });

  test('passes infinities and NaN through as a·b + c does', () => {
    expect(fma64(Number.POSITIVE_INFINITY, 2, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(fma64(1e300, 1e300, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(fma64(Number.NaN, 1, 1)).toBeNaN();
    expect(fma64(1e300, 1e300, Number.NEGATIVE_INFINITY)).toBeNaN();
  });

  test('fma32 rounds a·b + c of float32 operands once, to float32', () => {
    const a = 1 + 2 ** -13;
    const b = 1 - 2 ** -13;
    // a·b = 1 − 2^-26, which a float32 product rounds to 1.
    expect(Math.fround(Math.fround(a * b) - 1)).toBe(0);
    expect(fma32(a, b, -1)).toBe(-(2 ** -26));
  });
});

describe('powInt', () => {
  test('is exact where the power is representable', () => {
    expect(powInt(0.5, 10)).toBe(2 ** -10);
    expect(powInt(1 + 2 ** -20, 2)).toBe(1 + 2 ** -19 + 2 ** -40);
    expect(powInt(0.9, 0)).toBe(1);
    expect(powInt(0.9, 1)).toBe(0.9);
    expect(powInt(0, 5)).toBe(0);
  });

  test('is correctly rounded (the bias corrections 1 − β^t depend on it)', () => {
    const wrong = fixture.pow.filter(([base, n, exact]) => powInt(base, n) !== exact);
    expect(wrong).toEqual([]);
  });
});

describe('cos', () => {
  test('is exact at the hand-known points', () => {
    expect(cos(0)).toBe(1);
    expect(cos(Math.PI)).toBe(-1);
    expect(cos(-0.5)).toBe(cos(0.5));
  });

  test("is correctly rounded at CosineAnnealingLR's angles π·k/tMax and at random points", () => {
    const wrong = fixture.cos.filter(([x, exact]) => cos(x) !== exact);
    expect(wrong).toEqual([]);
  });

  test('falls back to Math.cos beyond 2^26 and for non-finite input', () => {
    expect(cos(2 ** 30)).toBe(Math.cos(2 ** 30));
    expect(cos(Number.NaN)).toBeNaN();
    expect(cos(Number.POSITIVE_INFINITY)).toBeNaN();
  });
});
