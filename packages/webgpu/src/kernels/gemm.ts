/**
 * The matrix product, `gemm`, as a tiled WGSL kernel.
 *
 * A workgroup computes a T×T tile of one C matrix (T = 64, or 32 for small
 * products) with (T/4)² threads, each holding a 4×4 block of accumulators:
 * thread (tx, ty) owns rows ty + R·i and columns tx + R·j (R = T/4, i, j < 4),
 * so neighbouring threads read neighbouring words of shared memory and write
 * neighbouring columns of C. Along the depth the operands go through shared
 * memory TK = 16 at a time: each thread stages a few elements of op(A)'s
 * T×TK tile and op(B)'s TK×T tile, reading along whichever dimension is
 * contiguous in memory (so a transpose is read in place, coalesced). The
 * tiles are stored depth-major with rows padded by 2 words, so both ways of
 * staging write 32 distinct banks. Elements past m, n or k stage as 0; NaN
 * and ∞ in A or B propagate, as no product is skipped.
 *
 * Batches: C's matrix u sums the products of `span` consecutive items (span 1
 * when cStride ≠ 0; every item, in order, when cStride is 0), and the
 * workgroups of all C matrices make one dispatch. The work of one tile is a
 * list of depth steps (item, k-step); when the tiles alone would leave a GPU
 * idle (a small C over a long depth: a weight gradient), that list is split
 * among several workgroups that write partial sums to a scratch buffer, and a
 * second kernel adds the parts in order (deterministic, no atomics) before the
 * epilogue. Epilogue: act(beta·C + bias + alpha·acc), where beta 0 never reads
 * C (its NaN included).
 */
import { type GemmProblem, type Kernels, NDArray } from '@backprop/ndarray';
import type { GpuRuntime, Param } from '../runtime';
import { MATH } from '../wgsl';

/** Depth of one step through shared memory. */
const TK = 16;
/** Below this many workgroups, a 64×64 tiling gives way to 32×32, then the depth is split. */
const BUSY = 128;
/** Workgroups wanted when the depth is split. */
const WANTED = 256;
/** The fewest depth steps one part of a split depth gets. */
const MIN_STEPS = 8;
/** Parts one depth is split into at most. */
const MAX_SPLIT = 32;
/** Threads per workgroup of the kernel that adds the parts. */
const REDUCE_GROUP = 256;

type BiasKind = 'none' | 'row' | 'column';

/** What the last step computes: whether C is read (beta ≠ 0), the bias's direction, the activation. */
interface Epilogue {
  beta: boolean;
  bias: BiasKind;
  activation: GemmProblem['activation'];
}

/** What selects a compiled product kernel: the tiling, the operands' layout and the epilogue. */
interface Variant extends Epilogue {
  tile: 32 | 64;
  transA: boolean;
  transB: boolean;
  /** Whether the kernel writes raw partial sums (the epilogue runs in the reduction). */
  partial: boolean;
}

const ACTIVATIONS = {
  relu: 'select(0.0, v, v > 0.0 || isNan(v))',
  tanh: 'tanh32(v)',
  sigmoid: 'sigmoid32(v)',
} as const;

/** WGSL that writes C[ci] = act(beta·C[ci] + bias + alpha·acc) for the element at row r, column col. */
function epilogue({ beta, bias, activation }: Epilogue, acc: string, indent: string): string {
  const start = [beta ? 'params.beta * c[ci]' : '', bias === 'row' ? 'bias[col]' : bias === 'column' ? 'bias[r]' : '']
    .filter((term) => term !== '')
    .join(' + ');
  const lines = [
    start === '' ? `let v = params.alpha * ${acc};` : `let v = (${start}) + params.alpha * ${acc};`,
    `c[ci] = ${activation === undefined ? 'v' : ACTIVATIONS[activation]};`,
  ];
  return lines.map((line) => indent + line).join('\n');
}

/** WGSL that stages one operand's tile: `tile[p·S + o] = op(X)[o0 + o, k0 + p]`, 0 outside the matrix. */
function stage(tile: string, load: string, kContiguous: boolean, perThread: number): string {
  // Consecutive threads take consecutive addresses: along the depth when it is contiguous, else along the other side.
  const [o, p] = kContiguous ? ['e / TK', 'e % TK'] : ['e % T', 'e / T'];
  return `  for (var l = 0u; l < ${perThread}u; l++) {
    let e = lid + l * R * R;
    ${tile}[(${p}) * S + ${o}] = ${load}(base, ${o}, ${p});
  }`;
}

function shader(v: Variant): string {
  const R = v.tile / 4;
  const perThread = (v.tile * TK) / (R * R);
  // op(A)[row, p] and op(B)[p, col] of the item whose matrix starts at `base`, within the tile at (row0, k0) / (k0, col0).
  const aIndex = v.transA ? 'p * params.m + row' : 'row * params.k + p';
  const bIndex = v.transB ? 'col * params.k + p' : 'p * params.n + col';
  const multiply = [0, 1, 2, 3].map((i) => `      acc[${i}] += As[p * S + ty + ${i}u * R] * bv;`).join('\n');
  const store = v.partial
    ? '      parts[(group * params.split + part) * params.m * params.n + r * params.n + col] = acc[i][j];'
    : `      let ci = params.cOffset + group * params.cStride + r * params.n + col;\n${epilogue(v, 'acc[i][j]', '      ')}`;
  return `${MATH}
const T = ${v.tile}u;
const R = ${R}u;
const TK = ${TK}u;
const S = T + 2u;
var<workgroup> As: array<f32, ${TK * (v.tile + 2)}>;
var<workgroup> Bs: array<f32, ${TK * (v.tile + 2)}>;
var<private> row0: u32;
var<private> col0: u32;
var<private> k0: u32;

fn loadA(base: u32, o: u32, q: u32) -> f32 {
  let row = row0 + o;
  let p = k0 + q;
  if (row >= params.m || p >= params.k) { return 0.0; }
  return a[base + ${aIndex}];
}
fn loadB(base: u32, o: u32, q: u32) -> f32 {
  let col = col0 + o;
  let p = k0 + q;
  if (col >= params.n || p >= params.k) { return 0.0; }
  return b[base + ${bIndex}];
}
fn stageA(base: u32, lid: u32) {
${stage('As', 'loadA', !v.transA, perThread)}
}
fn stageB(base: u32, lid: u32) {
${stage('Bs', 'loadB', v.transB, perThread)}
}

@compute @workgroup_size(${R}, ${R})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) lid: u32) {
  let tx = local.x;
  let ty = local.y;
  // Workgroup index → (column tile, row tile, part of the depth, C matrix).
  var w = groupIndex(wid, nwg);
  col0 = (w % params.tilesN) * T;
  w /= params.tilesN;
  row0 = (w % params.tilesM) * T;
  w /= params.tilesM;
  let part = w % params.split;
  let group = w / params.split;
  if (group >= params.groups) { return; }
  // Depth steps q = item · stepsPerItem + k-step, over the items of this C matrix; this part takes [first, last).
  let steps = params.span * params.stepsPerItem;
  let first = min(steps, part * params.stepsPerPart);
  let last = min(steps, first + params.stepsPerPart);
  var acc: array<vec4f, 4>;
  for (var q = first; q < last; q++) {
    let item = group * params.span + q / params.stepsPerItem;
    k0 = (q % params.stepsPerItem) * TK;
    stageA(params.aOffset + item * params.aStride, lid);
    stageB(params.bOffset + item * params.bStride, lid);
    workgroupBarrier();
    for (var p = 0u; p < TK; p++) {
      let bv = vec4f(Bs[p * S + tx], Bs[p * S + tx + R], Bs[p * S + tx + 2u * R], Bs[p * S + tx + 3u * R]);
${multiply}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = row0 + ty + i * R;
      let col = col0 + tx + j * R;
      if (r >= params.m || col >= params.n) { continue; }
${store}
    }
  }
}`;
}

/** The kernel that adds a split depth's parts in order and runs the epilogue, one thread per element of C. */
function reduceShader(e: Epilogue): string {
  return `${MATH}
@compute @workgroup_size(${REDUCE_GROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = groupIndex(wid, nwg) * ${REDUCE_GROUP}u + lid;
  let size = params.m * params.n;
  if (i >= params.groups * size) { return; }
  let group = i / size;
  let at = i % size;
  let r = at / params.n;
  let col = at % params.n;
  var acc = 0.0;
  for (var part = 0u; part < params.split; part++) {
    acc += parts[(group * params.split + part) * size + at];
  }
  let ci = params.cOffset + group * params.cStride + r * params.n + col;
${epilogue(e, 'acc', '  ')}
}`;
}

const tilesOf = (size: number, tile: number): number => Math.ceil(size / tile);

/** How a product is spread over workgroups: the tile, the workgroups of the tiles, and the parts its depth is split into. */
export interface GemmPlan {
  tile: 32 | 64;
  /** Workgroups that cover every C matrix once. */
  tiles: number;
  /** C matrices: `batch`, or 1 when cStride is 0 (every item summed into it). */
  groups: number;
  /** Items summed into each C matrix. */
  span: number;
  stepsPerItem: number;
  /** Parts the depth steps of one tile are split into (1: no split, the epilogue runs in the product kernel). */
  split: number;
  stepsPerPart: number;
}

/**
 * 64×64 tiles where they alone keep a GPU busy, else 32×32; when even those
 * are few, the depth is split into parts of at least MIN_STEPS steps.
 */
export function planGemm({ m, n, k, batch, cStride }: Pick<GemmProblem, 'm' | 'n' | 'k' | 'batch' | 'cStride'>): GemmPlan {
  const groups = cStride === 0 ? 1 : batch;
  const span = cStride === 0 ? batch : 1;
  const tile = tilesOf(m, 64) * tilesOf(n, 64) * groups >= BUSY ? 64 : 32;
  const tiles = tilesOf(m, tile) * tilesOf(n, tile) * groups;
  const stepsPerItem = tilesOf(k, TK);
  const steps = span * stepsPerItem;
  const split = tiles >= BUSY ? 1 : Math.max(1, Math.min(tilesOf(WANTED, tiles), Math.floor(steps / MIN_STEPS), MAX_SPLIT));
  return { tile, tiles, groups, span, stepsPerItem, split, stepsPerPart: Math.max(1, tilesOf(steps, split)) };
}

export function gemmKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    gemm: (problem: GemmProblem) => {
      const { a, b, c, m, n, k, batch, bias } = problem;
      if (m === 0 || n === 0 || batch === 0) return;
      const plan = planGemm(problem);
      const finish: Epilogue = {
        beta: problem.beta !== 0,
        bias: bias === undefined ? 'none' : bias.ndim === 1 ? 'row' : 'column',
        activation: problem.activation,
      };
      const params: Record<string, Param> = {
        m: ['u32', m],
        n: ['u32', n],
        k: ['u32', k],
        aOffset: ['u32', problem.aOffset],
        bOffset: ['u32', problem.bOffset],
        cOffset: ['u32', problem.cOffset],
        aStride: ['u32', problem.aStride],
        bStride: ['u32', problem.bStride],
        cStride: ['u32', problem.cStride],
        alpha: ['f32', problem.alpha],
        beta: ['f32', problem.beta],
        tilesM: ['u32', tilesOf(m, plan.tile)],
        tilesN: ['u32', tilesOf(n, plan.tile)],
        groups: ['u32', plan.groups],
        span: ['u32', plan.span],
        stepsPerItem: ['u32', plan.stepsPerItem],
        split: ['u32', plan.split],
        stepsPerPart: ['u32', plan.stepsPerPart],
      };
      const partial = plan.split > 1;
      const code = shader({ tile: plan.tile, transA: problem.transA, transB: problem.transB, partial, ...finish });
      const biasInput: Record<string, NDArray> = bias === undefined ? {} : { bias };
      if (!partial) {
        gpu.run({ label: 'gemm', inputs: { a, b, ...biasInput }, outputs: { c }, params, code, workgroups: plan.tiles });
        return;
      }
      const size = plan.groups * plan.split * m * n;
      const parts = new NDArray(gpu.allocate('float32', size), [size]);
      gpu.run({ label: 'gemm', inputs: { a, b }, outputs: { parts }, params, code, workgroups: plan.tiles * plan.split });
      gpu.run({
        label: 'gemm (sum of parts)',
        inputs: { parts, ...biasInput },
        outputs: { c },
        params,
        code: reduceShader(finish),
        workgroups: tilesOf(plan.groups * m * n, REDUCE_GROUP),
      });
    },
  };
}
