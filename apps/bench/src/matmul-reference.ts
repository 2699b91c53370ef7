import type { MatmulCheck } from './types';

/**
 * C = A·B for square n×n row-major inputs, in float64 with a plain i-k-j
 * loop: independent of every kernel under test. Also returns |A|·|B|, the
 * scale each entry's rounding error is measured against.
 */
export function referenceMatmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): { c: Float64Array; scale: Float64Array } {
  const a64 = Float64Array.from(a);
  const b64 = Float64Array.from(b);
  const absB = b64.map(Math.abs);
  const c = new Float64Array(n * n);
  const scale = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a64[row + k];
      const absAik = Math.abs(aik);
      const bRow = k * n;
      for (let j = 0; j < n; j++) {
        c[row + j] += aik * b64[bRow + j];
        scale[row + j] += absAik * absB[bRow + j];
      }
    }
  }
  return { c, scale };
}

/**
 * Compares a product with the reference: the worst |C − R| / (|A|·|B|) over
 * all entries, against the deterministic bound γₙ = n·u / (1 − n·u) of any
 * n-term dot product in the dtype's unit roundoff u. For float64 the
 * reference carries a rounding error of the same size, so the bound doubles.
 */
export function checkMatmul(
  result: ArrayLike<number>,
  reference: { c: Float64Array; scale: Float64Array },
  n: number,
  dtype: 'float32' | 'float64',
): MatmulCheck {
  let worst = 0;
  for (let i = 0; i < reference.c.length; i++) {
    const err = Math.abs(result[i] - reference.c[i]) / (reference.scale[i] || 1);
    // A NaN must fail the check, and NaN > worst is false: test for it explicitly.
    if (Number.isNaN(err)) return { maxRelError: Number.NaN, bound: 0, pass: false };
    if (err > worst) worst = err;
  }
  const gamma = (u: number) => (n * u) / (1 - n * u);
  const bound = dtype === 'float32' ? gamma(2 ** -24) + gamma(2 ** -53) : 2 * gamma(2 ** -53);
  return { maxRelError: worst, bound, pass: worst <= bound && result.length === reference.c.length };
}
