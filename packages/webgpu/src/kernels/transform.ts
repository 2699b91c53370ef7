/**
 * The kernels that move elements: permute, concat, take and gather, and their
 * adjoints indexAdd and scatterAdd. Every one of them is a copy along index
 * arithmetic, so most are {@link forEach} with a line of WGSL; permute's
 * transposes go through workgroup tiles, and the two adds sort their targets
 * so that each output element sums its sources in order, with no atomics.
 */
import { type Kernels, NDArray, sizeOf, stridesOf } from '@backprop/ndarray';
import { type GpuRuntime, type Param, wgslType } from '../runtime';
import type { GpuStorage } from '../storage';
import { decompose, forEach } from './launch';

/** An int32 index into an axis of n positions: a negative one counts from the end, and it is clamped into range. */
const CLAMP_INDEX = /* wgsl */ `
fn clampIndex(v: i32, n: u32) -> u32 {
  let i = select(v, v + i32(n), v < 0);
  return u32(clamp(i, 0, i32(n) - 1));
}`;

/**
 * The permutation with dimensions of size 1 dropped and runs of input
 * dimensions that stay neighbours merged: [2, 3, 4] by (0, 2, 1) stays, [2, 3, 4]
 * by (1, 2, 0) is a transpose of [2, 12].
 */
function simplify(shape: readonly number[], axes: readonly number[]): { shape: number[]; axes: number[] } {
  const kept = shape.map((_, d) => d).filter((d) => shape[d] !== 1);
  const rank = new Map(kept.map((d, i) => [d, i]));
  const runs: number[][] = [];
  for (const a of axes) {
    const r = rank.get(a);
    if (r === undefined) continue;
    const last = runs.at(-1);
    if (last !== undefined && last[last.length - 1] === r - 1) last.push(r);
    else runs.push([r]);
  }
  const byInput = runs.slice().sort((a, b) => a[0] - b[0]);
  return {
    shape: byInput.map((run) => sizeOf(run.map((r) => shape[kept[r]]))),
    axes: runs.map((run) => byInput.indexOf(run)),
  };
}

/** The side of permute's square tiles, and the rows of a tile each invocation row moves. */
const TILE = 32;
const TILE_ROWS = 8;

/**
 * permute. Dimensions of size 1 are dropped and neighbouring ones merged
 * first; what stays in order is a copy of the buffer. Where the innermost
 * dimension stays innermost, each element is read at its permuted offset
 * (rows stay contiguous on both sides). Otherwise it is a batch of
 * transposes between the input's innermost dimension and the one that becomes
 * the output's innermost: a 32×8 workgroup moves one 32×32 tile through
 * workgroup memory, reading rows of the input and writing rows of the output,
 * each invocation four elements; the other dimensions index the batch.
 */
function permute(gpu: GpuRuntime, x: NDArray, order: readonly number[], out: NDArray): void {
  if (out.size === 0) return;
  const { shape, axes } = simplify(x.shape, order);
  const r = shape.length;
  if (axes.every((a, i) => a === i)) {
    gpu.copy(x.storage as GpuStorage, out.storage as GpuStorage);
    return;
  }
  const inStrides = stridesOf(shape);
  const outShape = axes.map((a) => shape[a]);
  const outStrides = stridesOf(outShape);
  const params: Record<string, Param> = {};
  if (axes[r - 1] === r - 1) {
    const offsets = decompose('i', 'd', outShape, { at: axes.map((a) => inStrides[a]) }, params);
    forEach(gpu, { label: 'permute', inputs: { x }, outputs: { out }, params, n: out.size, body: `${offsets}\n    out[i] = x[at];` });
    return;
  }
  // q: the input dimension that becomes the output's innermost; p: where the input's innermost goes.
  const q = axes[r - 1];
  const p = axes.indexOf(r - 1);
  const batchDims = outShape.map((_, d) => d).filter((d) => d !== p && d !== r - 1);
  const batch = sizeOf(batchDims.map((d) => outShape[d]));
  const rows = shape[q];
  const cols = shape[r - 1];
  const tilesQ = Math.ceil(rows / TILE);
  const tilesN = Math.ceil(cols / TILE);
  const offsets = decompose(
    'b',
    'd',
    batchDims.map((d) => outShape[d]),
    { inBase: batchDims.map((d) => inStrides[axes[d]]), outBase: batchDims.map((d) => outStrides[d]) },
    params,
  );
  const type = wgslType(out.dtype);
  const code = `
var<workgroup> tile: array<${type}, ${TILE * (TILE + 1)}>;
@compute @workgroup_size(${TILE}, ${TILE_ROWS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  // Workgroups past the last tile (the y dimension's overshoot) skip the copies but not the barrier,
  // as SwiftShader fails on a shader that returns before one.
  let g = groupIndex(wid, nwg);
  let live = g < params.groups;
  let q0 = (g % params.tilesQ) * ${TILE}u;
  let n0 = ((g / params.tilesQ) % params.tilesN) * ${TILE}u;
  let b = g / (params.tilesQ * params.tilesN);
${offsets}
  for (var row = lid.y; row < ${TILE}u; row += ${TILE_ROWS}u) {
    if (live && q0 + row < params.rows && n0 + lid.x < params.cols) {
      tile[row * ${TILE + 1}u + lid.x] = x[inBase + (q0 + row) * params.rowStride + n0 + lid.x];
    }
  }
  workgroupBarrier();
  for (var row = lid.y; row < ${TILE}u; row += ${TILE_ROWS}u) {
    if (live && n0 + row < params.cols && q0 + lid.x < params.rows) {
      out[outBase + (n0 + row) * params.colStride + q0 + lid.x] = tile[lid.x * ${TILE + 1}u + row];
    }
  }
}`;
  const groups = tilesQ * tilesN * batch;
  Object.assign(params, {
    groups: ['u32', groups],
    tilesQ: ['u32', tilesQ],
    tilesN: ['u32', tilesN],
    rows: ['u32', rows],
    cols: ['u32', cols],
    rowStride: ['u32', inStrides[q]],
    colStride: ['u32', outStrides[p]],
  } satisfies Record<string, Param>);
  gpu.run({ label: 'permute', inputs: { x }, outputs: { out }, params, code, workgroups: groups });
}

/**
 * concat: each input is a block of rows of out ([outer, rows of that input,
 * inner] into [outer, all rows, inner]); a block that is one contiguous range
 * of out (outer 1) is a buffer copy, the others one dispatch each that reads
 * the input in order and writes its rows in place.
 */
function concat(gpu: GpuRuntime, inputs: readonly NDArray[], axis: number, out: NDArray): void {
  const outer = sizeOf(out.shape.slice(0, axis));
  if (out.size === 0) return;
  const outRow = out.size / outer;
  let at = 0;
  for (const x of inputs) {
    const row = x.size / outer;
    if (row === 0) continue;
    if (outer === 1) gpu.copy(x.storage as GpuStorage, (out.storage as GpuStorage).subarray(at, at + row));
    else {
      forEach(gpu, {
        label: 'concat',
        inputs: { x },
        outputs: { out },
        params: { row: ['u32', row], outRow: ['u32', outRow], at: ['u32', at] },
        n: x.size,
        body: '    out[(i / params.row) * params.outRow + params.at + i % params.row] = x[i];',
      });
    }
    at += row;
  }
}

/** take: out [outer, count, inner] from x [outer, n, inner], one element per visit, its row found through indices. */
function take(gpu: GpuRuntime, x: NDArray, indices: NDArray, axis: number, out: NDArray): void {
  const n = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  forEach(gpu, {
    label: 'take',
    inputs: { x, indices },
    outputs: { out },
    params: { axisSize: ['u32', n], count: ['u32', indices.size], inner: ['u32', inner] },
    n: out.size,
    prelude: CLAMP_INDEX,
    body: `    let j = i % params.inner;
    let t = i / params.inner;
    let k = t % params.count;
    out[i] = x[((t / params.count) * params.axisSize + clampIndex(indices[k], params.axisSize)) * params.inner + j];`,
  });
}

/**
 * WGSL `fn pick(k: u32) -> u32`: the flat position, in an array of shape
 * `other`, of the element that element k of `indices` picks along `axis`
 * (its own coordinates, but indices[k] along the axis).
 */
function picker(indices: NDArray, other: readonly number[], axis: number, params: Record<string, Param>): string {
  const strides = stridesOf(other).map((s, d) => (d === axis ? 0 : s));
  params.axisSize = ['u32', other[axis]];
  params.axisStride = ['u32', stridesOf(other)[axis]];
  return `${CLAMP_INDEX}
fn pick(k: u32) -> u32 {
${decompose('k', 's', indices.shape, { at: strides }, params)}
  return at + clampIndex(indices[k], params.axisSize) * params.axisStride;
}`;
}

/** gather: out[k] = x[pick(k)], one element per visit. */
function gather(gpu: GpuRuntime, x: NDArray, indices: NDArray, axis: number, out: NDArray): void {
  const params: Record<string, Param> = {};
  const prelude = picker(indices, x.shape, axis, params);
  forEach(gpu, { label: 'gather', inputs: { x, indices }, outputs: { out }, params, n: out.size, prelude, body: '    out[i] = x[pick(i)];' });
}

/** The elements one workgroup of {@link sortTargets} sorts in its memory (256 invocations, two each). */
const SORT_BLOCK = 512;

/** Two (target, source) pairs in order: by target, then by source. */
const PAIR_LESS = /* wgsl */ `
fn pairLess(a: vec2u, b: vec2u) -> bool { return a.x < b.x || (a.x == b.x && a.y < b.y); }`;

/**
 * WGSL for one compare-and-swap step of a bitonic sort in workgroup memory:
 * invocation t orders the pair (i, i + stride) of `sorted`, ascending where
 * the global position `base + i` lies in an ascending run of `size`.
 */
const BLOCK_STEP = /* wgsl */ `
fn blockStep(t: u32, base: u32, size: u32, stride: u32) {
  let i = 2u * stride * (t / stride) + t % stride;
  let a = sorted[i];
  let b = sorted[i + stride];
  if (pairLess(b, a) == (((base + i) & size) == 0u)) {
    sorted[i] = b;
    sorted[i + stride] = a;
  }
}`;

/**
 * Sorts the pairs (target(k), k) for k < count, where `target` is WGSL of k
 * (reading `indices`), by target and then k, with a bitonic sort: the pairs
 * are padded to a power of two P with targets past any real one; each
 * workgroup sorts 512 of them in workgroup memory, then for each run length
 * past 512 the strides of 512 and more are dispatches of one swap per
 * invocation and the smaller ones one more pass through workgroup memory.
 * Returns the pairs, an int32 array of 2P read as vec2<u32>.
 */
function sortTargets(
  gpu: GpuRuntime,
  label: string,
  indices: NDArray,
  count: number,
  target: string,
  prelude: string,
  params: Record<string, Param>,
): NDArray {
  let padded = 2;
  while (padded < count) padded *= 2;
  const pairs = new NDArray(gpu.allocate('int32', 2 * padded), [2 * padded]);
  const block = Math.min(padded, SORT_BLOCK);
  const elementTypes = { pairs: 'vec2<u32>' };
  const blocks = padded / block;
  const local = (fill: string, sizes: string) => `${PAIR_LESS}
var<workgroup> sorted: array<vec2u, ${block}>;
${BLOCK_STEP}
@compute @workgroup_size(${block / 2})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = groupIndex(wid, nwg) * ${block}u;
  for (var h = 0u; h < 2u; h++) {
    let t = lid + h * ${block / 2}u;
    ${fill}
  }
  workgroupBarrier();
  ${sizes}
  // Past 65535 blocks the workgroups spread over y, and the last row overshoots.
  if (base < params.padded) {
    for (var h = 0u; h < 2u; h++) {
      let t = lid + h * ${block / 2}u;
      pairs[base + t] = sorted[t];
    }
  }
}`;
  // Every run length up to the block, from the targets.
  gpu.run({
    label: `${label} (sort)`,
    inputs: { indices },
    outputs: { pairs },
    elementTypes,
    params: { ...params, count: ['u32', count], padded: ['u32', padded] },
    code: `${prelude}
fn targetOf(k: u32) -> u32 { ${target} }
${local(
  'let k = base + t;\n    sorted[t] = select(vec2u(0xffffffffu, k), vec2u(targetOf(min(k, params.count - 1u)), k), k < params.count);',
  `for (var size = 2u; size <= ${block}u; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      blockStep(lid, base, size, stride);
      workgroupBarrier();
    }
  }`,
)}`,
    workgroups: blocks,
  });
  for (let size = 2 * block; size <= padded; size *= 2) {
    for (let stride = size / 2; stride >= block; stride /= 2) {
      forEach(gpu, {
        label: `${label} (merge)`,
        outputs: { pairs },
        elementTypes,
        params: { size: ['u32', size], stride: ['u32', stride] },
        n: padded / 2,
        prelude: PAIR_LESS,
        body: `    let at = 2u * params.stride * (i / params.stride) + i % params.stride;
    let a = pairs[at];
    let b = pairs[at + params.stride];
    if (pairLess(b, a) == ((at & params.size) == 0u)) {
      pairs[at] = b;
      pairs[at + params.stride] = a;
    }`,
      });
    }
    gpu.run({
      label: `${label} (merge)`,
      outputs: { pairs },
      elementTypes,
      params: { size: ['u32', size], padded: ['u32', padded] },
      code: local(
        'sorted[t] = pairs[base + t];',
        `for (var stride = ${block / 2}u; stride > 0u; stride >>= 1u) {
    blockStep(lid, base, params.size, stride);
    workgroupBarrier();
  }`,
      ),
      workgroups: blocks,
    });
  }
  return pairs;
}

/**
 * out[(o·n + target)·inner + j] += source[(o·count + k)·inner + j] over the
 * sorted pairs (target, k): the first pair of each run of one target sums the
 * whole run, in the order of k, into its element (the other visits do
 * nothing), so each element of out has one writer and sums as the
 * TypeScript kernel does. Visits go over [outer, count, inner], inner fastest.
 */
function addRuns(
  gpu: GpuRuntime,
  label: string,
  pairs: NDArray,
  source: NDArray,
  out: NDArray,
  outer: number,
  n: number,
  count: number,
  inner: number,
): void {
  forEach(gpu, {
    label,
    inputs: { pairs, source },
    outputs: { out },
    elementTypes: { pairs: 'vec2<u32>' },
    params: { axisSize: ['u32', n], count: ['u32', count], inner: ['u32', inner] },
    n: outer * count * inner,
    body: `    let j = i % params.inner;
    let p = (i / params.inner) % params.count;
    let o = i / (params.inner * params.count);
    let row = pairs[p].x;
    if (p == 0u || pairs[p - 1u].x != row) {
      let at = (o * params.axisSize + row) * params.inner + j;
      var sum = out[at];
      for (var r = p; r < params.count && pairs[r].x == row; r++) {
        sum += source[(o * params.count + pairs[r].y) * params.inner + j];
      }
      out[at] = sum;
    }`,
  });
}

/** indexAdd: the rows named by indices sorted once ({@link sortTargets}), then summed into out run by run ({@link addRuns}). */
function indexAdd(gpu: GpuRuntime, source: NDArray, indices: NDArray, axis: number, out: NDArray): void {
  const count = indices.size;
  if (source.size === 0) return;
  const n = out.shape[axis];
  const params: Record<string, Param> = { axisSize: ['u32', n] };
  const pairs = sortTargets(gpu, 'indexAdd', indices, count, 'return clampIndex(indices[k], params.axisSize);', CLAMP_INDEX, params);
  addRuns(gpu, 'indexAdd', pairs, source, out, sizeOf(out.shape.slice(0, axis)), n, count, sizeOf(out.shape.slice(axis + 1)));
}

/** scatterAdd: the flat targets in out of every index sorted ({@link sortTargets}), then summed run by run ({@link addRuns}). */
function scatterAdd(gpu: GpuRuntime, source: NDArray, indices: NDArray, axis: number, out: NDArray): void {
  const count = indices.size;
  if (count === 0) return;
  const params: Record<string, Param> = {};
  const prelude = picker(indices, out.shape, axis, params);
  const pairs = sortTargets(gpu, 'scatterAdd', indices, count, 'return pick(k);', prelude, params);
  addRuns(gpu, 'scatterAdd', pairs, source, out, 1, out.size, count, 1);
}

export function transformKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    permute: ({ x, axes, out }) => permute(gpu, x, axes, out),
    concat: ({ inputs, axis, out }) => concat(gpu, inputs, axis, out),
    take: ({ x, indices, axis, out }) => take(gpu, x, indices, axis, out),
    indexAdd: ({ source, indices, axis, out }) => indexAdd(gpu, source, indices, axis, out),
    gather: ({ x, indices, axis, out }) => gather(gpu, x, indices, axis, out),
    scatterAdd: ({ source, indices, axis, out }) => scatterAdd(gpu, source, indices, axis, out),
  };
}
