import { describe, expect, it } from 'vitest';
import { DTypeError, NDArray, ShapeError, array, gemm, matmul, transpose, zeros } from '../src/index';
import { type FixtureTensor, fromFixture, loadFixture, randomArray, testRandom } from './helpers';

/** The textbook triple loop in float64: the reference every fast path is held to. */
function naive(a: NDArray, b: NDArray): Float64Array {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[i * k + p] * b.data[p * n + j];
      out[i * n + j] = s;
    }
  return out;
}

describe('matmul against torch', () => {
  const { cases } = loadFixture<{ cases: { a: FixtureTensor; b: FixtureTensor; out: FixtureTensor }[] }>('matmul');
  for (const c of cases) {
    it(`${c.a.dtype} ${JSON.stringify(c.a.shape)} @ ${JSON.stringify(c.b.shape)}`, () => {
      const out = matmul(fromFixture(c.a), fromFixture(c.b));
      const expected = fromFixture(c.out);
      expect(out.shape).toEqual(expected.shape);
      expect(out.dtype).toBe(expected.dtype);
      // Torch's BLAS sums in another order; float64 agrees to rounding, float32 to its epsilon.
      const tol = c.a.dtype === 'float64' ? 1e-12 : 1e-5;
      const scale = Math.max(1, ...Array.from(expected.data, Math.abs));
      for (let i = 0; i < expected.size; i++) {
        expect(Math.abs(out.data[i] - expected.data[i]) / scale).toBeLessThan(tol);
      }
    });
  }
});

describe('gemm', () => {
  const next = testRandom(42);
  // Sizes straddling the 4×4 micro-tile, the 64-row and 256-deep panels.
  const sizes = [1, 2, 3, 4, 5, 7, 8, 63, 64, 65, 129];
  const depths = [1, 3, 17, 255, 256, 257, 600];
  for (const dtype of ['float64', 'float32'] as const) {
    it(`matches the triple loop for every transpose combination (${dtype})`, () => {
      for (let trial = 0; trial < 25; trial++) {
        const m = sizes[Math.floor(next() * sizes.length)];
        const n = sizes[Math.floor(next() * sizes.length)];
        const k = depths[Math.floor(next() * depths.length)];
        const a = randomArray([m, k], dtype, next);
        const b = randomArray([k, n], dtype, next);
        const expected = new NDArray(naive(a, b), [m, n]);
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const out = gemm(transA ? transpose(a) : a, transB ? transpose(b) : b, { transA, transB });
            // Absolute agreement, scaled by the depth, is the meaningful bound near cancellation.
            let worst = 0;
            for (let i = 0; i < out.size; i++) worst = Math.max(worst, Math.abs(out.data[i] - expected.data[i]) / k);
            expect(worst, `m=${m} n=${n} k=${k} transA=${transA} transB=${transB}`).toBeLessThan(dtype === 'float64' ? 1e-13 : 1e-6);
          }
        }
      }
    });
  }

  it('accumulates into out', () => {
    const a = array([[1, 2], [3, 4]], { dtype: 'float64' });
    const out = array([[10, 10], [10, 10]], { dtype: 'float64' });
    gemm(a, a, { out, accumulate: true });
    expect(out.toArray()).toEqual([[17, 20], [25, 32]]);
    gemm(a, a, { out });
    expect(out.toArray()).toEqual([[7, 10], [15, 22]]);
  });

  it('rejects misaligned operands, naming both shapes', () => {
    expect(() => gemm(zeros([2, 3]), zeros([2, 3]))).toThrow(/a of shape \[2, 3\].*b of shape \[2, 3\]/);
    expect(() => gemm(zeros([2, 3]), zeros([2, 3]), { transB: true, out: zeros([3, 3]) })).toThrow(/out has shape \[3, 3\], expected \[2, 2\]/);
    expect(() => gemm(zeros([2, 3]), zeros([3, 2]), { accumulate: true })).toThrow(/needs an out/);
    expect(() => gemm(zeros([2, 3]), zeros([3, 2]), { transpose: true } as never)).toThrow(/unknown option 'transpose'/);
  });
});

describe('matmul errors', () => {
  it('names both shapes when the inner dimensions differ', () => {
    expect(() => matmul(zeros([8, 3]), zeros([10, 2]))).toThrow(ShapeError);
    expect(() => matmul(zeros([8, 3]), zeros([10, 2]))).toThrow('[8, 3] and [10, 2]');
  });
  it('refuses mixed dtypes', () => {
    expect(() => matmul(zeros([2, 2]), zeros([2, 2], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => matmul(zeros([2, 2]), zeros([2, 2], { dtype: 'float64' }))).toThrow(/float32 and float64/);
  });
  it('refuses 0-d operands and incompatible batch dimensions', () => {
    expect(() => matmul(array(2), zeros([2]))).toThrow(/at least one dimension/);
    expect(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5]))).toThrow(/batch dimensions.*\[2\] and \[3\]/);
  });
});
