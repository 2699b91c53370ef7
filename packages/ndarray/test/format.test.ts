import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAX_PRINTED_NDIM, formatArray, formatRepr } from '../src/format';
import { array, ones, zeros } from '../src/index';
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

describe('zero-size arrays print as numpy prints them, whatever their shape', () => {
  // str and repr of np.zeros(shape, dtype) in numpy 1.24.
  const cases: [number[], string][] = [
    [[0], 'array([], dtype=float32)'],
    [[2, 0], 'array([], shape=(2, 0), dtype=float32)'],
    [[0, 3], 'array([], shape=(0, 3), dtype=float32)'],
    [[1, 0, 5], 'array([], shape=(1, 0, 5), dtype=float32)'],
  ];
  it.each(cases)('%o', (shape, repr) => {
    const a = zeros(shape);
    expect(a.toString()).toBe('[]');
    expect(formatRepr(a)).toBe(repr);
  });
  it('int32 too', () => {
    expect(formatRepr(zeros([2, 0], { dtype: 'int32' }))).toBe('array([], shape=(2, 0), dtype=int32)');
  });

  it('a huge dimension beside a zero is never walked', () => {
    expect(String(zeros([2 ** 31, 0]))).toBe('[]');
    expect(String(zeros([1e7, 0]))).toBe('[]');
    expect(inspect(zeros([2 ** 31, 0]))).toMatch(/^array\(\[\]/);
    // The shape of an 80-byte safetensors file's tensor: only the printer sees it here.
    const hostile = { shape: [2147483648, 2147483648, 0], dtype: 'float32' as const, data: new Float32Array(0) };
    expect(formatArray(hostile)).toBe('[]');
    expect(formatRepr(hostile)).toBe('array([], shape=(2147483648, 2147483648, 0), dtype=float32)');
  });
});

describe('arrays of many dimensions', () => {
  it('32 dimensions (numpy 1.24 at its limit) print as numpy prints them', () => {
    const a = array([0, 1, 2, 3], { shape: [2, ...new Array(30).fill(1), 2] });
    // str(np.arange(4., dtype=np.float32).reshape((2,) + (1,) * 30 + (2,)))
    const numpy = `${'['.repeat(32)}0. 1.${']'.repeat(31)}${'\n'.repeat(31)} ${'['.repeat(31)}2. 3.${']'.repeat(32)}`;
    expect(a.toString()).toBe(numpy);
  });

  it(`${MAX_PRINTED_NDIM} dimensions (numpy 2's limit) print element by element`, () => {
    const a = ones(new Array(MAX_PRINTED_NDIM).fill(1));
    expect(a.toString()).toBe(`${'['.repeat(MAX_PRINTED_NDIM)}1.${']'.repeat(MAX_PRINTED_NDIM)}`);
  });

  it('more dimensions print as [...] and the repr gives their number, without a stack overflow', () => {
    const deep = ones(new Array(100_000).fill(1));
    expect(String(deep)).toBe('[...]');
    expect(formatRepr(deep)).toBe('array([...], ndim=100000, dtype=float32)');
    expect(inspect(deep)).toMatch(/^array\(\[\.\.\.\]/);
    const justOver = ones([2, ...new Array(MAX_PRINTED_NDIM).fill(1)]);
    expect(String(justOver)).toBe('[...]');
    expect(formatRepr(justOver)).toBe(`array([...], ndim=${MAX_PRINTED_NDIM + 1}, dtype=float32)`);
  });

  it('a zero-size array of many dimensions is still []', () => {
    const deepEmpty = zeros([...new Array(100_000).fill(1), 0]);
    expect(String(deepEmpty)).toBe('[]');
    expect(formatRepr(deepEmpty)).toBe('array([], ndim=100001, dtype=float32)');
  });
});
