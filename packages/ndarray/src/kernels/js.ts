/**
 * The plain TypeScript kernels. No allocation inside loops; matmul packs its
 * operands into cache-sized panels and runs a 4×4 register-tiled micro-kernel,
 * so transposed operands cost one pass of packing, not strided inner loops.
 * Accumulation is in float64 (JavaScript numbers) for both dtypes.
 */
import type { TypedArray } from '../dtype';
import type { Backend, BinaryOp, ReduceOp, UnaryOp } from './types';

const MR = 4; // rows of C per micro-tile
const NR = 4; // columns of C per micro-tile
const KC = 256; // depth of one packed panel: MR·KC + NR·KC doubles stay in L1/L2
const MC = 64; // rows of A packed at once
const NC = 1024; // columns of B packed at once

let packedA = new Float64Array(MC * KC);
let packedB = new Float64Array(NC * KC);
let sumScratch = new Float64Array(256);

function packA(
  a: TypedArray,
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
  b: TypedArray,
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
  c: TypedArray,
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

function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: TypedArray,
  aOffset: number,
  b: TypedArray,
  bOffset: number,
  c: TypedArray,
  cOffset: number,
  accumulate: boolean,
): void {
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

/** One row of a broadcast binary op: n elements with strides sa, sb (0 for a broadcast operand). */
function binaryRow(
  op: BinaryOp,
  n: number,
  a: TypedArray,
  ia: number,
  sa: number,
  b: TypedArray,
  ib: number,
  sb: number,
  out: TypedArray,
  io: number,
): void {
  const end = io + n;
  switch (op) {
    case 'add':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] + b[ib];
      return;
    case 'sub':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] - b[ib];
      return;
    case 'mul':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] * b[ib];
      return;
    case 'div':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] / b[ib];
      return;
    case 'pow':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] ** b[ib];
      return;
    case 'maximum':
      // NaN propagates, as torch.maximum.
      for (; io < end; io++, ia += sa, ib += sb) {
        const x = a[ia], y = b[ib];
        out[io] = x > y || Number.isNaN(x) ? x : y;
      }
      return;
    case 'minimum':
      for (; io < end; io++, ia += sa, ib += sb) {
        const x = a[ia], y = b[ib];
        out[io] = x < y || Number.isNaN(x) ? x : y;
      }
      return;
  }
}

function binary(
  op: BinaryOp,
  shape: readonly number[],
  a: TypedArray,
  aStrides: readonly number[],
  b: TypedArray,
  bStrides: readonly number[],
  out: TypedArray,
): void {
  // Coalesce dimensions that are contiguous for both operands, so most calls
  // become a single long row or a few rows of a simple pattern.
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (
      last >= 0 &&
      sa[last] === aStrides[d] * shape[d] &&
      sb[last] === bStrides[d] * shape[d]
    ) {
      dims[last] *= shape[d];
      sa[last] = aStrides[d];
      sb[last] = bStrides[d];
    } else {
      dims.push(shape[d]);
      sa.push(aStrides[d]);
      sb.push(bStrides[d]);
    }
  }
  if (dims.length === 0) {
    binaryRow(op, out.length === 0 ? 0 : 1, a, 0, 0, b, 0, 0, out, 0);
    return;
  }
  const nd = dims.length;
  const n = dims[nd - 1];
  const rows = out.length / n;
  const index = new Array<number>(nd).fill(0);
  let ia = 0;
  let ib = 0;
  for (let row = 0, io = 0; row < rows; row++, io += n) {
    binaryRow(op, n, a, ia, sa[nd - 1], b, ib, sb[nd - 1], out, io);
    // Advance the multi-index over the outer dimensions.
    for (let d = nd - 2; d >= 0; d--) {
      index[d]++;
      ia += sa[d];
      ib += sb[d];
      if (index[d] < dims[d]) break;
      ia -= sa[d] * dims[d];
      ib -= sb[d] * dims[d];
      index[d] = 0;
    }
  }
}

function unary(op: UnaryOp, a: TypedArray, out: TypedArray): void {
  const n = a.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -a[i];
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(a[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(a[i]);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(a[i]);
      return;
    case 'sigmoid':
      // 1/(1+exp(-x)) everywhere, as torch computes it: saturated values round
      // the same way. In float32, torch rounds after each step; so do we.
      if (out instanceof Float32Array) {
        const f = Math.fround;
        for (let i = 0; i < n; i++) out[i] = 1 / f(1 + f(Math.exp(-a[i])));
      } else {
        for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-a[i]));
      }
      return;
    case 'relu':
      // NaN stays NaN (NaN > 0 is false, but the comparison below keeps it).
      for (let i = 0; i < n; i++) {
        const x = a[i];
        out[i] = x > 0 || Number.isNaN(x) ? x : 0;
      }
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = a[i] * a[i];
      return;
    case 'sign':
      for (let i = 0; i < n; i++) {
        const x = a[i];
        out[i] = x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x; // NaN stays NaN
      }
      return;
  }
}

function reluBackward(grad: TypedArray, output: TypedArray, out: TypedArray): void {
  for (let i = 0; i < grad.length; i++) out[i] = output[i] > 0 ? grad[i] : 0;
}

function clip(a: TypedArray, lo: number, hi: number, out: TypedArray): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    out[i] = x < lo ? lo : x > hi ? hi : x;
  }
}

function reduce(
  op: ReduceOp,
  a: TypedArray,
  outer: number,
  axis: number,
  inner: number,
  out: TypedArray,
): void {
  if (op === 'sum') {
    // Accumulate in float64 whatever the dtype, then round once into out.
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        let s = 0;
        for (let i = o * axis, end = i + axis; i < end; i++) s += a[i];
        out[o] = s;
      }
      return;
    }
    if (sumScratch.length < inner) sumScratch = new Float64Array(inner);
    const acc = sumScratch;
    for (let o = 0; o < outer; o++) {
      const base = o * axis * inner;
      acc.fill(0, 0, inner);
      for (let i = 0; i < axis; i++) {
        const row = base + i * inner;
        for (let j = 0; j < inner; j++) acc[j] += a[row + j];
      }
      for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j];
    }
    return;
  }
  const isMax = op === 'max';
  for (let o = 0; o < outer; o++) {
    const base = o * axis * inner;
    for (let j = 0; j < inner; j++) {
      let best = a[base + j];
      for (let i = 1; i < axis; i++) {
        const x = a[base + i * inner + j];
        if (Number.isNaN(x)) {
          best = x; // NaN wins, as torch.max
          break;
        }
        if (isMax ? x > best : x < best) best = x;
      }
      out[o * inner + j] = best;
    }
  }
}

function argReduce(
  op: 'argmax' | 'argmin',
  a: TypedArray,
  outer: number,
  axis: number,
  inner: number,
  out: Int32Array,
): void {
  const isMax = op === 'argmax';
  for (let o = 0; o < outer; o++) {
    const base = o * axis * inner;
    for (let j = 0; j < inner; j++) {
      let best = a[base + j];
      let bestIndex = 0;
      for (let i = 1; i < axis && !Number.isNaN(best); i++) {
        const x = a[base + i * inner + j];
        if (Number.isNaN(x) || (isMax ? x > best : x < best)) {
          best = x;
          bestIndex = i;
        }
      }
      out[o * inner + j] = bestIndex;
    }
  }
}

export const jsBackend: Backend = {
  name: 'js',
  gemm,
  binary,
  unary,
  reluBackward,
  clip,
  reduce,
  argReduce,
};
