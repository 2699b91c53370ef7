/**
 * Convolution unfolding and pooling over NCHW arrays, one invocation per
 * element that a kernel owns, 256 to a workgroup:
 *
 * - `im2col`: one invocation per (image, channel, output position) writes that
 *   position's kh·kw taps, one per column row, so neighbouring invocations
 *   write neighbouring elements of every row.
 * - `col2im`, `maxPool2dBackward`, `avgPool2dBackward`: one invocation per
 *   input pixel gathers what lands on it from the columns or outputs whose
 *   window covers it, in the order the TypeScript kernels add it: no atomics,
 *   the same sum on every run.
 * - `maxPool2d`, `avgPool2d`: one invocation per output scans its window
 *   (clipped to the input) in row-major order.
 *
 * Positions and sizes are i32, so a window's start may be negative (padding).
 */
import type { AvgPoolDivisor, Conv2dGeometry, Kernels, NDArray, Pool2dGeometry } from '@backprop/ndarray';
import type { GpuRuntime, Param } from '../runtime';
import { MATH } from '../wgsl';
import { forEach } from './launch';

interface Pass {
  label: string;
  /** Invocations: `t` runs over [0, count). */
  count: number;
  inputs: Record<string, NDArray>;
  outputs: Record<string, NDArray>;
  params: Record<string, Param>;
  /** WGSL functions the body calls. */
  prelude?: string;
  /** The body of one invocation, which reads its index as `t` (i32). */
  body: string;
}

/** Runs `body` once per index t in [0, count) through the shared launcher; nothing when count is 0. */
function launch(gpu: GpuRuntime, pass: Pass): void {
  forEach(gpu, {
    label: pass.label,
    inputs: pass.inputs,
    outputs: pass.outputs,
    params: pass.params,
    n: pass.count,
    prelude: `${MATH}\n${pass.prelude ?? ''}`,
    body: `  let t = i32(i);\n${pass.body}`,
  });
}

/** The sizes every kernel reads as `params.<name>`, as i32. */
function ints(sizes: Record<string, number>): Record<string, Param> {
  return Object.fromEntries(Object.entries(sizes).map(([name, value]) => [name, ['i32', value] as const]));
}

function convParams(g: Conv2dGeometry): Record<string, Param> {
  return ints({
    height: g.height,
    width: g.width,
    kh: g.kernelH,
    kw: g.kernelW,
    sh: g.strideH,
    sw: g.strideW,
    ph: g.padH,
    pw: g.padW,
    dh: g.dilationH,
    dw: g.dilationW,
    outH: g.outH,
    outW: g.outW,
  });
}

function poolParams(g: Pool2dGeometry, divisor?: AvgPoolDivisor): Record<string, Param> {
  const sizes = ints({
    height: g.height,
    width: g.width,
    kh: g.kernelH,
    kw: g.kernelW,
    sh: g.strideH,
    sw: g.strideW,
    ph: g.padH,
    pw: g.padW,
    outH: g.outH,
    outW: g.outW,
  });
  if (divisor === undefined) return sizes;
  // divisorOverride is a non-zero integer when given, so 0 stands for none.
  return { ...sizes, ...ints({ countIncludePad: divisor.countIncludePad ? 1 : 0, divisorOverride: divisor.divisorOverride ?? 0 }) };
}

/** An output's window as (row, column) pairs: its corner `start` (in the padding when negative), and rows [lo.x, hi.x), columns [lo.y, hi.y) of it inside the input. */
const POOL_WINDOW = /* wgsl */ `
struct Window { start: vec2i, lo: vec2i, hi: vec2i }
fn window(oy: i32, ox: i32) -> Window {
  let start = vec2i(oy * params.sh - params.ph, ox * params.sw - params.pw);
  let lo = max(start, vec2i(0, 0));
  let hi = min(start + vec2i(params.kh, params.kw), vec2i(params.height, params.width));
  return Window(start, lo, hi);
}`;

/**
 * The outputs o (along one axis) whose window [o·stride − pad, o·stride − pad
 * + kernel) holds input position v, as [first, last]: empty when first > last.
 */
const COVERING = /* wgsl */ `
fn covering(v: i32, pad: i32, kernel: i32, stride: i32, outSize: i32) -> vec2i {
  let reach = v + pad - kernel + 1;
  let first = select(0, (reach + stride - 1) / stride, reach > 0);
  return vec2i(first, min((v + pad) / stride, outSize - 1));
}`;

/** Average pooling's divisor at output (oy, ox), as the TypeScript kernel's `divisorAt` (torch's rule). */
const DIVISOR = /* wgsl */ `
fn divisor(oy: i32, ox: i32) -> f32 {
  if (params.divisorOverride != 0) { return f32(params.divisorOverride); }
  let w = window(oy, ox);
  if (params.countIncludePad != 0) {
    let end = min(w.start + vec2i(params.kh, params.kw), vec2i(params.height + params.ph, params.width + params.pw));
    let size = end - w.start;
    return f32(size.x * size.y);
  }
  let size = w.hi - w.lo;
  return f32(size.x * size.y);
}`;

/** The plane (image·channel), row and column of input pixel t. */
const INPUT_PIXEL = /* wgsl */ `
  let column = t % params.width;
  let row = (t / params.width) % params.height;
  let plane = t / (params.width * params.height);`;

/** The plane, row oy and column ox of output t. */
const OUTPUT_POSITION = /* wgsl */ `
  let ox = t % params.outW;
  let oy = (t / params.outW) % params.outH;
  let plane = t / (params.outW * params.outH);`;

/**
 * One invocation per input pixel: `sum` gathers `contribution` (a statement
 * that reads the output index k and its oy, ox) over every output whose
 * window covers the pixel, in output order, as the TypeScript kernels add.
 */
function poolBackward(gpu: GpuRuntime, pass: Omit<Pass, 'count' | 'outputs' | 'body'> & { out: NDArray; contribution: string }): void {
  const { out, contribution, prelude = '', ...rest } = pass;
  launch(gpu, {
    ...rest,
    count: out.size,
    outputs: { out },
    prelude: `${COVERING}\n${prelude}`,
    body: `${INPUT_PIXEL}
  let pixel = row * params.width + column;
  let rows = covering(row, params.ph, params.kh, params.sh, params.outH);
  let columns = covering(column, params.pw, params.kw, params.sw, params.outW);
  var sum = 0.0;
  for (var oy = rows.x; oy <= rows.y; oy++) {
    for (var ox = columns.x; ox <= columns.y; ox++) {
      let k = (plane * params.outH + oy) * params.outW + ox;
      ${contribution}
    }
  }
  out[t] = sum;`,
  });
}

export function convKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    /** Thread per (image·channel nc, position p): tap (i, j) goes to row (c·kh + i)·kw + j, i.e. (nc·kh·kw + i·kw + j)·P + p. */
    im2col: ({ x, geometry: g, out }) => {
      const positions = g.outH * g.outW;
      launch(gpu, {
        label: 'im2col',
        count: g.batch * g.channels * positions,
        inputs: { image: x },
        outputs: { out },
        params: { ...convParams(g), positions: ['i32', positions] },
        body: `
  let p = t % params.positions;
  let nc = t / params.positions;
  let top = (p / params.outW) * params.sh - params.ph;
  let left = (p % params.outW) * params.sw - params.pw;
  let base = nc * params.height * params.width;
  var k = nc * params.kh * params.kw * params.positions + p;
  for (var i = 0; i < params.kh; i++) {
    let y = top + i * params.dh;
    let inside = y >= 0 && y < params.height;
    for (var j = 0; j < params.kw; j++) {
      let x = left + j * params.dw;
      var v = 0.0;
      if (inside && x >= 0 && x < params.width) { v = image[base + y * params.width + x]; }
      out[k] = v;
      k += params.positions;
    }
  }`,
      });
    },

    /** Thread per pixel (nc, y, x): the sum over taps (i, j) whose output (y + ph − i·dh)/sh, (x + pw − j·dw)/sw is whole and in range, in the order (i, j). */
    col2im: ({ cols, geometry: g, out }) => {
      const positions = g.outH * g.outW;
      launch(gpu, {
        label: 'col2im',
        count: out.size,
        inputs: { cols },
        outputs: { out },
        params: { ...convParams(g), positions: ['i32', positions] },
        body: `${INPUT_PIXEL}
  let rowBase = plane * params.kh * params.kw;
  var sum = 0.0;
  for (var i = 0; i < params.kh; i++) {
    let dy = row + params.ph - i * params.dh;
    let oy = dy / params.sh;
    if (dy < 0 || dy % params.sh != 0 || oy >= params.outH) { continue; }
    for (var j = 0; j < params.kw; j++) {
      let dx = column + params.pw - j * params.dw;
      let ox = dx / params.sw;
      if (dx < 0 || dx % params.sw != 0 || ox >= params.outW) { continue; }
      sum += cols[(rowBase + i * params.kw + j) * params.positions + oy * params.outW + ox];
    }
  }
  out[t] = sum;`,
      });
    },

    /** Thread per output: the window's maximum (−∞ and the window's first pixel to start; a NaN always takes over, `>` keeps the first of ties). */
    maxPool2d: ({ x, geometry: g, out, indices }) =>
      launch(gpu, {
        label: 'maxPool2d',
        count: out.size,
        inputs: { image: x },
        outputs: { out, argmax: indices },
        params: poolParams(g),
        prelude: POOL_WINDOW,
        body: `${OUTPUT_POSITION}
  let w = window(oy, ox);
  let base = plane * params.height * params.width;
  var best = -infinity();
  var at = w.lo.x * params.width + w.lo.y;
  for (var y = w.lo.x; y < w.hi.x; y++) {
    for (var i = y * params.width + w.lo.y; i < y * params.width + w.hi.y; i++) {
      let v = image[base + i];
      if (v > best || isNan(v)) {
        best = v;
        at = i;
      }
    }
  }
  out[t] = best;
  argmax[t] = at;`,
      }),

    /** Thread per input pixel: the gradients of the covering outputs whose index is this pixel, in output order. */
    maxPool2dBackward: ({ grad, indices, geometry: g, out }) =>
      poolBackward(gpu, {
        label: 'maxPool2dBackward',
        inputs: { grad, argmax: indices },
        out,
        params: poolParams(g),
        contribution: 'if (argmax[k] == pixel) { sum += grad[k]; }',
      }),

    /** Thread per output: the window's float32 sum in row-major order over the divisor. */
    avgPool2d: ({ x, geometry: g, divisor, out }) =>
      launch(gpu, {
        label: 'avgPool2d',
        count: out.size,
        inputs: { image: x },
        outputs: { out },
        params: poolParams(g, divisor),
        prelude: `${POOL_WINDOW}\n${DIVISOR}`,
        body: `${OUTPUT_POSITION}
  let w = window(oy, ox);
  let base = plane * params.height * params.width;
  var sum = 0.0;
  for (var y = w.lo.x; y < w.hi.x; y++) {
    for (var i = base + y * params.width + w.lo.y; i < base + y * params.width + w.hi.y; i++) { sum += image[i]; }
  }
  out[t] = sum / divisor(oy, ox);`,
      }),

    /** Thread per input pixel: grad / divisor of every covering output, in output order. */
    avgPool2dBackward: ({ grad, geometry: g, divisor, out }) =>
      poolBackward(gpu, {
        label: 'avgPool2dBackward',
        inputs: { grad },
        out,
        params: poolParams(g, divisor),
        prelude: `${POOL_WINDOW}\n${DIVISOR}`,
        contribution: 'sum += grad[k] / divisor(oy, ox);',
      }),
  };
}
