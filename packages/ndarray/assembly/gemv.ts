// WebAssembly SIMD row-times-matrix for @backprop/ndarray (compiled by
// scripts/build-wasm.mjs into a module of its own): C[1×n] = a[1×k]·op(B),
// float32, the product of a single row (one sample through a Linear layer).
// gemm.ts would pack all of B into panels and run 4-row micro-tiles of which
// one row is real; here B is read once, where it lies.
//
// Each element of C sees gemm.ts's operations in gemm.ts's order: per depth
// block of KC values a sum that starts at 0 and adds a[p]·b[p] (rounded
// product, rounded sum) for p in order, then written to C, or added to it
// for later blocks and when accumulating. So a row's product equals that row
// of a batch's product bit for bit, but for the sign of a NaN where two meet
// (WebAssembly leaves it unspecified).
//
// The host copies a, B and C (when accumulating) into linear memory from
// `dataStart()` on and grows the memory first; nothing is allocated here.

/** gemm.ts's depth block: the sums restart at each, as there. */
const KC: i32 = 256;

export { dataStart } from './common';

/** Writes a block's sums into C, or adds them to it. */
// @ts-ignore: decorator
@inline
function finish(at: usize, sums: v128, add: bool): void {
  v128.store(at, add ? f32x4.add(v128.load(at), sums) : sums);
}

/**
 * c (+)= a·op(B) over float32 operands at byte addresses a (k values), b (k×n,
 * or n×k when transB) and c (n values); m = 1, n, k > 0.
 */
export function gemvF32(transB: bool, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: bool): void {
  const rowBytes = <usize>k << 2;
  let j = 0;
  // Four columns of C at a time.
  for (; j + 4 <= n; j += 4) {
    for (let p0 = 0; p0 < k; p0 += KC) {
      const end = min(p0 + KC, k);
      let sums = f32x4.splat(0);
      let p = p0;
      if (transB) {
        // B is n×k: rows j…j+3 of B are C's columns; four depths of them, transposed in registers.
        const r = b + <usize>j * rowBytes;
        for (; p + 4 <= end; p += 4) {
          const at = <usize>p << 2;
          const r0 = v128.load(r + at);
          const r1 = v128.load(r + rowBytes + at);
          const r2 = v128.load(r + 2 * rowBytes + at);
          const r3 = v128.load(r + 3 * rowBytes + at);
          const s0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
          const s1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
          const s2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
          const s3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          sums = f32x4.add(sums, f32x4.mul(v128.load32_splat(a + at), v128.shuffle<f32>(s0, s1, 0, 1, 4, 5)));
          sums = f32x4.add(sums, f32x4.mul(v128.load32_splat(a + at + 4), v128.shuffle<f32>(s0, s1, 2, 3, 6, 7)));
          sums = f32x4.add(sums, f32x4.mul(v128.load32_splat(a + at + 8), v128.shuffle<f32>(s2, s3, 0, 1, 4, 5)));
          sums = f32x4.add(sums, f32x4.mul(v128.load32_splat(a + at + 12), v128.shuffle<f32>(s2, s3, 2, 3, 6, 7)));
        }
        for (; p < end; p++) {
          const at = <usize>p << 2;
          let column = f32x4.splat(load<f32>(r + at));
          column = f32x4.replace_lane(column, 1, load<f32>(r + rowBytes + at));
          column = f32x4.replace_lane(column, 2, load<f32>(r + 2 * rowBytes + at));
          column = f32x4.replace_lane(column, 3, load<f32>(r + 3 * rowBytes + at));
          sums = f32x4.add(sums, f32x4.mul(v128.load32_splat(a + at), column));
        }
      } else {
        // B is k×n: depth p's four values of columns j…j+3 are adjacent.
        for (; p < end; p++) {
          sums = f32x4.add(sums, f32x4.mul(v128.load32_splat(a + (<usize>p << 2)), v128.load(b + ((<usize>p * <usize>n + <usize>j) << 2))));
        }
      }
      finish(c + (<usize>j << 2), sums, accumulate || p0 > 0);
    }
  }
  // The last n mod 4 columns, one at a time.
  for (; j < n; j++) {
    for (let p0 = 0; p0 < k; p0 += KC) {
      const end = min(p0 + KC, k);
      let sum: f32 = 0;
      for (let p = p0; p < end; p++) {
        const index = transB ? <usize>j * <usize>k + <usize>p : <usize>p * <usize>n + <usize>j;
        sum = sum + load<f32>(a + (<usize>p << 2)) * load<f32>(b + (index << 2));
      }
      const at = c + (<usize>j << 2);
      store<f32>(at, accumulate || p0 > 0 ? load<f32>(at) + sum : sum);
    }
  }
}
