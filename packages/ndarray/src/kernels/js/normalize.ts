/**
 * Softmax, log-softmax and layer normalisation in TypeScript: each row (one
 * position of every axis but the normalised ones) is reduced in float64 and
 * written back with one rounding per element.
 */
import type { FloatArray } from '../../dtype';
import type { NDArray } from '../../ndarray';
import type { AxisArgs, AxisGradArgs, KernelArgs, Kernels } from '../types';
import { hostFloat, span } from './host';

/** x viewed as [outer, len, inner] around `axis`. */
function around(x: NDArray, axis: number): [number, number, number] {
  return [span(x.shape, 0, axis), x.shape[axis], span(x.shape, axis + 1, x.shape.length)];
}

function softmaxLike(log: boolean, { x, axis, out }: AxisArgs): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  const [outer, len, inner] = around(x, axis);
  if (inner === 1) {
    lastAxis(log, a, o, outer, len);
    return;
  }
  for (let r = 0; r < outer; r++) {
    for (let j = 0; j < inner; j++) {
      const base = r * len * inner + j;
      const end = base + len * inner;
      let max = Number.NEGATIVE_INFINITY;
      for (let k = base; k < end; k += inner) if (a[k] > max || Number.isNaN(a[k])) max = a[k];
      // A row of −∞ (or holding +∞) has no finite shift: torch gives NaN there too.
      let sum = 0;
      for (let k = base; k < end; k += inner) sum += Math.exp(a[k] - max);
      if (log) {
        // (x − max) − log Σ, in torch's order: max + log Σ first would lose small log-probabilities.
        const lse = Math.log(sum);
        for (let k = base; k < end; k += inner) o[k] = a[k] - max - lse;
      } else {
        const inv = 1 / sum;
        for (let k = base; k < end; k += inner) o[k] = Math.exp(a[k] - max) * inv;
      }
    }
  }
}

/** softmaxLike along the last axis: rows of `len` contiguous elements (the common case, in tighter loops). */
function lastAxis(log: boolean, a: FloatArray, o: FloatArray, rows: number, len: number): void {
  // softmax keeps each row's exponentials, in double, for its second pass instead of computing them twice.
  const exps = log ? undefined : rowScratch(len);
  for (let base = 0, end = len; base < rows * len; base += len, end += len) {
    let max = Number.NEGATIVE_INFINITY;
    for (let k = base; k < end; k++) if (a[k] > max || Number.isNaN(a[k])) max = a[k];
    let sum = 0;
    if (exps === undefined) {
      for (let k = base; k < end; k++) sum += Math.exp(a[k] - max);
      const lse = Math.log(sum);
      for (let k = base; k < end; k++) o[k] = a[k] - max - lse;
    } else {
      for (let k = base; k < end; k++) {
        const e = Math.exp(a[k] - max);
        exps[k - base] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let k = base; k < end; k++) o[k] = exps[k - base] * inv;
    }
  }
}

/** A float64 row of scratch, kept between calls and grown when a longer row comes, so softmax allocates nothing in steady use. */
let scratch = new Float64Array(0);
function rowScratch(len: number): Float64Array {
  if (scratch.length < len) scratch = new Float64Array(Math.max(len, 2 * scratch.length));
  return scratch;
}

function softmaxBackward({ grad, output, axis, out }: AxisGradArgs): void {
  const g = hostFloat(grad);
  const y = hostFloat(output);
  const o = hostFloat(out);
  const [outer, len, inner] = around(output, axis);
  for (let r = 0; r < outer; r++) {
    for (let j = 0; j < inner; j++) {
      const base = r * len * inner + j;
      const end = base + len * inner;
      let dot = 0;
      for (let k = base; k < end; k += inner) dot += g[k] * y[k];
      for (let k = base; k < end; k += inner) o[k] = y[k] * (g[k] - dot);
    }
  }
}

function logSoftmaxBackward({ grad, output, axis, out }: AxisGradArgs): void {
  const g = hostFloat(grad);
  const y = hostFloat(output);
  const o = hostFloat(out);
  const [outer, len, inner] = around(output, axis);
  if (inner === 1) {
    for (let base = 0, end = len; base < outer * len; base += len, end += len) {
      let total = 0;
      for (let k = base; k < end; k++) total += g[k];
      for (let k = base; k < end; k++) o[k] = g[k] - Math.exp(y[k]) * total;
    }
    return;
  }
  for (let r = 0; r < outer; r++) {
    for (let j = 0; j < inner; j++) {
      const base = r * len * inner + j;
      const end = base + len * inner;
      let total = 0;
      for (let k = base; k < end; k += inner) total += g[k];
      for (let k = base; k < end; k += inner) o[k] = g[k] - Math.exp(y[k]) * total;
    }
  }
}

function layerNorm({
  x,
  weight,
  bias,
  eps,
  out,
  mean,
  invStd,
}: KernelArgs<'layerNorm'>): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  const m = hostFloat(mean);
  const s = hostFloat(invStd);
  const w = weight === undefined ? undefined : hostFloat(weight);
  const b = bias === undefined ? undefined : hostFloat(bias);
  const rows = m.length;
  const features = rows === 0 ? 0 : a.length / rows;
  for (let r = 0; r < rows; r++) {
    const base = r * features;
    let total = 0;
    for (let f = 0; f < features; f++) total += a[base + f];
    const mu = total / features;
    let squares = 0;
    for (let f = 0; f < features; f++) {
      const d = a[base + f] - mu;
      squares += d * d;
    }
    const inv = 1 / Math.sqrt(squares / features + eps);
    m[r] = mu;
    s[r] = inv;
    for (let f = 0; f < features; f++) {
      let v = (a[base + f] - mu) * inv;
      if (w !== undefined) v *= w[f];
      if (b !== undefined) v += b[f];
      o[base + f] = v;
    }
  }
}

function layerNormBackward({
  grad,
  x,
  mean,
  invStd,
  weight,
  dx,
  dWeight,
  dBias,
}: KernelArgs<'layerNormBackward'>): void {
  const g = hostFloat(grad);
  const a = hostFloat(x);
  const m = hostFloat(mean);
  const s = hostFloat(invStd);
  const w = weight === undefined ? undefined : hostFloat(weight);
  const rows = m.length;
  const features = rows === 0 ? 0 : a.length / rows;
  if (dx !== undefined) {
    const d = hostFloat(dx);
    for (let r = 0; r < rows; r++) {
      const base = r * features;
      const mu = m[r];
      const inv = s[r];
      // dx = inv/F · (F·ĝ − Σĝ − x̂·Σ ĝ·x̂), ĝ = g·w, x̂ = (x − mean)·inv.
      let sumG = 0;
      let sumGX = 0;
      for (let f = 0; f < features; f++) {
        const gh = w === undefined ? g[base + f] : g[base + f] * w[f];
        sumG += gh;
        sumGX += gh * (a[base + f] - mu) * inv;
      }
      for (let f = 0; f < features; f++) {
        const gh = w === undefined ? g[base + f] : g[base + f] * w[f];
        const xh = (a[base + f] - mu) * inv;
        d[base + f] = (inv / features) * (features * gh - sumG - xh * sumGX);
      }
    }
  }
  if (dWeight !== undefined || dBias !== undefined) {
    const dw = dWeight === undefined ? undefined : hostFloat(dWeight);
    const db = dBias === undefined ? undefined : hostFloat(dBias);
    for (let f = 0; f < features; f++) {
      let sw = 0;
      let sb = 0;
      for (let r = 0; r < rows; r++) {
        const k = r * features + f;
        sw += g[k] * (a[k] - m[r]) * s[r];
        sb += g[k];
      }
      if (dw !== undefined) dw[f] += sw;
      if (db !== undefined) db[f] += sb;
    }
  }
}

export const normalizeKernels = {
  softmax: (args: AxisArgs) => softmaxLike(false, args),
  logSoftmax: (args: AxisArgs) => softmaxLike(true, args),
  softmaxBackward,
  logSoftmaxBackward,
  layerNorm,
  layerNormBackward,
} satisfies Partial<Kernels>;
