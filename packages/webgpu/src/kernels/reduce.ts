/**
 * Reductions, from one WGSL generator. Whatever is reduced, x is read as
 * rows: output r folds the row's elements k = 0 … len − 1, which sit at
 * `at(r, k)` in x (x's dimensions merged into runs of kept and of reduced
 * ones, so any set of axes is one index function, {@link Layout}).
 *
 * A workgroup of 256 invocations takes `lanes` neighbouring rows with `split`
 * invocations on each (lanes · split = 256): invocation (lane, part) folds
 * elements part, part + split, … of its row on its own, then the row's
 * `split` partial results meet in a tree in workgroup memory. Rows that lie
 * side by side in memory (a reduction over a leading axis) get many lanes, so
 * neighbouring invocations read neighbouring elements; rows along memory get
 * the whole workgroup on long rows and one invocation on short ones.
 *
 * {@link runRows} is one dispatch: reductions in phases (each sees the
 * results before it) and then, optionally, a pass writing every element of
 * the row (softmax and layer norm). {@link reduceRows} is a reduction of any
 * length: a row longer than a workgroup folds in 256 · 16 elements is cut into
 * segments, one workgroup each, whose partial results a next dispatch reduces
 * the same way. An invocation folds at most 16 elements in sequence, the rest
 * is a tree, so a float32 sum errs by about (16 + log2 n) ulps, not n.
 */
import { type DType, type Kernels, NDArray } from '@backprop/ndarray';
import { type GpuRuntime, type Param, wgslType } from '../runtime';
import { MATH } from '../wgsl';

const GROUP = 256;
/** Elements one invocation folds in sequence before a row is cut into segments. */
const ITEMS = 16;

/** A run of merged dimensions of x: its size and x's stride along it. */
interface Run {
  size: number;
  stride: number;
}

/** x read as rows: `rows` outputs of `len` elements each, element (r, k) located through the runs. */
export interface Layout {
  rows: number;
  len: number;
  /** Runs that index r, and those that index k, outermost first. */
  kept: Run[];
  reduced: Run[];
  /** Whether x's innermost run is a kept one: neighbouring rows are neighbours in memory. */
  rowsAdjacent: boolean;
}

/**
 * The rows of a row-major x of `shape` reduced over `axes`: size-1
 * dimensions dropped, neighbouring dimensions of one kind merged. Row r is the
 * flat index of the keep-dims output.
 */
export function layoutOf(shape: readonly number[], axes: readonly number[]): Layout {
  const runs: (Run & { reduced: boolean })[] = [];
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d];
    if (size !== 1) {
      const reduced = axes.includes(d);
      const inner = runs[runs.length - 1];
      if (inner?.reduced === reduced) inner.size *= size;
      else runs.push({ size, stride, reduced });
    }
    stride *= size;
  }
  runs.reverse();
  const kept = runs.filter((run) => !run.reduced).map(({ size, stride }) => ({ size, stride }));
  const reduced = runs.filter((run) => run.reduced).map(({ size, stride }) => ({ size, stride }));
  const product = (list: Run[]) => list.reduce((n, run) => n * run.size, 1);
  return { rows: product(kept), len: product(reduced), kept, reduced, rowsAdjacent: runs.length > 0 && !runs[runs.length - 1].reduced };
}

/** The rows of x around one axis: [outer, len, inner] with the row index over outer and inner. */
export function aroundAxis(shape: readonly number[], axis: number): Layout {
  return layoutOf(shape, [axis]);
}

/** The WGSL of `fn at(r, k) -> u32` for a layout, its sizes and strides as parameters. */
function indexCode(layout: Layout, params: Record<string, Param>): string {
  const lines = ['fn at(r: u32, k: u32) -> u32 {', '  var i = 0u;'];
  for (const [v, runs] of [['r', layout.kept], ['k', layout.reduced]] as const) {
    if (runs.length === 0) continue;
    runs.forEach((run, j) => {
      params[`${v}s${j}`] = ['u32', run.size];
      params[`${v}t${j}`] = ['u32', run.stride];
    });
    lines.push(`  var ${v}q = ${v};`);
    for (let j = runs.length - 1; j > 0; j--) {
      lines.push(`  i += (${v}q % params.${v}s${j}) * params.${v}t${j};`, `  ${v}q /= params.${v}s${j};`);
    }
    lines.push(`  i += ${v}q * params.${v}t0;`);
  }
  lines.push('  return i;', '}');
  return lines.join('\n');
}

/** The smallest power of two at least n (1 for n ≤ 1). */
function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Lanes (rows per workgroup) and split (invocations per row) for a layout. */
function workgroupShape({ rows, len, rowsAdjacent }: Layout): { lanes: number; split: number } {
  // A few elements per invocation, at most the whole workgroup on one row.
  let split = Math.min(GROUP, pow2(Math.ceil(len / 4)));
  // Rows side by side in memory: up to 64 of them share a workgroup, so its loads are contiguous.
  if (rowsAdjacent) split = Math.min(split, Math.max(4, GROUP / Math.min(64, pow2(rows))));
  return { lanes: GROUP / split, split };
}

/**
 * How partial results combine: the accumulator's WGSL type, its identity, and
 * `combine`, a WGSL function (declared in `code`) that is associative and
 * commutative, so the tree's order does not change the result (beyond
 * rounding). `dtype` and `words` store an accumulator between dispatches.
 */
export interface Fold {
  type: string;
  identity: string;
  combine: string;
  code: string;
  dtype: 'float32' | 'int32';
  words: number;
}

/** Σ in float32 (or vec2f, vec4f: several sums at once), or int32 (wrapping past its range). */
export function sumFold(type: 'f32' | 'i32' | 'vec2f' | 'vec4f'): Fold {
  const words = type === 'vec2f' ? 2 : type === 'vec4f' ? 4 : 1;
  return {
    type,
    identity: `${type}()`,
    combine: `sum_${type}`,
    code: `fn sum_${type}(a: ${type}, b: ${type}) -> ${type} { return a + b; }`,
    dtype: type === 'i32' ? 'int32' : 'float32',
    words,
  };
}

/** max or min; a NaN wins, as torch.max. */
export function extremumFold(isMax: boolean, dtype: DType): Fold {
  const t = wgslType(dtype);
  const name = `${isMax ? 'max' : 'min'}_${t}`;
  const body =
    t === 'f32'
      ? `return select(b, a, a ${isMax ? '>' : '<'} b || isNan(a));`
      : `return ${isMax ? 'max' : 'min'}(a, b);`;
  const limit = t === 'f32' ? `${isMax ? '-' : ''}infinity()` : isMax ? 'i32(-2147483648)' : 'i32(2147483647)';
  return { type: t, identity: limit, combine: name, code: `fn ${name}(a: ${t}, b: ${t}) -> ${t} { ${body} }`, dtype: t === 'i32' ? 'int32' : 'float32', words: 1 };
}

/**
 * The value and index of argmax (argmin): a NaN beats any number, then the
 * greater (smaller) value, then the smaller index, which is the first
 * occurrence whatever order the tree meets the candidates in.
 */
function argFold(isMax: boolean, dtype: DType): Fold {
  const t = wgslType(dtype);
  const nan =
    t === 'f32'
      ? '  let an = isNan(a.v);\n  if (an != isNan(b.v)) { if (an) { return a; } return b; }\n  if (an || a.v == b.v) {'
      : '  if (a.v == b.v) {';
  const code = `struct Arg { v: ${t}, i: u32 }
fn best(a: Arg, b: Arg) -> Arg {
${nan} if (a.i < b.i) { return a; } return b; }
  if (a.v ${isMax ? '>' : '<'} b.v) { return a; }
  return b;
}`;
  const start = t === 'f32' ? `${isMax ? '-' : ''}infinity()` : isMax ? 'i32(-2147483648)' : 'i32(2147483647)';
  return { type: 'Arg', identity: `Arg(${start}, 0xffffffffu)`, combine: 'best', code, dtype: 'float32', words: 2 };
}

/** The smallest u32: the first index where something holds (0xffffffff: nowhere). */
const FIRST: Fold = { type: 'u32', identity: '0xffffffffu', combine: 'min', code: '', dtype: 'int32', words: 1 };

/** One reduction of a {@link RowProgram}: its result is the WGSL value `name`, after which `after` runs. */
export interface Phase {
  name: string;
  fold: Fold;
  /** The element's contribution: a WGSL expression of `i` (its index in x), `k` (its place in the row) and `r`. */
  load: string;
  after?: string;
}

/** One dispatch over rows: phases of reductions, then a per-row `finish` and a per-element `write`. */
export interface RowProgram {
  label: string;
  layout: Layout;
  inputs?: Record<string, NDArray>;
  outputs: Record<string, NDArray>;
  params?: Record<string, Param>;
  elementTypes?: Record<string, string>;
  /** WGSL declarations the expressions call. */
  helpers?: string;
  phases: Phase[];
  /** Statements run once per row (with `r`, `seg` and the phases' results). */
  finish?: string;
  /** Statements run for every element of the row (with `i`, `k`, `r` and the phases' results). */
  write?: string;
}

/**
 * Encodes one {@link RowProgram}. With `segment`, each row is cut into
 * pieces of that many elements, one workgroup each (`seg` is the piece);
 * otherwise a workgroup takes whole rows.
 */
export function runRows(gpu: GpuRuntime, program: RowProgram, segment?: number): void {
  const { layout, phases } = program;
  if (layout.rows === 0 || Object.values(program.outputs).every((array) => array.size === 0)) return;
  const { lanes, split } = workgroupShape(layout);
  const segments = segment === undefined ? 1 : Math.ceil(layout.len / segment);
  const blocks = Math.ceil(layout.rows / lanes);
  const params: Record<string, Param> = {
    rows: ['u32', layout.rows],
    len: ['u32', layout.len],
    blocks: ['u32', blocks],
    groups: ['u32', blocks * segments],
    segment: ['u32', segment ?? layout.len],
    ...program.params,
  };
  const declarations = new Set<string>();
  for (const { fold } of phases) {
    declarations.add(fold.code);
    declarations.add(`var<workgroup> tree_${fold.type}: array<${fold.type}, ${GROUP}>;`);
  }
  const body: string[] = [];
  phases.forEach(({ name, fold, load, after }, p) => {
    const tree = `tree_${fold.type}`;
    const { combine } = fold;
    body.push(
      `  var acc_${name} = ${fold.identity};`,
      '  if (live) {',
      '    for (var k = k0 + part; k < k1; k += SPLIT) {',
      '      let i = at(r, k);',
      `      acc_${name} = ${combine}(acc_${name}, ${load});`,
      '    }',
      '  }',
      `  ${tree}[lid] = acc_${name};`,
      '  workgroupBarrier();',
      '  for (var s = SPLIT / 2u; s > 0u; s /= 2u) {',
      `    if (part < s) { ${tree}[lid] = ${combine}(${tree}[lid], ${tree}[lid + s * LANES]); }`,
      '    workgroupBarrier();',
      '  }',
      `  let ${name} = ${tree}[lane];`,
    );
    // The next phase that folds the same type overwrites the tree: everyone must have read it first.
    if (phases.slice(p + 1).some((later) => later.fold.type === fold.type)) body.push('  workgroupBarrier();');
    if (after !== undefined) body.push(`  ${after}`);
  });
  if (program.finish !== undefined) body.push(`  if (live && part == 0u) { ${program.finish} }`);
  if (program.write !== undefined) {
    body.push(
      '  if (live) {',
      '    for (var k = part; k < params.len; k += SPLIT) {',
      '      let i = at(r, k);',
      `      ${program.write}`,
      '    }',
      '  }',
    );
  }
  const code = `${MATH}
${[...declarations].join('\n')}
${program.helpers ?? ''}
${indexCode(layout, params)}
const LANES = ${lanes}u;
const SPLIT = ${split}u;
@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = groupIndex(wid, nwg);
  let lane = lid % LANES;
  let part = lid / LANES;
  let r = (group % params.blocks) * LANES + lane;
  let seg = group / params.blocks;
  // Past 65535 workgroups the dispatch is a grid whose last row overshoots: those groups do nothing.
  let live = r < params.rows && group < params.groups;
  let k0 = seg * params.segment;
  let k1 = min(params.len, k0 + params.segment);
${body.join('\n')}
}`;
  // An empty output is never written, but binding it would share the runtime's one empty buffer with an empty input.
  const outputs = Object.fromEntries(
    Object.entries(program.outputs).map(([name, array]) => [name, array.size > 0 ? array : new NDArray(gpu.allocate(array.dtype, 1), [1])]),
  );
  gpu.run({
    label: program.label,
    inputs: program.inputs,
    outputs,
    elementTypes: program.elementTypes,
    params,
    code,
    workgroups: blocks * segments,
  });
}

/** One reduction of any length, into `acc` for `finish`; see the module's comment. */
export interface Reduction {
  label: string;
  layout: Layout;
  fold: Fold;
  /** The arrays `load` and `helpers` read. */
  inputs: Record<string, NDArray>;
  load: string;
  helpers?: string;
  /** Statements storing row r's result `acc`, reading `finishInputs` and writing `outputs`. */
  finish: string;
  finishInputs?: Record<string, NDArray>;
  outputs: Record<string, NDArray>;
  params?: Record<string, Param>;
}

/** Encodes a {@link Reduction}: as many dispatches as the rows' length needs (one where a workgroup covers a row). */
export function reduceRows(gpu: GpuRuntime, reduction: Reduction): void {
  const { label, fold, params } = reduction;
  const rows = reduction.layout.rows;
  if (rows === 0) return;
  const natural = fold.type === wgslType(fold.dtype);
  const typed = (name: string) => (natural ? undefined : { [name]: fold.type });
  let layout = reduction.layout;
  let inputs = reduction.inputs;
  let load = reduction.load;
  let helpers = reduction.helpers;
  for (;;) {
    const reach = workgroupShape(layout).split * ITEMS;
    const phases = [{ name: 'acc', fold, load }];
    if (layout.len <= reach) {
      runRows(gpu, {
        label,
        layout,
        inputs: { ...inputs, ...reduction.finishInputs },
        outputs: reduction.outputs,
        params,
        elementTypes: typed('partialIn'),
        helpers,
        phases,
        finish: reduction.finish,
      });
      return;
    }
    const segments = Math.ceil(layout.len / reach);
    const partial = new NDArray(gpu.allocate(fold.dtype, segments * rows * fold.words), [segments * rows * fold.words]);
    runRows(
      gpu,
      {
        label: `${label} (partial)`,
        layout,
        inputs,
        outputs: { partialOut: partial },
        params,
        elementTypes: { ...typed('partialIn'), ...typed('partialOut') },
        helpers,
        phases,
        finish: 'partialOut[seg * params.rows + r] = acc;',
      },
      reach,
    );
    // The partial results, [segments, rows]: the next dispatch reduces over the segments.
    layout = layoutOf([segments, rows], [0]);
    inputs = { partialIn: partial };
    load = 'partialIn[i]';
    helpers = undefined;
  }
}

/** ReduceArgs' kernels: fold x's elements into out[r]. */
function reduceInto(gpu: GpuRuntime, label: string, fold: Fold, { x, axes, out }: { x: NDArray; axes: readonly number[]; out: NDArray }): void {
  reduceRows(gpu, { label, layout: layoutOf(x.shape, axes), fold, inputs: { x }, load: 'x[i]', finish: 'out[r] = acc;', outputs: { out } });
}

/** The smallest float32 at least v, and the largest at most v (where float32 cannot hold v exactly). */
function float32Above(v: number): number {
  const f = Math.fround(v);
  return f >= v || Number.isNaN(v) ? f : nextFloat32(f, 1);
}
function float32Below(v: number): number {
  const f = Math.fround(v);
  return f <= v || Number.isNaN(v) ? f : nextFloat32(f, -1);
}
function nextFloat32(f: number, direction: 1 | -1): number {
  if (f === 0) return direction * 2 ** -149;
  const bits = new Float32Array([f]);
  const word = new Int32Array(bits.buffer);
  word[0] += (f > 0) === (direction > 0) ? 1 : -1;
  return bits[0];
}

/** [low, high] as bounds of x's dtype that keep and drop exactly the same elements. */
function bounds(dtype: string, low: number, high: number): Record<string, Param> {
  if (dtype !== 'int32') return { low: ['f32', float32Above(low)], high: ['f32', float32Below(high)] };
  const lo = Math.max(Math.ceil(low), -(2 ** 31));
  const hi = Math.min(Math.floor(high), 2 ** 31 - 1);
  // An empty range (NaN bounds too): every element is outside.
  return lo <= hi ? { low: ['i32', lo], high: ['i32', hi] } : { low: ['i32', 1], high: ['i32', 0] };
}

/**
 * The first flat index of x whose value is not in [low, high] (NaN never is),
 * or −1, into a new 1-element int32 array: `firstOutside` on the device,
 * whose answer a deferred check reads later (`checks.ts`).
 */
export function scanOutside(gpu: GpuRuntime, x: NDArray, low: number, high: number): NDArray {
  const result = new NDArray(gpu.allocate('int32', 1), [1]);
  const outside = x.dtype === 'int32' ? 'v < params.low || v > params.high' : 'isNan(v) || v < params.low || v > params.high';
  reduceRows(gpu, {
    label: 'firstOutside',
    layout: layoutOf([x.size], [0]),
    fold: FIRST,
    inputs: { x },
    helpers: `fn outside(v: ${wgslType(x.dtype)}) -> bool { return ${outside}; }`,
    load: 'select(0xffffffffu, k, outside(x[i]))',
    finish: 'out[0] = select(i32(acc), -1, acc == 0xffffffffu);',
    outputs: { out: result },
    params: bounds(x.dtype, low, high),
  });
  return result;
}

/** vectorNorm's element term and final step for each ord (torch.linalg.vector_norm). */
function normTerms(ord: number): { fold: Fold; load: string; finish: string; params?: Record<string, Param> } {
  if (ord === Number.POSITIVE_INFINITY) {
    // max |x|; the norm of nothing is 0.
    return { fold: extremumFold(true, 'float32'), load: 'abs(x[i])', finish: 'out[0] = select(acc, 0.0, acc < 0.0);' };
  }
  // The op takes ord > 0; the kernel, as the TypeScript one, also has −Infinity (min |x|) and 0 (a count of non-zeros, NaN too).
  if (ord === Number.NEGATIVE_INFINITY) return { fold: extremumFold(false, 'float32'), load: 'abs(x[i])', finish: 'out[0] = acc;' };
  const sum = sumFold('f32');
  if (ord === 0) return { fold: sum, load: 'select(0.0, 1.0, x[i] != 0.0 || isNan(x[i]))', finish: 'out[0] = acc;' };
  if (ord === 1) return { fold: sum, load: 'abs(x[i])', finish: 'out[0] = acc;' };
  if (ord === 2) return { fold: sum, load: 'x[i] * x[i]', finish: 'out[0] = sqrt(acc);' };
  return {
    fold: sum,
    load: 'pow32(abs(x[i]), params.ord)',
    finish: 'out[0] = pow32(acc, params.inverse);',
    params: { ord: ['f32', ord], inverse: ['f32', 1 / ord] },
  };
}

export function reduceKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    sum: (args) => reduceInto(gpu, 'sum', sumFold(wgslType(args.x.dtype)), args),
    max: (args) => reduceInto(gpu, 'max', extremumFold(true, args.x.dtype), args),
    min: (args) => reduceInto(gpu, 'min', extremumFold(false, args.x.dtype), args),
    argmax: ({ x, axis, out }) =>
      reduceRows(gpu, { label: 'argmax', layout: aroundAxis(x.shape, axis), fold: argFold(true, x.dtype), inputs: { x }, load: 'Arg(x[i], k)', finish: 'out[r] = i32(acc.i);', outputs: { out } }),
    argmin: ({ x, axis, out }) =>
      reduceRows(gpu, { label: 'argmin', layout: aroundAxis(x.shape, axis), fold: argFold(false, x.dtype), inputs: { x }, load: 'Arg(x[i], k)', finish: 'out[r] = i32(acc.i);', outputs: { out } }),
    variance: ({ x, axes, out, correction }) => {
      // Two passes: the mean, then the squared deviations from it.
      const layout = layoutOf(x.shape, axes);
      const mean = new NDArray(gpu.allocate('float32', layout.rows), [layout.rows]);
      const sum = sumFold('f32');
      const count: Record<string, Param> = { count: ['f32', layout.len] };
      reduceRows(gpu, { label: 'variance (mean)', layout, fold: sum, inputs: { x }, load: 'x[i]', finish: 'mean[r] = acc / params.count;', outputs: { mean }, params: count });
      // torch divides by max(0, count − correction): too few elements give NaN (or ∞), never a negative variance.
      reduceRows(gpu, {
        label: 'variance',
        layout,
        fold: sum,
        inputs: { x, mean },
        load: '(x[i] - mean[r]) * (x[i] - mean[r])',
        finish: 'out[r] = acc / params.divisor;',
        outputs: { out },
        params: { divisor: ['f32', Math.max(0, layout.len - correction)] },
      });
    },
    logSumExp: ({ x, axes, out }) => {
      const layout = layoutOf(x.shape, axes);
      const shift = new NDArray(gpu.allocate('float32', layout.rows), [layout.rows]);
      reduceRows(gpu, { label: 'logSumExp (max)', layout, fold: extremumFold(true, 'float32'), inputs: { x }, load: 'x[i]', finish: 'shift[r] = acc;', outputs: { shift } });
      reduceRows(gpu, {
        label: 'logSumExp',
        layout,
        fold: sumFold('f32'),
        inputs: { x, shift },
        // A row of −∞ sums to 0 (log 0 = −∞) and a +∞ maximum stays +∞: without a finite shift, count its equals.
        helpers: 'fn shifted(v: f32, m: f32) -> f32 { if (isFinite(m)) { return exp(v - m); } return select(0.0, 1.0, v == m); }',
        load: 'shifted(x[i], shift[r])',
        finish: 'out[r] = shift[r] + log(acc);',
        finishInputs: { shift },
        outputs: { out },
      });
    },
    vectorNorm: ({ x, ord, out }) => {
      const { fold, load, finish, params } = normTerms(ord);
      reduceRows(gpu, { label: 'vectorNorm', layout: layoutOf([x.size], [0]), fold, inputs: { x }, load, finish, outputs: { out }, params });
    },
  };
}
