import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { array } from '../src/index';
import { type FixtureTensor, fromFixture, loadFixture } from './helpers';

describe('toString prints like numpy', () => {
  const { cases } = loadFixture<{ cases: Record<string, FixtureTensor & { str: string }> }>('printing');
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      expect(fromFixture(c).toString()).toBe(c.str);
    });
  }
  it('nan and inf, as numpy 1.24 prints them', () => {
    expect(array([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5], { dtype: 'float64' }).toString()).toBe('[ nan  inf -inf  1.5]');
    expect(array([Number.NaN, 1e-5, 1], { dtype: 'float64' }).toString()).toBe('[   nan 1.e-05 1.e+00]');
    expect(array([Number.NaN, 1.25, -100.5], { dtype: 'float64' }).toString()).toBe('[    nan    1.25 -100.5 ]');
  });
  it("node's inspect shows the dtype", () => {
    expect(inspect(array([1, 2]))).toBe('array([1., 2.], dtype=float32)');
  });
});
