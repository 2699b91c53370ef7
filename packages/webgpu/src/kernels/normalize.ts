/**
 * Softmax and its kin, layer normalisation and the negative log-likelihood,
 * on the row machinery of `reduce.ts`: a row (one position of every axis but
 * the normalised ones) is reduced in workgroup memory, phase after phase, and
 * written back by the same workgroup in the same dispatch.
 */
import type { Kernels, NDArray } from '@backprop/ndarray';
import type { GpuRuntime } from '../runtime';
import { type Phase, aroundAxis, extremumFold, layoutOf, reduceRows, runRows, sumFold } from './reduce';

const SUM = sumFold('f32');
const MAX = extremumFold(true, 'float32');
const PAIR = sumFold('vec2f');

/** exp and log that keep a NaN: WGSL leaves a built-in's NaN result to the implementation (SwiftShader's exp(NaN) is not NaN). */
const NAN_SAFE = `fn expNan(v: f32) -> f32 { if (isNan(v)) { return v; } return exp(v); }
fn logNan(v: f32) -> f32 { if (isNan(v)) { return v; } return log(v); }`;

/** The row maximum m, then s = Σ exp(x − m), then `after`: what softmax and logSoftmax normalise with. */
function shiftAndSum(after: string): Phase[] {
  return [
    { name: 'm', fold: MAX, load: 'x[i]' },
    // A row of −∞ (or holding +∞) has no finite shift: x − m is NaN somewhere, and so the row, as torch.
    { name: 's', fold: SUM, load: 'expNan(x[i] - m)', after },
  ];
}

/**
 * nllLoss's three sums over the counted rows, one element at a time: element
 * (o, c, s) of input adds w_c·x to Σ Σ_c w_c·x_c and, where c is the row's
 * target y, w_y·x to Σ w_y·x_y and w_y to Σ w_y (a vec4f: x, y, z).
 */
function nllTerm(weighted: boolean): string {
  const w = (c: string) => (weighted ? `weight[${c}]` : '1.0');
  return `fn term(i: u32) -> vec4f {
  let s = i % params.inner;
  let t = i / params.inner;
  let c = t % params.classes;
  let y = labels[(t / params.classes) * params.inner + s];
  if (y < 0) { return vec4f(); }
  let v = x[i];
  let hit = u32(y) == c;
  let wy = ${w('u32(y)')};
  return vec4f(select(0.0, wy * v, hit), ${w('c')} * v, select(0.0, wy, hit), 0.0);
}`;
}

/** [outer, classes, inner] of an array with its class axis at `axis`. */
function classGeometry(shape: readonly number[], axis: number): { outer: number; classes: number; inner: number } {
  const span = (from: number, to: number) => shape.slice(from, to).reduce((n, d) => n * d, 1);
  return { outer: span(0, axis), classes: shape[axis], inner: span(axis + 1, shape.length) };
}

/** The rows of layer norm: x as [rows, features] (rows = mean's size). */
function featureRows(x: NDArray, rows: number): [number, number] {
  return [rows, rows === 0 ? 0 : x.size / rows];
}

export function normalizeKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    softmax: ({ x, axis, out }) =>
      runRows(gpu, {
        label: 'softmax',
        layout: aroundAxis(x.shape, axis),
        inputs: { x },
        outputs: { out },
        helpers: NAN_SAFE,
        phases: shiftAndSum('let inv = 1.0 / s;'),
        write: 'out[i] = expNan(x[i] - m) * inv;',
      }),
    logSoftmax: ({ x, axis, out }) =>
      runRows(gpu, {
        label: 'logSoftmax',
        layout: aroundAxis(x.shape, axis),
        inputs: { x },
        outputs: { out },
        helpers: NAN_SAFE,
        phases: shiftAndSum('let lse = logNan(s);'),
        // (x − max) − log Σ, in torch's order: max + log Σ first would lose small log-probabilities.
        write: 'out[i] = x[i] - m - lse;',
      }),
    softmaxBackward: ({ grad, output, axis, out }) =>
      runRows(gpu, {
        label: 'softmaxBackward',
        layout: aroundAxis(output.shape, axis),
        inputs: { g: grad, y: output },
        outputs: { out },
        phases: [{ name: 'dot', fold: SUM, load: 'g[i] * y[i]' }],
        write: 'out[i] = y[i] * (g[i] - dot);',
      }),
    logSoftmaxBackward: ({ grad, output, axis, out }) =>
      runRows(gpu, {
        label: 'logSoftmaxBackward',
        layout: aroundAxis(output.shape, axis),
        inputs: { g: grad, y: output },
        outputs: { out },
        helpers: NAN_SAFE,
        phases: [{ name: 'total', fold: SUM, load: 'g[i]' }],
        write: 'out[i] = g[i] - expNan(y[i]) * total;',
      }),
    layerNorm: ({ x, weight, bias, eps, out, mean, invStd }) => {
      let value = '(x[i] - mu) * inv';
      if (weight !== undefined) value += ' * weight[k]';
      if (bias !== undefined) value += ' + bias[k]';
      runRows(gpu, {
        label: 'layerNorm',
        layout: layoutOf(featureRows(x, mean.size), [1]),
        inputs: { x, ...(weight && { weight }), ...(bias && { bias }) },
        outputs: { out, mean, invStd },
        params: { eps: ['f32', eps] },
        // Two passes over the row (it is in cache): the mean, then the squared deviations from it.
        phases: [
          { name: 'total', fold: SUM, load: 'x[i]', after: 'let mu = total / f32(params.len);' },
          { name: 'squares', fold: SUM, load: '(x[i] - mu) * (x[i] - mu)', after: 'let inv = 1.0 / sqrt(squares / f32(params.len) + params.eps);' },
        ],
        finish: 'mean[r] = mu; invStd[r] = inv;',
        write: `out[i] = ${value};`,
      });
    },
    layerNormBackward: ({ grad, x, mean, invStd, weight, dx, dWeight, dBias }) => {
      const [rows, features] = featureRows(x, mean.size);
      const stats = { mean, invStd };
      if (dx !== undefined) {
        // dx = inv/F · (F·ĝ − Σĝ − x̂·Σ ĝ·x̂), ĝ = g·w, x̂ = (x − mean)·inv: both sums in one phase.
        runRows(gpu, {
          label: 'layerNormBackward',
          layout: layoutOf([rows, features], [1]),
          inputs: { g: grad, x, ...stats, ...(weight && { weight }) },
          outputs: { dx },
          helpers: `fn ghat(i: u32, k: u32) -> f32 { return g[i]${weight === undefined ? '' : ' * weight[k]'}; }
fn xhat(i: u32, r: u32) -> f32 { return (x[i] - mean[r]) * invStd[r]; }`,
          phases: [{ name: 'sums', fold: PAIR, load: 'vec2f(ghat(i, k), ghat(i, k) * xhat(i, r))', after: 'let f = f32(params.len);' }],
          write: 'dx[i] = (invStd[r] / f) * (f * ghat(i, k) - sums.x - xhat(i, r) * sums.y);',
        });
      }
      if (dWeight === undefined && dBias === undefined) return;
      // Over the rows, per feature: Σ g·x̂ and Σ g, added into the gradients.
      const finish = [dWeight && 'dWeight[r] += acc.x;', dBias && 'dBias[r] += acc.y;'].filter(Boolean).join(' ');
      reduceRows(gpu, {
        label: 'layerNormBackward (affine)',
        layout: layoutOf([rows, features], [0]),
        fold: PAIR,
        inputs: { g: grad, x, ...stats },
        load: 'vec2f(g[i] * (x[i] - mean[k]) * invStd[k], g[i])',
        finish,
        outputs: { ...(dWeight && { dWeight }), ...(dBias && { dBias }) },
      });
    },
    nllLoss: ({ input, target, weight, axis, out }) => {
      const { classes, inner } = classGeometry(input.shape, axis);
      reduceRows(gpu, {
        label: 'nllLoss',
        layout: layoutOf([input.size], [0]),
        fold: sumFold('vec4f'),
        // 'target' is a reserved word in WGSL.
        inputs: { x: input, labels: target, ...(weight && { weight }) },
        helpers: nllTerm(weight !== undefined),
        load: 'term(i)',
        finish: 'out[0] = acc.x; out[1] = acc.y; out[2] = acc.z;',
        outputs: { out },
        params: { classes: ['u32', classes], inner: ['u32', inner] },
      });
    },
    nllLossBackward: ({ target, weight, labelSmoothing, scale, axis, out }) => {
      const n = out.size;
      if (n === 0) return;
      const { classes, inner } = classGeometry(out.shape, axis);
      const w = (c: string) => (weight === undefined ? '1.0' : `weight[${c}]`);
      // −scale·((1 − ε)·w_y·[c = y] + (ε/C)·w_c) on counted rows; the smoothing term only where ε ≠ 0 (0·∞ would be NaN).
      const hit = `select(0.0, params.keep * ${w('c')}, u32(y) == c)`;
      const coefficient = labelSmoothing === 0 ? hit : `${hit} + params.spread * ${w('c')}`;
      gpu.run({
        label: 'nllLossBackward',
        inputs: { labels: target, ...(weight && { weight }) },
        outputs: { out },
        params: {
          n: ['u32', n],
          classes: ['u32', classes],
          inner: ['u32', inner],
          keep: ['f32', 1 - labelSmoothing],
          spread: ['f32', labelSmoothing / classes],
          scale: ['f32', scale],
        },
        code: `@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = groupIndex(wid, nwg) * 256u + lid;
  if (i >= params.n) { return; }
  let s = i % params.inner;
  let t = i / params.inner;
  let c = t % params.classes;
  let y = labels[(t / params.classes) * params.inner + s];
  var v = 0.0;
  if (y >= 0) { v = params.scale * (${coefficient}); }
  // 0 − v: a zero coefficient gives +0 whatever scale's sign, as torch's.
  out[i] = select(-v, 0.0, v == 0.0);
}`,
        workgroups: Math.ceil(n / 256),
      });
    },
  };
}
