/**
 * The elementwise TypeScript kernels: arithmetic and comparisons with numpy
 * broadcasting, functions of one array, the activations' backward passes,
 * fill, copy and cast. Each writes every element of `out` in one pass, with
 * the arithmetic in double and one rounding into out's dtype.
 */
import type { TypedArray } from '../../dtype';
import type { BinaryArgs, InputGradArgs, KernelArgs, Kernels, OutputGradArgs, UnaryArgs } from '../types';
import { fma } from '../../fma';
import { erf as erfScalar } from './erf';
import { broadcastStrides, host, hostFloat } from './host';

type BinaryName =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'equal'
  | 'notEqual'
  | 'less'
  | 'lessEqual'
  | 'greater'
  | 'greaterEqual';

/** One row of a broadcast binary op: n elements with strides sa, sb (0 for a broadcast operand). */
function binaryRow(
  op: BinaryName,
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
        const x = a[ia];
        const y = b[ib];
        out[io] = x > y || Number.isNaN(x) ? x : y;
      }
      return;
    case 'minimum':
      for (; io < end; io++, ia += sa, ib += sb) {
        const x = a[ia];
        const y = b[ib];
        out[io] = x < y || Number.isNaN(x) ? x : y;
      }
      return;
    case 'equal':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] === b[ib] ? 1 : 0;
      return;
    case 'notEqual':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] !== b[ib] ? 1 : 0;
      return;
    case 'less':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] < b[ib] ? 1 : 0;
      return;
    case 'lessEqual':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] <= b[ib] ? 1 : 0;
      return;
    case 'greater':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] > b[ib] ? 1 : 0;
      return;
    case 'greaterEqual':
      for (; io < end; io++, ia += sa, ib += sb) out[io] = a[ia] >= b[ib] ? 1 : 0;
      return;
  }
}

/**
 * Runs `op` over out's shape. Dimensions that are contiguous for both operands
 * are merged first, so most calls become one long row or a few rows of a
 * simple pattern.
 */
function binary(op: BinaryName, { a, b, out }: BinaryArgs): void {
  const shape = out.shape;
  const A = host(a);
  const B = host(b);
  const O = host(out);
  if (a.size === O.length && b.size === O.length) {
    binaryRow(op, O.length, A, 0, 1, B, 0, 1, O, 0);
    return;
  }
  const aStrides = broadcastStrides(a.shape, shape);
  const bStrides = broadcastStrides(b.shape, shape);
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && sa[last] === aStrides[d] * shape[d] && sb[last] === bStrides[d] * shape[d]) {
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
    binaryRow(op, O.length === 0 ? 0 : 1, A, 0, 0, B, 0, 0, O, 0);
    return;
  }
  const nd = dims.length;
  const n = dims[nd - 1];
  const rows = O.length / n;
  const index = new Array<number>(nd).fill(0);
  let ia = 0;
  let ib = 0;
  for (let row = 0, io = 0; row < rows; row++, io += n) {
    binaryRow(op, n, A, ia, sa[nd - 1], B, ib, sb[nd - 1], O, io);
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

/** out = condition ≠ 0 ? a : b with all three broadcast to out's shape. */
function where({ condition, a, b, out }: KernelArgs<'where'>): void {
  const shape = out.shape;
  const C = host(condition);
  const A = host(a);
  const B = host(b);
  const O = host(out);
  const sc = broadcastStrides(condition.shape, shape);
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const nd = shape.length;
  const index = new Array<number>(nd).fill(0);
  let ic = 0;
  let ia = 0;
  let ib = 0;
  for (let io = 0; io < O.length; io++) {
    O[io] = C[ic] !== 0 ? A[ia] : B[ib];
    for (let d = nd - 1; d >= 0; d--) {
      ic += sc[d];
      ia += sa[d];
      ib += sb[d];
      if (++index[d] < shape[d]) break;
      ic -= sc[d] * shape[d];
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      index[d] = 0;
    }
  }
}

type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square' | 'sign' | 'tanh' | 'sigmoid' | 'relu';

function unary(op: UnaryName, { x, out }: UnaryArgs): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  const n = a.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) o[i] = -a[i];
      return;
    case 'exp':
      for (let i = 0; i < n; i++) o[i] = Math.exp(a[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) o[i] = Math.log(a[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) o[i] = Math.sqrt(a[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) o[i] = Math.abs(a[i]);
      return;
    case 'square':
      for (let i = 0; i < n; i++) o[i] = a[i] * a[i];
      return;
    case 'sign':
      for (let i = 0; i < n; i++) {
        const v = a[i];
        o[i] = v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v; // NaN stays NaN
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) o[i] = Math.tanh(a[i]);
      return;
    case 'sigmoid':
      // 1/(1+exp(-x)) everywhere, as torch computes it: saturated values round
      // the same way. In float32, torch rounds after each step; so do we.
      if (o instanceof Float32Array) {
        const f = Math.fround;
        for (let i = 0; i < n; i++) o[i] = 1 / f(1 + f(Math.exp(-a[i])));
      } else {
        for (let i = 0; i < n; i++) o[i] = 1 / (1 + Math.exp(-a[i]));
      }
      return;
    case 'relu':
      // NaN stays NaN (NaN > 0 is false, but the test below keeps it).
      for (let i = 0; i < n; i++) {
        const v = a[i];
        o[i] = v > 0 || Number.isNaN(v) ? v : 0;
      }
      return;
  }
}

function leakyRelu({ x, negativeSlope, out }: KernelArgs<'leakyRelu'>): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  for (let i = 0; i < a.length; i++) o[i] = a[i] > 0 ? a[i] : a[i] * negativeSlope;
}

function clip({ x, min, max, out }: KernelArgs<'clip'>): void {
  const a = host(x);
  const o = host(out);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    o[i] = v < min ? min : v > max ? max : v;
  }
}

function reluBackward({ grad, output, out }: OutputGradArgs): void {
  const g = hostFloat(grad);
  const y = hostFloat(output);
  const o = hostFloat(out);
  for (let i = 0; i < g.length; i++) o[i] = y[i] > 0 ? g[i] : 0;
}

function tanhBackward({ grad, output, out }: OutputGradArgs): void {
  const g = hostFloat(grad);
  const y = hostFloat(output);
  const o = hostFloat(out);
  for (let i = 0; i < g.length; i++) o[i] = g[i] * (1 - y[i] * y[i]);
}

function sigmoidBackward({ grad, output, out }: OutputGradArgs): void {
  const g = hostFloat(grad);
  const y = hostFloat(output);
  const o = hostFloat(out);
  for (let i = 0; i < g.length; i++) o[i] = g[i] * (1 - y[i]) * y[i];
}

function leakyReluBackward({
  grad,
  input,
  negativeSlope,
  out,
}: KernelArgs<'leakyReluBackward'>): void {
  const g = hostFloat(grad);
  const x = hostFloat(input);
  const o = hostFloat(out);
  for (let i = 0; i < g.length; i++) o[i] = x[i] > 0 ? g[i] : g[i] * negativeSlope;
}

// The smooth activations. Each element is computed in double with torch's
// formula (aten/src/ATen/native/cpu/Activation.cpp, in its order of
// operations) and rounded once into out; torch's float32 kernels round each
// step, which stays within float32's tolerance of this.

/** √2·(2/√π)·0.5 = √(2/π), torch's kBeta for the tanh form (M_SQRT2 * M_2_SQRTPI * 0.5). */
const GELU_TANH_BETA = Math.SQRT2 * 1.1283791670955126 * 0.5;
const GELU_TANH_KAPPA = 0.044715;
/** (2/√π)·(1/√2)·0.5 = 1/√(2π), the normal density's constant (M_2_SQRTPI * M_SQRT1_2 * 0.5). */
const GELU_PDF_BETA = 1.1283791670955126 * Math.SQRT1_2 * 0.5;

function erf({ x, out }: UnaryArgs): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  for (let i = 0; i < a.length; i++) o[i] = erfScalar(a[i]);
}

function gelu({ x, approximate, out }: KernelArgs<'gelu'>): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  if (approximate === 'tanh') {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      const inner = GELU_TANH_BETA * (v + GELU_TANH_KAPPA * (v * v * v));
      o[i] = 0.5 * v * (1 + Math.tanh(inner));
    }
  } else {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      o[i] = v * 0.5 * (1 + erfScalar(v * Math.SQRT1_2));
    }
  }
}

function geluBackward({ grad, input, approximate, out }: KernelArgs<'geluBackward'>): void {
  const g = hostFloat(grad);
  const a = hostFloat(input);
  const o = hostFloat(out);
  if (approximate === 'tanh') {
    for (let i = 0; i < g.length; i++) {
      const v = a[i];
      const square = v * v;
      const t = Math.tanh(GELU_TANH_BETA * (v + GELU_TANH_KAPPA * (square * v)));
      const left = 0.5 * v;
      const leftDerivative = 0.5 * (1 + t);
      // torch's build contracts 1 − t² and 1 + 3κx² into fused multiply-adds; near
      // saturation (x ≈ −5) 1 − t² cancels, and only the fused form gives its digits.
      const innerDerivative = GELU_TANH_BETA * fma(3 * GELU_TANH_KAPPA, square, 1);
      const rightDerivative = left * fma(-t, t, 1) * innerDerivative;
      o[i] = g[i] * (leftDerivative + rightDerivative);
    }
  } else {
    for (let i = 0; i < g.length; i++) {
      const v = a[i];
      const cdf = 0.5 * (1 + erfScalar(v * Math.SQRT1_2));
      const pdf = GELU_PDF_BETA * Math.exp(v * v * -0.5);
      o[i] = g[i] * (cdf + v * pdf);
    }
  }
}

function silu({ x, out }: UnaryArgs): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  for (let i = 0; i < a.length; i++) o[i] = a[i] / (1 + Math.exp(-a[i]));
}

function siluBackward({ grad, input, out }: InputGradArgs): void {
  const g = hostFloat(grad);
  const a = hostFloat(input);
  const o = hostFloat(out);
  for (let i = 0; i < g.length; i++) {
    const v = a[i];
    const s = 1 / (1 + Math.exp(-v));
    o[i] = g[i] * s * (1 + v * (1 - s));
  }
}

function elu({ x, alpha, out }: KernelArgs<'elu'>): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    o[i] = v <= 0 ? (Math.exp(v) - 1) * alpha : v;
  }
}

function eluBackward({ grad, input, alpha, out }: KernelArgs<'eluBackward'>): void {
  const g = hostFloat(grad);
  const a = hostFloat(input);
  const o = hostFloat(out);
  for (let i = 0; i < g.length; i++) {
    const v = a[i];
    // NaN takes the exponential branch, so a NaN input gives a NaN gradient, as torch's vectorised kernel.
    o[i] = v > 0 ? g[i] : g[i] * alpha * Math.exp(v);
  }
}

function softplus({ x, beta, threshold, out }: KernelArgs<'softplus'>): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  // beta·x is rounded to the array's precision before the threshold test, as torch computes it.
  const f32 = o instanceof Float32Array;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    const scaled = f32 ? Math.fround(v * beta) : v * beta;
    o[i] = scaled > threshold ? v : Math.log1p(Math.exp(scaled)) / beta;
  }
}

function softplusBackward({ grad, input, beta, threshold, out }: KernelArgs<'softplusBackward'>): void {
  const g = hostFloat(grad);
  const a = hostFloat(input);
  const o = hostFloat(out);
  const f32 = o instanceof Float32Array;
  for (let i = 0; i < g.length; i++) {
    const scaled = f32 ? Math.fround(a[i] * beta) : a[i] * beta;
    if (scaled > threshold) {
      o[i] = g[i];
    } else {
      const z = Math.exp(scaled);
      o[i] = (g[i] * z) / (z + 1);
    }
  }
}

function mish({ x, out }: UnaryArgs): void {
  const a = hostFloat(x);
  const o = hostFloat(out);
  for (let i = 0; i < a.length; i++) o[i] = a[i] * Math.tanh(Math.log1p(Math.exp(a[i])));
}

function mishBackward({ grad, input, out }: InputGradArgs): void {
  const g = hostFloat(grad);
  const a = hostFloat(input);
  const o = hostFloat(out);
  for (let i = 0; i < g.length; i++) {
    const v = a[i];
    const s = 1 / (1 + Math.exp(-v));
    const t = Math.tanh(Math.log1p(Math.exp(v)));
    o[i] = g[i] * (t + v * s * (1 - t * t));
  }
}

function fill({ out, value }: KernelArgs<'fill'>): void {
  host(out).fill(value);
}

function copy({ x, out }: UnaryArgs): void {
  host(out).set(host(x));
}

function cast({ x, out }: UnaryArgs): void {
  // TypedArray.set rounds to nearest into float32 and truncates toward zero into int32.
  host(out).set(host(x));
}

export const elementwiseKernels = {
  add: (args: BinaryArgs) => binary('add', args),
  sub: (args: BinaryArgs) => binary('sub', args),
  mul: (args: BinaryArgs) => binary('mul', args),
  div: (args: BinaryArgs) => binary('div', args),
  pow: (args: BinaryArgs) => binary('pow', args),
  maximum: (args: BinaryArgs) => binary('maximum', args),
  minimum: (args: BinaryArgs) => binary('minimum', args),
  equal: (args: BinaryArgs) => binary('equal', args),
  notEqual: (args: BinaryArgs) => binary('notEqual', args),
  less: (args: BinaryArgs) => binary('less', args),
  lessEqual: (args: BinaryArgs) => binary('lessEqual', args),
  greater: (args: BinaryArgs) => binary('greater', args),
  greaterEqual: (args: BinaryArgs) => binary('greaterEqual', args),
  where,
  neg: (args: UnaryArgs) => unary('neg', args),
  exp: (args: UnaryArgs) => unary('exp', args),
  log: (args: UnaryArgs) => unary('log', args),
  sqrt: (args: UnaryArgs) => unary('sqrt', args),
  abs: (args: UnaryArgs) => unary('abs', args),
  square: (args: UnaryArgs) => unary('square', args),
  sign: (args: UnaryArgs) => unary('sign', args),
  tanh: (args: UnaryArgs) => unary('tanh', args),
  sigmoid: (args: UnaryArgs) => unary('sigmoid', args),
  relu: (args: UnaryArgs) => unary('relu', args),
  leakyRelu,
  clip,
  reluBackward,
  tanhBackward,
  sigmoidBackward,
  leakyReluBackward,
  erf,
  gelu,
  geluBackward,
  silu,
  siluBackward,
  elu,
  eluBackward,
  softplus,
  softplusBackward,
  mish,
  mishBackward,
  fill,
  copy,
  cast,
} satisfies Partial<Kernels>;
