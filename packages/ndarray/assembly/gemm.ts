// WebAssembly SIMD GEMM for @backprop/ndarray (compiled by scripts/build-wasm.mjs).
//
// C = op(A)·op(B) (or C += … when `accumulate`), row-major, over float32 or
// float64 operands the host has copied into linear memory. The structure is
// the Goto/BLIS loop nest the TypeScript kernel (src/kernels/js.ts) uses:
// B is packed into KC×NR column panels, A into MC×KC blocks of MR-row panels
// (transposes are absorbed by the packing), and a register-tiled micro-kernel
// streams through contiguous packed data. float32 accumulates in f32x4 lanes,
// float64 in f64x2 lanes. Baseline Wasm SIMD has no fused multiply-add, so
// the micro-kernels use mul + add (madd32/madd64); the relaxed-SIMD build of
// the same source (GEMM_RELAXED_WASM_BASE64, opt-in at run time) uses
// relaxed_madd there, which the engine may fuse.
//
// Memory layout (bytes from the first 64-byte boundary at or above
// __heap_base): this instance's scratch (packed A, packed B, a tile), then
// the operands the host places from `dataStart()` on. Nothing is allocated
// here: the host grows memory before each call.
//
// Threads: the same source is also compiled against an imported shared
// memory; every thread then runs its own instance, moves its scratch to a
// region of its own with `setScratch`, and computes a block of C's rows or
// columns (`i0…i1`, `j0…j1`). Each element of C sees the same operations in
// the same order whatever the block, so the split changes no bit.

// Depth of one packed panel, rows of A packed at once, columns of B packed at once.
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 512;

/**
 * c + a·b in each f32x4 lane: one `f32x4.relaxed_madd` in the relaxed-SIMD
 * build (`--enable relaxed-simd`; the engine may fuse it, rounding once, or
 * not), else `f32x4.mul` then `f32x4.add`, each rounded (the exact build).
 * The branch is resolved at compile time; nothing of it is left in either module.
 */
// @ts-ignore: decorator
@inline
function madd32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** c + a·b in each f64x2 lane, as {@link madd32}. */
// @ts-ignore: decorator
@inline
function madd64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

// Micro-tile shapes: float32 4×8 (8 f32x4 accumulators), float64 4×4 (8 f64x2 accumulators);
// with the two B vectors and one splatted A value that is 11 of the 16 SIMD registers.
const MR: i32 = 4;
const NR32: i32 = 8;
const NR64: i32 = 4;

/** Bytes of one thread's scratch: packed A, packed B and a tile (a multiple of 64). */
const SCRATCH_BYTES: usize = <usize>(MC * KC * 8 + NC * KC * 8 + 256);
const BASE: usize = (__heap_base + 63) & ~(<usize>63);

// This instance's scratch; globals are per instance, so threads never share them.
let PACK_A: usize = BASE;
let PACK_B: usize = PACK_A + <usize>(MC * KC * 8);
let TILE: usize = PACK_B + <usize>(NC * KC * 8);

/** First byte the host may use for A, B and C (64-byte aligned), after the first scratch. */
export function dataStart(): usize {
  return BASE + SCRATCH_BYTES;
}

/** Size of one thread's scratch, for the host to lay out more of them. */
export function scratchBytes(): usize {
  return SCRATCH_BYTES;
}

/** Moves this instance's scratch to `at` (64-byte aligned, scratchBytes() long). */
export function setScratch(at: usize): void {
  PACK_A = at;
  PACK_B = at + <usize>(MC * KC * 8);
  TILE = PACK_B + <usize>(NC * KC * 8);
}

// @ts-ignore: decorator
@inline
function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** Packs rows i0…i0+mc of op(A), depths p0…p0+kc, into MR-row panels: PACK_A[panel][p][r], zero-padded. */
// @ts-ignore: decorator
@inline
function packA<T>(a: usize, transA: bool, m: i32, k: i32, i0: i32, mc: i32, p0: i32, kc: i32): void {
  const es = <usize>sizeof<T>();
  let dst = PACK_A;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = imin(MR, mc - ir);
    const i = i0 + ir;
    if (rows == MR && transA) {
      // A is stored k×m: the MR values of one depth are adjacent.
      let src = a + (<usize>p0 * <usize>m + <usize>i) * es;
      const stride = <usize>m * es;
      for (let p = 0; p < kc; p++) {
        store<T>(dst, load<T>(src));
        store<T>(dst + es, load<T>(src + es));
        store<T>(dst + 2 * es, load<T>(src + 2 * es));
        store<T>(dst + 3 * es, load<T>(src + 3 * es));
        dst += 4 * es;
        src += stride;
      }
    } else if (rows == MR) {
      const rowBytes = <usize>k * es;
      let s0 = a + (<usize>i * <usize>k + <usize>p0) * es;
      for (let p = 0; p < kc; p++) {
        store<T>(dst, load<T>(s0));
        store<T>(dst + es, load<T>(s0 + rowBytes));
        store<T>(dst + 2 * es, load<T>(s0 + 2 * rowBytes));
        store<T>(dst + 3 * es, load<T>(s0 + 3 * rowBytes));
        dst += 4 * es;
        s0 += es;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const col = p0 + p;
        for (let r = 0; r < MR; r++) {
          let v: T = <T>0;
          if (r < rows) {
            const idx = transA ? <usize>col * <usize>m + <usize>(i + r) : <usize>(i + r) * <usize>k + <usize>col;
            v = load<T>(a + idx * es);
          }
          store<T>(dst, v);
          dst += es;
        }
      }
    }
  }
}

/** Packs columns j0…j0+nc of op(B), depths p0…p0+kc, into NR-column panels: PACK_B[panel][p][c], zero-padded. */
// @ts-ignore: decorator
@inline
function packB<T>(b: usize, transB: bool, n: i32, k: i32, j0: i32, nc: i32, p0: i32, kc: i32, NR: i32): void {
  const es = <usize>sizeof<T>();
  const panelBytes = <usize>NR * es;
  let dst = PACK_B;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = imin(NR, nc - jr);
    const j = j0 + jr;
    if (cols == NR && !transB) {
      // B is stored k×n: each depth's NR values are one contiguous run (32 bytes).
      let src = b + (<usize>p0 * <usize>n + <usize>j) * es;
      const stride = <usize>n * es;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += panelBytes;
        src += stride;
      }
    } else if (cols == NR) {
      // B is stored n×k: walk each of the NR rows contiguously.
      for (let c = 0; c < NR; c++) {
        let src = b + (<usize>(j + c) * <usize>k + <usize>p0) * es;
        let d = dst + <usize>c * es;
        for (let p = 0; p < kc; p++) {
          store<T>(d, load<T>(src));
          src += es;
          d += panelBytes;
        }
      }
      dst += <usize>kc * panelBytes;
    } else {
      for (let p = 0; p < kc; p++) {
        const row = p0 + p;
        for (let c = 0; c < NR; c++) {
          let v: T = <T>0;
          if (c < cols) {
            const idx = transB ? <usize>(j + c) * <usize>k + <usize>row : <usize>row * <usize>n + <usize>(j + c);
            v = load<T>(b + idx * es);
          }
          store<T>(dst, v);
          dst += es;
        }
      }
    }
  }
}

/** Copies the valid rows×cols of a row-major tile (TILE, `nr` wide) into C, adding when `add`. */
// @ts-ignore: decorator
@inline
function storeTile<T>(c: usize, ldc: usize, rows: i32, cols: i32, nr: i32, add: bool): void {
  const es = <usize>sizeof<T>();
  for (let r = 0; r < rows; r++) {
    const src = TILE + <usize>(r * nr) * es;
    const dst = c + <usize>r * ldc;
    for (let s = 0; s < cols; s++) {
      const off = <usize>s * es;
      const v = load<T>(src + off);
      store<T>(dst + off, add ? load<T>(dst + off) + v : v);
    }
  }
}

function kernelF32(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, rows: i32, cols: i32, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd32(a, b0, c00);
    c01 = madd32(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd32(a, b0, c10);
    c11 = madd32(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd32(a, b0, c20);
    c21 = madd32(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd32(a, b0, c30);
    c31 = madd32(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (rows == MR && cols == NR32) {
    if (add) {
      v128.store(c, f32x4.add(v128.load(c), c00));
      v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
      c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c10));
      v128.store(c, f32x4.add(v128.load(c, 16), c11), 16);
      c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c20));
      v128.store(c, f32x4.add(v128.load(c, 16), c21), 16);
      c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c30));
      v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
    } else {
      v128.store(c, c00);
      v128.store(c, c01, 16);
      c += ldc;
      v128.store(c, c10);
      v128.store(c, c11, 16);
      c += ldc;
      v128.store(c, c20);
      v128.store(c, c21, 16);
      c += ldc;
      v128.store(c, c30);
      v128.store(c, c31, 16);
    }
    return;
  }
  v128.store(TILE, c00);
  v128.store(TILE, c01, 16);
  v128.store(TILE, c10, 32);
  v128.store(TILE, c11, 48);
  v128.store(TILE, c20, 64);
  v128.store(TILE, c21, 80);
  v128.store(TILE, c30, 96);
  v128.store(TILE, c31, 112);
  storeTile<f32>(c, ldc, rows, cols, NR32, add);
}

function kernelF64(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, rows: i32, cols: i32, add: bool): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load64_splat(ap);
    c00 = madd64(a, b0, c00);
    c01 = madd64(a, b1, c01);
    a = v128.load64_splat(ap, 8);
    c10 = madd64(a, b0, c10);
    c11 = madd64(a, b1, c11);
    a = v128.load64_splat(ap, 16);
    c20 = madd64(a, b0, c20);
    c21 = madd64(a, b1, c21);
    a = v128.load64_splat(ap, 24);
    c30 = madd64(a, b0, c30);
    c31 = madd64(a, b1, c31);
    ap += 32;
    bp += 32;
  }
  if (rows == MR && cols == NR64) {
    if (add) {
      v128.store(c, f64x2.add(v128.load(c), c00));
      v128.store(c, f64x2.add(v128.load(c, 16), c01), 16);
      c += ldc;
      v128.store(c, f64x2.add(v128.load(c), c10));
      v128.store(c, f64x2.add(v128.load(c, 16), c11), 16);
      c += ldc;
      v128.store(c, f64x2.add(v128.load(c), c20));
      v128.store(c, f64x2.add(v128.load(c, 16), c21), 16);
      c += ldc;
      v128.store(c, f64x2.add(v128.load(c), c30));
      v128.store(c, f64x2.add(v128.load(c, 16), c31), 16);
    } else {
      v128.store(c, c00);
      v128.store(c, c01, 16);
      c += ldc;
      v128.store(c, c10);
      v128.store(c, c11, 16);
      c += ldc;
      v128.store(c, c20);
      v128.store(c, c21, 16);
      c += ldc;
      v128.store(c, c30);
      v128.store(c, c31, 16);
    }
    return;
  }
  v128.store(TILE, c00);
  v128.store(TILE, c01, 16);
  v128.store(TILE, c10, 32);
  v128.store(TILE, c11, 48);
  v128.store(TILE, c20, 64);
  v128.store(TILE, c21, 80);
  v128.store(TILE, c30, 96);
  v128.store(TILE, c31, 112);
  storeTile<f64>(c, ldc, rows, cols, NR64, add);
}

/**
 * float32 GEMM over operands at byte addresses a (m×k, or k×m when transA),
 * b (k×n, or n×k when transB) and c (m×n), for the block of C's rows
 * i0…i1 and columns j0…j1 (the whole of C: 0, m, 0, n). m, n, k > 0.
 */
export function gemmF32(
  transA: bool, transB: bool, m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: bool,
  i0: i32, i1: i32, j0: i32, j1: i32,
): void {
  const ldc = <usize>n * 4;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = imin(NC, j1 - jc);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = imin(KC, k - p0);
      // The first depth block writes C (unless accumulating); later blocks add to it.
      const add = accumulate || p0 > 0;
      packB<f32>(b, transB, n, k, jc, nc, p0, kc, NR32);
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = imin(MC, i1 - ic);
        packA<f32>(a, transA, m, k, ic, mc, p0, kc);
        for (let jr = 0; jr < nc; jr += NR32) {
          const cols = imin(NR32, nc - jr);
          const bPanel = PACK_B + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = imin(MR, mc - ir);
            const cp = c + <usize>(ic + ir) * ldc + <usize>(jc + jr) * 4;
            kernelF32(kc, PACK_A + <usize>(ir * kc) * 4, bPanel, cp, ldc, rows, cols, add);
          }
        }
      }
    }
  }
}

/** float64 GEMM; arguments as gemmF32. */
export function gemmF64(
  transA: bool, transB: bool, m: i32, n: i32, k: i32, a: usize, b: usize, c: usize, accumulate: bool,
  i0: i32, i1: i32, j0: i32, j1: i32,
): void {
  const ldc = <usize>n * 8;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = imin(NC, j1 - jc);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = imin(KC, k - p0);
      const add = accumulate || p0 > 0;
      packB<f64>(b, transB, n, k, jc, nc, p0, kc, NR64);
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = imin(MC, i1 - ic);
        packA<f64>(a, transA, m, k, ic, mc, p0, kc);
        for (let jr = 0; jr < nc; jr += NR64) {
          const cols = imin(NR64, nc - jr);
          const bPanel = PACK_B + <usize>(jr * kc) * 8;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = imin(MR, mc - ir);
            const cp = c + <usize>(ic + ir) * ldc + <usize>(jc + jr) * 8;
            kernelF64(kc, PACK_A + <usize>(ir * kc) * 8, bPanel, cp, ldc, rows, cols, add);
          }
        }
      }
    }
  }
}
