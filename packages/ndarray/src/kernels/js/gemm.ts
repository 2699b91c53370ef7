/**
 * The TypeScript matrix product: operands packed into cache-sized panels and a
 * 4×4 register-tiled micro-kernel, so transposed operands cost one pass of
 * packing, not strided inner loops. Accumulation is in float64 (JavaScript
 * numbers) for both dtypes. No allocation inside loops.
 *
 * `runGemm` turns a kernel's {@link GemmProblem} (batch, alpha, beta, bias,
 * activation) into 2-D products on host memory; the WebAssembly backend runs
 * the same driver with its own 2-D routine.
 */
import type { FloatArray } from '../../dtype';
import { NDArray } from '../../ndarray';
import type { GemmActivation, GemmProblem, Kernels } from '../types';
import { elementwiseKernels } from './elementwise';
import { hostFloat } from './host';

/**
 * One 2-D product on host memory: C = op(A)·op(B), or C += op(A)·op(B) when
 * `accumulate`, row-major from the offsets (A stored m×k, or k×m when
 * `transA`; B k×n, or n×k when `transB`).
 */
export interface HostGemm {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: FloatArray;
  aOffset: number;
  b: FloatArray;
  bOffset: number;
  c: FloatArray;
  cOffset: number;
  accumulate: boolean;
}

const MR = 4; // rows of C per micro-tile
const NR = 4; // columns of C per micro-tile
const KC = 256; // depth of one packed panel: MR·KC + NR·KC doubles stay in L1/L2
const MC = 64; // rows of A packed at once
const NC = 1024; // columns of B packed at once

let packedA = new Float64Array(MC * KC);
let packedB = new Float64Array(NC * KC);

function packA(
  a: FloatArray,
  aOffset: number,
  transA: boolean,
  m: number,
  k: number,
  i0: number,
  mc: number,
  p0: number,
  kc: number,
): void {
  // Panel of MR rows: packedA[panel*kc*MR + p*MR + r] = op(A)[i0+panel*MR+r, p0+p], zero-padded.
  let dst = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          const i = i0 + ir + r;
          const col = p0 + p;
          packedA[dst] = transA ? a[aOffset + col * m + i] : a[aOffset + i * k + col];
        } else packedA[dst] = 0;
        dst++;
      }
    }
  }
}

function packB(
  b: FloatArray,
  bOffset: number,
  transB: boolean,
  n: number,
  k: number,
  j0: number,
  nc: number,
  p0: number,
  kc: number,
): void {
  // Panel of NR columns: packedB[panel*kc*NR + p*NR + c] = op(B)[p0+p, j0+panel*NR+c], zero-padded.
  let dst = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    for (let p = 0; p < kc; p++) {
      const row = p0 + p;
      if (!transB && cols === NR) {
        const src = bOffset + row * n + j0 + jr;
        packedB[dst] = b[src];
        packedB[dst + 1] = b[src + 1];
        packedB[dst + 2] = b[src + 2];
        packedB[dst + 3] = b[src + 3];
        dst += NR;
        continue;
      }
      for (let c = 0; c < NR; c++) {
        if (c < cols) {
          const j = j0 + jr + c;
          packedB[dst] = transB ? b[bOffset + j * k + row] : b[bOffset + row * n + j];
        } else packedB[dst] = 0;
        dst++;
      }
    }
  }
}

function microKernel(
  kc: number,
  aPanel: number,
  bPanel: number,
  c: FloatArray,
  cIndex: number,
  ldc: number,
  rows: number,
  cols: number,
  accumulate: boolean,
): void {
  const A = packedA;
  const B = packedB;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  let ai = aPanel;
  let bi = bPanel;
  for (let p = 0; p < kc; p++) {
    const a0 = A[ai], a1 = A[ai + 1], a2 = A[ai + 2], a3 = A[ai + 3];
    const b0 = B[bi], b1 = B[bi + 1], b2 = B[bi + 2], b3 = B[bi + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ai += MR;
    bi += NR;
  }
  if (rows === MR && cols === NR) {
    if (accumulate) {
      c[cIndex] += c00; c[cIndex + 1] += c01; c[cIndex + 2] += c02; c[cIndex + 3] += c03;
      cIndex += ldc;
      c[cIndex] += c10; c[cIndex + 1] += c11; c[cIndex + 2] += c12; c[cIndex + 3] += c13;
      cIndex += ldc;
      c[cIndex] += c20; c[cIndex + 1] += c21; c[cIndex + 2] += c22; c[cIndex + 3] += c23;
      cIndex += ldc;
      c[cIndex] += c30; c[cIndex + 1] += c31; c[cIndex + 2] += c32; c[cIndex + 3] += c33;
    } else {
      c[cIndex] = c00; c[cIndex + 1] = c01; c[cIndex + 2] = c02; c[cIndex + 3] = c03;
      cIndex += ldc;
      c[cIndex] = c10; c[cIndex + 1] = c11; c[cIndex + 2] = c12; c[cIndex + 3] = c13;
      cIndex += ldc;
      c[cIndex] = c20; c[cIndex + 1] = c21; c[cIndex + 2] = c22; c[cIndex + 3] = c23;
      cIndex += ldc;
      c[cIndex] = c30; c[cIndex + 1] = c31; c[cIndex + 2] = c32; c[cIndex + 3] = c33;
    }
    return;
  }
  const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < cols; s++) {
      const idx = cIndex + r * ldc + s;
      c[idx] = accumulate ? c[idx] + tile[r * NR + s] : tile[r * NR + s];
    }
  }
}

/** C = op(A)·op(B) (+ C when accumulating) on host memory, by cache-sized packed panels. */
export function gemmTypeScript(call: HostGemm): void {
  const { transA, transB, m, n, k, a, aOffset, b, bOffset, c, cOffset, accumulate } = call;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, cOffset, cOffset + m * n);
    return;
  }
  if (packedA.length < MC * Math.min(k, KC)) packedA = new Float64Array(MC * KC);
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    const ncPadded = Math.ceil(nc / NR) * NR;
    if (packedB.length < ncPadded * Math.min(k, KC)) packedB = new Float64Array(ncPadded * KC);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      // The first depth block writes C (unless accumulating); later blocks add to it.
      const add = accumulate || p0 > 0;
      packB(b, bOffset, transB, n, k, j0, nc, p0, kc);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packA(a, aOffset, transA, m, k, i0, mc, p0, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = Math.min(NR, nc - jr);
          const bPanel = (jr / NR) * kc * NR;
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = Math.min(MR, mc - ir);
            const cIndex = cOffset + (i0 + ir) * n + j0 + jr;
            microKernel(kc, (ir / MR) * kc * MR, bPanel, c, cIndex, n, rows, cols, add);
          }
        }
      }
    }
  }
}


/** The scratch of an alpha ≠ 1 product, kept between calls (grown, never shrunk) so a steady step allocates nothing. */
let scratch32: Float32Array | undefined;
let scratch64: Float64Array | undefined;

function productScratch(float64: boolean, size: number): Float32Array | Float64Array {
  if (float64) {
    if (scratch64 === undefined || scratch64.length < size) scratch64 = new Float64Array(size);
    return scratch64.subarray(0, size);
  }
  if (scratch32 === undefined || scratch32.length < size) scratch32 = new Float32Array(size);
  return scratch32.subarray(0, size);
}

/**
 * Runs a {@link GemmProblem} with `product`, a 2-D routine that can overwrite
 * or accumulate. The bias becomes C's starting value (torch's addmm: one
 * product added onto the broadcast bias); alpha ≠ 1 or beta ∉ {0, 1}, rare,
 * go through a scratch product; the activation (the backend's own kernel for
 * it) is applied in place at the end.
 */
export function runGemm(
  p: GemmProblem,
  product: (call: HostGemm) => void,
  activations: Pick<Kernels, GemmActivation> = elementwiseKernels,
): void {
  const { m, n, k, batch, alpha, beta, bias } = p;
  const a = hostFloat(p.a);
  const b = hostFloat(p.b);
  const c = hostFloat(p.c);
  const size = m * n;
  for (let t = 0; t < batch; t++) {
    const cOffset = p.cOffset + t * p.cStride;
    // The first item of a summing batch (cStride 0) honours beta; the later ones add.
    const itemBeta = p.cStride === 0 && t > 0 ? 1 : beta;
    let accumulate = itemBeta !== 0;
    if (bias !== undefined && !(p.cStride === 0 && t > 0)) {
      startFromBias(c, cOffset, m, n, hostFloat(bias), bias.ndim === 1, itemBeta);
      accumulate = true;
    } else if (itemBeta !== 0 && itemBeta !== 1) {
      for (let i = cOffset; i < cOffset + size; i++) c[i] *= itemBeta;
    }
    const call: HostGemm = {
      transA: p.transA,
      transB: p.transB,
      m,
      n,
      k,
      a,
      aOffset: p.aOffset + t * p.aStride,
      b,
      bOffset: p.bOffset + t * p.bStride,
      c,
      cOffset,
      accumulate,
    };
    if (alpha === 1) {
      product(call);
    } else {
      // alpha·AB + C: the product in a scratch, then scaled and added.
      const scratch = productScratch(c instanceof Float64Array, size);
      product({ ...call, c: scratch, cOffset: 0, accumulate: false });
      for (let i = 0; i < size; i++) c[cOffset + i] = accumulate ? c[cOffset + i] + alpha * scratch[i] : alpha * scratch[i];
    }
  }
  if (p.activation !== undefined) {
    const activate = activations[p.activation];
    const covers = p.cOffset === 0 && (batch === 1 || p.cStride === size) && batch * size === c.length;
    if (covers) activate({ x: p.c, out: p.c });
    else {
      for (let t = 0; t < (p.cStride === 0 ? 1 : batch); t++) {
        const at = p.cOffset + t * p.cStride;
        const region = new NDArray(c.subarray(at, at + size), [size]);
        activate({ x: region, out: region });
      }
    }
  }
}

/** C's starting value: beta·C + bias, the bias along rows ([n]) or down columns ([m, 1]). */
function startFromBias(c: FloatArray, at: number, m: number, n: number, bias: FloatArray, alongRows: boolean, beta: number): void {
  for (let i = 0; i < m; i++) {
    const row = at + i * n;
    if (beta === 0) {
      if (alongRows) c.set(bias, row);
      else c.fill(bias[i], row, row + n);
    } else {
      for (let j = 0; j < n; j++) c[row + j] = beta * c[row + j] + (alongRows ? bias[j] : bias[i]);
    }
  }
}

export const gemmKernels = {
  gemm: (problem: GemmProblem) => runGemm(problem, gemmTypeScript),
} satisfies Partial<Kernels>;
