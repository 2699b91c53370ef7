/**
 * The conformance suite: every kernel of the TypeScript backend, run on a
 * backend through the ops and compared with a reference computed here in
 * plain JavaScript (or, for the optimizer updates and random fills, with the
 * TypeScript kernel on host copies). Cases reach NaN, ±0, ±Infinity,
 * subnormals, empty and size-1 dimensions, broadcasting, and arrays that are
 * views into larger memory.
 *
 * A backend in its own package is proven by passing it: register its cases
 * with the test runner's functions, e.g. under vitest
 * `describe('webgpu', () => conformanceSuite(webgpuBackend, { describe, it, beforeAll, afterAll }))`.
 */
import {
  type Backend,
  type DType,
  NDArray,
  type TypedArray,
  TorchGenerator,
  abs,
  adagradStep,
  adamStep,
  add,
  argmax,
  argmin,
  array,
  avgPool2d,
  avgPool2dBackward,
  clip,
  col2im,
  concat,
  conv2dGeometry,
  copyInto,
  div,
  elu,
  eluBackward,
  equal,
  erf,
  exp,
  fillNormal,
  fillUniform,
  fma,
  firstOutside,
  gather,
  gelu,
  geluBackward,
  gemm,
  greater,
  greaterEqual,
  im2col,
  indexAdd,
  layerNorm,
  layerNormBackward,
  leakyRelu,
  leakyReluBackward,
  less,
  lessEqual,
  log,
  logSoftmax,
  logSoftmaxBackward,
  logSumExp,
  nllLoss,
  nllLossBackward,
  max,
  maxPool2d,
  maxPool2dBackward,
  maximum,
  min,
  minimum,
  mish,
  mishBackward,
  mul,
  neg,
  notEqual,
  pool2dGeometry,
  pow,
  relu,
  reluBackward,
  rmspropStep,
  scatterAdd,
  setBackend,
  sgdStep,
  sigmoid,
  sigmoidBackward,
  sign,
  silu,
  siluBackward,
  softmax,
  softmaxBackward,
  softplus,
  softplusBackward,
  sqrt,
  square,
  sub,
  sum,
  take,
  tanh,
  tanhBackward,
  transpose,
  variance,
  vectorNorm,
  where,
  zeros,
} from '../index';
import { erf as erfReference } from '../kernels/js/erf';
import { typescriptKernels } from '../kernels/js/index';
import { kernel } from '../kernels/registry';
import type { GemmProblem, KernelName } from '../kernels/types';
import { testRandom } from './index';

/** The test runner's functions the suite registers its cases with (vitest's, jest's and mocha's fit). */
export interface SuiteApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => void | Promise<void>): void;
  beforeAll(body: () => void): void;
  afterAll(body: () => void): void;
}

/**
 * What a backend promises, where it promises less than the host backends
 * (whose defaults hold every case to the bit): a GPU computes in float32
 * only, rounds its transcendental functions within a few units in the last
 * place, and leaves subnormals and infinities inside built-in functions to
 * the hardware.
 */
export interface ConformanceOptions {
  /** The float dtypes the backend computes in (default both). */
  floats?: readonly ('float32' | 'float64')[];
  /**
   * A relative tolerance for results the host backends produce exactly:
   * |actual − expected| ≤ tolerance · (1 + |expected|), and the floor of every
   * other case's tolerance. Undefined (the default): bit for bit.
   */
  tolerance?: number;
  /** Whether the cases' random inputs start with NaN, ±0, ±∞, subnormals and the largest floats (default true). */
  specials?: boolean;
  /**
   * Whether `firstOutside` answers at once (default true). A backend that
   * cannot read its memory synchronously returns −1 and checks on the device
   * instead, rejecting the next read of any of its arrays when a value was outside.
   */
  synchronousChecks?: boolean;
}

const HOST_BACKEND: Required<Omit<ConformanceOptions, 'tolerance'>> & { tolerance: number | undefined } = {
  floats: ['float32', 'float64'],
  tolerance: undefined,
  specials: true,
  synchronousChecks: true,
};
/** The options of the case running now (set around each case, so suites of several backends can share a file). */
let profile = HOST_BACKEND;
/** Checks waiting for arrays that live off the host, awaited when the case's body returns. */
let pending: (() => Promise<void>)[] | undefined;

/** The float dtypes the backend under test computes in. */
function floats(): readonly Float[] {
  return profile.floats;
}

/** float64 where the backend has it, else float32: for cases about moving values, not about precision. */
function wide(): Float {
  return profile.floats.includes('float64') ? 'float64' : 'float32';
}

/**
 * `check` on the elements of `arrays`: now when all are on the host, else after the case's body (read with
 * `await toHost()`, as a device's arrays are).
 */
function later(arrays: NDArray | readonly NDArray[], check: (...data: TypedArray[]) => void): void {
  const list = Array.isArray(arrays) ? (arrays as readonly NDArray[]) : [arrays as NDArray];
  if (pending === undefined || list.every((a) => ArrayBuffer.isView(a.storage))) {
    check(...list.map((a) => a.data));
    return;
  }
  pending.push(async () => {
    const data: TypedArray[] = [];
    for (const a of list) data.push(await a.toHost());
    check(...data);
  });
}

/**
 * A check that a backend runs on its device: `scan()` returns −1 or the index it found at once, and when a value is
 * outside, the next read of an array rejects with an error naming that index; the read after it succeeds.
 */
function deviceCheck(scan: () => number, at: number, label: string): void {
  const steps = pending;
  if (steps === undefined) fail(`${label}: a device check outside a case`);
  steps.push(async () => {
    const answer = scan();
    if (answer !== -1 && answer !== at) fail(`${label}: firstOutside answered ${answer}, expected ${at} or -1 (checked on the device)`);
    const probe = array([1]);
    let error: unknown;
    try {
      await probe.toHost();
    } catch (caught) {
      error = caught;
    }
    if (at < 0 && error !== undefined) fail(`${label}: the read after a check that found nothing rejected: ${String(error)}`);
    if (at >= 0) {
      if (error === undefined) fail(`${label}: the read after a check that found index ${at} did not reject`);
      if (!String(error).includes(`index ${at}`)) fail(`${label}: the rejection does not name index ${at}: ${String(error)}`);
      await probe.toHost(); // reported once: the next read succeeds
    }
  });
}

/** Runs one case's body under `options`, then awaits the checks it left for arrays on a device. */
function runCase(options: typeof profile, body: () => void): void | Promise<void> {
  profile = options;
  const checks: (() => Promise<void>)[] = [];
  pending = checks;
  try {
    body();
  } finally {
    profile = HOST_BACKEND;
    pending = undefined;
  }
  if (checks.length === 0) return;
  return (async () => {
    for (const check of checks) await check();
  })();
}

function fail(message: string): never {
  throw new Error(message);
}

function same(actual: unknown, expected: unknown, label: string): void {
  if (!Object.is(actual, expected)) fail(`${label}: got ${String(actual)}, expected ${String(expected)}`);
}

function sameJson(actual: unknown, expected: unknown, label: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${label}: got ${a}, expected ${e}`);
}

const FLOATS = ['float32', 'float64'] as const;
type Float = (typeof FLOATS)[number];

/** Values every elementwise case cycles through first: the edges of floating point. */
function specials(dtype: Float): number[] {
  const tiny = dtype === 'float32' ? 1.401298464324817e-45 : 5e-324; // the smallest subnormal
  const big = dtype === 'float32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
  return [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1, tiny, -tiny, big, -big, 0.5, -2.5, 3];
}

function typed(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === 'int32') return Int32Array.from(values);
  return dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
}

/** `count` values: the specials, then uniform values in [−4, 4). */
function values(dtype: Float, count: number, next: () => number, withSpecials = true): TypedArray {
  const list = withSpecials && profile.specials ? specials(dtype) : [];
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(i < list.length ? list[i] : next() * 8 - 4);
  return typed(dtype, out);
}

/** An array on the active backend holding `data`; with `view`, it sits 3 elements into larger memory. */
function on(data: TypedArray, shape: readonly number[], view = false): NDArray {
  if (!view) return array(data, { shape: [...shape] });
  const big = typed(dtypeOfTyped(data), [7, 7, 7, ...data, 7]);
  // A view only makes sense on the host; elsewhere upload the same values.
  const x = array(big);
  return x.storage instanceof Float32Array || x.storage instanceof Float64Array || x.storage instanceof Int32Array
    ? new NDArray((x.storage as TypedArray).subarray(3, 3 + data.length), [...shape])
    : array(data, { shape: [...shape] });
}

function dtypeOfTyped(data: TypedArray): DType {
  return data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32';
}

function round(dtype: DType, x: number): number {
  return dtype === 'float32' ? Math.fround(x) : dtype === 'int32' ? x | 0 : x;
}

/** Expects `actual` to equal `expected` bit for bit (NaN equals NaN, +0 differs from −0), or within the profile's tolerance. */
function expectExact(actual: NDArray, expected: ArrayLike<number> | NDArray, label: string): void {
  const tolerance = profile.tolerance;
  if (tolerance !== undefined) {
    expectClose(actual, expected, tolerance, label, 1);
    return;
  }
  const [arrays, listed] = expectedValues(actual, expected);
  later(arrays, (data, read) => {
    const want = read ?? listed;
    same(data.length, want.length, `${label}: length`);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(data[i], want[i])) {
        fail(`${label}: element ${i} is ${data[i]}, expected ${want[i]}`);
      }
    }
  });
}

/**
 * Expects |actual − expected| ≤ tol·(scale + |expected|) everywhere, NaN where expected is NaN; on a backend with a
 * tolerance, at least that tolerance with a scale of at least 1.
 */
function expectClose(actual: NDArray, expected: ArrayLike<number> | NDArray, tol: number, label: string, scale = 0): void {
  const floor = profile.tolerance;
  const t = floor === undefined ? tol : Math.max(tol, floor);
  const sc = floor === undefined ? scale : Math.max(scale, 1);
  const [arrays, listed] = expectedValues(actual, expected);
  later(arrays, (data, read) => {
    const want = read ?? listed;
    same(data.length, want.length, `${label}: length`);
    for (let i = 0; i < want.length; i++) {
      const e = want[i];
      const a = data[i];
      if (Number.isNaN(e) || !Number.isFinite(e)) {
        if (!Object.is(a, e)) fail(`${label}: element ${i} is ${a}, expected ${e}`);
        continue;
      }
      if (!(Math.abs(a - e) <= t * (sc + Math.abs(e)))) {
        fail(`${label}: element ${i} is ${a}, expected ${e} (tolerance ${t})`);
      }
    }
  });
}

/**
 * The expected values, as they are when the expectation is made (a case may reuse its buffers before a deferred check
 * runs): the arrays to read (the actual one, and the expected one where the backend computed it another way), and a
 * copy of a list.
 */
function expectedValues(actual: NDArray, expected: ArrayLike<number> | NDArray): [NDArray[], number[] | undefined] {
  return expected instanceof NDArray ? [[actual, expected], undefined] : [[actual], Array.from(expected)];
}

const EPS: Record<Float, number> = { float32: 2 ** -23, float64: 2 ** -52 };

/** Row-major strides. */
function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d];
  }
  return out;
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** The flat index into an array of `shape` that broadcasting reads for output position `flat` of `target`. */
function broadcastIndex(flat: number, target: readonly number[], shape: readonly number[]): number {
  const t = strides(target);
  const s = strides(shape);
  const offset = target.length - shape.length;
  let index = 0;
  for (let d = 0; d < target.length; d++) {
    const i = Math.floor(flat / t[d]) % target[d];
    const sd = d - offset;
    if (sd >= 0 && shape[sd] !== 1) index += i * s[sd];
  }
  return index;
}

const BROADCASTS: [number[], number[]][] = [
  [[14], [14]],
  [[2, 7], [7]],
  [[2, 1, 7], [3, 1]],
  [[], [4]],
  [[0, 3], [3]],
  [[1], [1]],
  [[3, 1], [1, 5]],
];

type BinaryOp = (a: NDArray, b: NDArray) => NDArray;
const BINARY: [KernelName, BinaryOp, (x: number, y: number) => number][] = [
  ['add', add, (x, y) => x + y],
  ['sub', sub, (x, y) => x - y],
  ['mul', mul, (x, y) => x * y],
  ['div', div, (x, y) => x / y],
  ['pow', pow, (x, y) => x ** y],
  ['maximum', maximum, (x, y) => (x > y || Number.isNaN(x) ? x : y)],
  ['minimum', minimum, (x, y) => (x < y || Number.isNaN(x) ? x : y)],
  ['equal', equal, (x, y) => (x === y ? 1 : 0)],
  ['notEqual', notEqual, (x, y) => (x !== y ? 1 : 0)],
  ['less', less, (x, y) => (x < y ? 1 : 0)],
  ['lessEqual', lessEqual, (x, y) => (x <= y ? 1 : 0)],
  ['greater', greater, (x, y) => (x > y ? 1 : 0)],
  ['greaterEqual', greaterEqual, (x, y) => (x >= y ? 1 : 0)],
];

type UnaryOp = (x: NDArray) => NDArray;
const UNARY: [KernelName, UnaryOp, (x: number, dtype: Float) => number][] = [
  ['neg', neg, (x) => -x],
  ['exp', exp, (x) => Math.exp(x)],
  ['log', log, (x) => Math.log(x)],
  ['sqrt', sqrt, (x) => Math.sqrt(x)],
  ['abs', abs, (x) => Math.abs(x)],
  ['square', square, (x) => x * x],
  ['sign', sign, (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x)],
  ['tanh', tanh, (x) => Math.tanh(x)],
  ['sigmoid', sigmoid, (x, d) => (d === 'float32' ? 1 / Math.fround(1 + Math.fround(Math.exp(-x))) : 1 / (1 + Math.exp(-x)))],
  ['relu', relu, (x) => (x > 0 || Number.isNaN(x) ? x : 0)],
  ['leakyRelu', (x) => leakyRelu(x, 0.2), (x) => (x > 0 ? x : x * 0.2)],
  ['clip', (x) => clip(x, -1.5, 2), (x) => (x < -1.5 ? -1.5 : x > 2 ? 2 : x)],
  // The smooth activations: torch's formulas in double, rounded once.
  ['erf', erf, (x) => erfReference(x)],
  ['gelu', (x) => gelu(x), (x) => x * 0.5 * (1 + erfReference(x * Math.SQRT1_2))],
  ['gelu', (x) => gelu(x, { approximate: 'tanh' }), (x) => 0.5 * x * (1 + Math.tanh(GELU_BETA * (x + 0.044715 * (x * x * x))))],
  ['silu', silu, (x) => x / (1 + Math.exp(-x))],
  ['elu', (x) => elu(x, 1.5), (x) => (x <= 0 ? (Math.exp(x) - 1) * 1.5 : x)],
  ['softplus', (x) => softplus(x, 2, 5), (x, d) => (round(d, x * 2) > 5 ? x : Math.log1p(Math.exp(round(d, x * 2))) / 2)],
  ['mish', mish, (x) => x * Math.tanh(Math.log1p(Math.exp(x)))],
];

/** √(2/π) as torch writes it: M_SQRT2 · M_2_SQRTPI · 0.5. */
const GELU_BETA = Math.SQRT2 * 1.1283791670955126 * 0.5;

function geluTanhGrad(g: number, x: number): number {
  const t = Math.tanh(GELU_BETA * (x + 0.044715 * (x * x * x)));
  return g * (0.5 * (1 + t) + 0.5 * x * fma(-t, t, 1) * (GELU_BETA * fma(3 * 0.044715, x * x, 1)));
}

function sigmoidOf(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Backward passes from the forward output y, or (the `…Backward` of a smooth activation) from its input x. */
const OUTPUT_GRAD: [KernelName, (g: NDArray, y: NDArray) => NDArray, (g: number, y: number, dtype: Float) => number][] = [
  ['reluBackward', reluBackward, (g, y) => (y > 0 ? g : 0)],
  ['tanhBackward', tanhBackward, (g, y) => g * (1 - y * y)],
  ['sigmoidBackward', sigmoidBackward, (g, y) => g * (1 - y) * y],
  ['leakyReluBackward', (g, x) => leakyReluBackward(g, x, 0.2), (g, x) => (x > 0 ? g : g * 0.2)],
  [
    'geluBackward',
    (g, x) => geluBackward(g, x),
    (g, x) => g * (0.5 * (1 + erfReference(x * Math.SQRT1_2)) + x * (1.1283791670955126 * Math.SQRT1_2 * 0.5 * Math.exp(x * x * -0.5))),
  ],
  ['geluBackward', (g, x) => geluBackward(g, x, { approximate: 'tanh' }), geluTanhGrad],
  ['siluBackward', siluBackward, (g, x) => g * sigmoidOf(x) * (1 + x * (1 - sigmoidOf(x)))],
  ['eluBackward', (g, x) => eluBackward(g, x, 1.5), (g, x) => (x > 0 ? g : g * 1.5 * Math.exp(x))],
  [
    'softplusBackward',
    (g, x) => softplusBackward(g, x, 2, 5),
    (g, x, d) => (round(d, x * 2) > 5 ? g : (g * Math.exp(round(d, x * 2))) / (Math.exp(round(d, x * 2)) + 1)),
  ],
  [
    'mishBackward',
    mishBackward,
    (g, x) => {
      const t = Math.tanh(Math.log1p(Math.exp(x)));
      return g * (t + x * sigmoidOf(x) * (1 - t * t));
    },
  ],
];

/** Reductions over axes: the shapes and axis sets each case takes. */
const REDUCTIONS: [number[], number[] | undefined][] = [
  [[5], undefined],
  [[3, 4], [1]],
  [[3, 4], [0]],
  [[2, 3, 4], [0, 2]],
  [[2, 3, 4], [1, 2]],
  [[0, 3], [1]],
  [[2, 1, 3], [1]],
];

function reduceReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  axes: readonly number[],
  init: number,
  step: (acc: number, v: number) => number,
): number[] {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Array<number>(outShape.reduce((p, d) => p * d, 1)).fill(init);
  const s = strides(shape);
  const o = strides(outShape);
  for (let f = 0; f < x.length; f++) {
    let k = 0;
    for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) k += (Math.floor(f / s[d]) % shape[d]) * o[d];
    out[k] = step(out[k], x[f]);
  }
  return out;
}

/** What each kernel's cases are, by name; every kernel must have some (checked below). */
const covered = new Set<KernelName>();
function cases(name: KernelName): string {
  covered.add(name);
  return name;
}

/** The kernels the suite has cases for: every one, or the suite's own test fails. */
export function conformanceKernels(): KernelName[] {
  return [...covered];
}

export function conformanceSuite(backend: Backend, api: SuiteApi, options: ConformanceOptions = {}): void {
  const { describe, beforeAll, afterAll } = api;
  const caseProfile = { ...HOST_BACKEND, ...options };
  const it = (name: string, body: () => void) => api.it(name, () => runCase(caseProfile, body));
  let previous: Backend;
  beforeAll(() => {
    previous = setBackend(backend);
  });
  afterAll(() => {
    setBackend(previous);
  });

  describe('elementwise', () => {
    for (const [name, op, f] of BINARY) {
      it(cases(name), () => {
        const next = testRandom(1);
        for (const dtype of floats()) {
          for (const [sa, sb] of BROADCASTS) {
            for (const view of [false, true]) {
              const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
              const a = values(dtype, size(sa), next);
              const b = values(dtype, size(sb), next).reverse();
              const out = broadcastShape(sa, sb);
              const expected = new Array(size(out)).fill(0).map((_, i) => {
                const r = f(a[broadcastIndex(i, out, sa)], b[broadcastIndex(i, out, sb)]);
                return round(dtype, r);
              });
              expectExact(op(on(a, sa, view), on(b, sb)), expected, `${name} ${dtype} [${sa}]·[${sb}]${view ? ' view' : ''}`);
            }
          }
        }
        // Integer arithmetic and comparisons on int32.
        if (['add', 'sub', 'mul', 'maximum', 'minimum', 'equal', 'less', 'greater'].includes(name)) {
          const a = Int32Array.from([0, -3, 7, 2 ** 30, -(2 ** 31), 5]);
          const b = Int32Array.from([1, -3, 2, 4, 1, -5]);
          const expected = Array.from(a, (x, i) => round('int32', f(x, b[i])));
          expectExact(op(on(a, [6]), on(b, [6])), expected, `${name} int32`);
        }
      });
    }

    it(cases('where'), () => {
      for (const dtype of floats()) {
        const cond = typed(dtype, [1, 0, Number.NaN, -0, 2, 0]);
        const a = values(dtype, 6, testRandom(2));
        const b = typed(dtype, [-9]);
        const expected = Array.from(cond, (c, i) => (c !== 0 ? a[i] : b[0]));
        expectExact(where(on(cond, [2, 3]), on(a, [2, 3]), on(b, [1])), expected, `where ${dtype}`);
        // cond [2, 1] broadcast over a [2, 3]
        const rows = typed(dtype, [0, 1]);
        const expectedRows = Array.from(a, (x, i) => (rows[Math.floor(i / 3)] !== 0 ? x : -9));
        expectExact(where(on(rows, [2, 1]), on(a, [2, 3]), -9), expectedRows, `where ${dtype} broadcast`);
      }
    });

    for (const [name, op, f] of UNARY) {
      it(cases(name), () => {
        const next = testRandom(3);
        for (const dtype of floats()) {
          for (const [shape, view] of [[[40], false], [[5, 8], true], [[0], false], [[], false], [[3000], false]] as const) {
            const n = shape.reduce((p: number, d: number) => p * d, 1);
            const x = values(dtype, n, next, n > 0);
            const expected = Array.from(x, (v) => round(dtype, f(v, dtype)));
            expectExact(op(on(x, shape, view)), expected, `${name} ${dtype} [${shape}]${view ? ' view' : ''}`);
          }
        }
      });
    }

    for (const [name, op, f] of OUTPUT_GRAD) {
      it(cases(name), () => {
        const next = testRandom(4);
        for (const dtype of floats()) {
          for (const n of [0, 1, 33, 2500]) {
            const g = values(dtype, n, next);
            const y = name === 'sigmoidBackward' ? typed(dtype, Array.from(values(dtype, n, next, false), (v) => 1 / (1 + Math.exp(-v)))) : values(dtype, n, next).reverse();
            const expected = Array.from(g, (v, i) => round(dtype, f(v, y[i], dtype)));
            expectExact(op(on(g, [n]), on(y, [n], true)), expected, `${name} ${dtype} n=${n}`);
          }
        }
      });
    }

    it(`${cases('fill')}, ${cases('copy')} and ${cases('cast')}`, () => {
      for (const dtype of floats()) {
        const x = values(dtype, 14, testRandom(5));
        expectExact(on(x, [14]).clone(), x, `copy ${dtype}`);
        const into = zeros([14], { dtype });
        copyInto(into, on(x, [14]));
        expectExact(into, x, `copyInto ${dtype}`);
        expectExact(zeros([2, 3], { dtype }).fill(-0), new Array(6).fill(-0), `fill ${dtype}`);
      }
      if (floats().includes('float64')) {
        const doubles = Float64Array.from([1.00000001, 0.1, Number.NaN, -0, 1e40, 2.5, -2.5, 7.9]);
        expectExact(on(doubles, [8]).astype('float32'), Array.from(doubles, Math.fround), 'cast float64 → float32');
        expectExact(on(Int32Array.from([3, -4]), [2]).astype('float64'), [3, -4], 'cast int32 → float64');
      }
      const ints = Float32Array.from([2.5, -2.5, 7.9, -0.5, 1e3]);
      expectExact(on(ints, [5]).astype('int32'), [2, -2, 7, 0, 1000], 'cast float32 → int32 truncates');
      expectExact(on(Int32Array.from([3, -4, 16777217]), [3]).astype('float32'), [3, -4, 16777216], 'cast int32 → float32 rounds');
    });
  });

  describe('moving elements', () => {
    it(cases('permute'), () => {
      const x = typed(wide(), Array.from({ length: 24 }, (_, i) => i));
      const t = transpose(on(x, [2, 3, 4]), [2, 0, 1]);
      sameJson(t.shape, [4, 2, 3], 'conformance');
      const expected: number[] = [];
      for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(i * 12 + j * 4 + k);
      expectExact(t, expected, 'permute [2, 0, 1]');
      const m = Float32Array.from({ length: 70 * 40 }, (_, i) => i % 97);
      const mt = transpose(on(m, [70, 40], true));
      expectExact(mt, Array.from({ length: 2800 }, (_, f) => m[(f % 70) * 40 + Math.floor(f / 70)]), 'tiled matrix transpose');
    });

    it(cases('concat'), () => {
      const a = Float32Array.from([1, 2, 3, 4]);
      const b = Float32Array.from([5, 6]);
      expectExact(concat([on(a, [2, 2]), on(b, [2, 1])], 1), [1, 2, 5, 3, 4, 6], 'concat axis 1');
      expectExact(concat([on(a, [2, 2]), on(b, [1, 2])], 0), [1, 2, 3, 4, 5, 6], 'concat axis 0');
      expectExact(concat([on(typed('float32', []), [0, 4]), on(a, [1, 4])], 0), [1, 2, 3, 4], 'concat with an empty array');
    });

    it(`${cases('take')} and ${cases('indexAdd')}`, () => {
      const x = typed(wide(), Array.from({ length: 12 }, (_, i) => i));
      expectExact(take(on(x, [4, 3]), [3, -4, 1, 1]), [9, 10, 11, 0, 1, 2, 3, 4, 5, 3, 4, 5], 'take rows');
      expectExact(take(on(x, [4, 3]), on(Int32Array.from([2, 0]), [2]), 1), [2, 0, 5, 3, 8, 6, 11, 9], 'take along axis 1');
      expectExact(take(on(x, [4, 3]), []), [], 'take nothing');
      const target = zeros([3, 2], { dtype: wide() });
      indexAdd(target, 0, [2, 0, 2], on(typed(wide(), [1, 2, 3, 4, 5, 6]), [3, 2]));
      expectExact(target, [3, 4, 0, 0, 6, 8], 'indexAdd adds repeated rows');
    });

    it(`${cases('gather')} and ${cases('scatterAdd')}`, () => {
      const x = Float32Array.from([10, 11, 12, 20, 21, 22]);
      const idx = on(Int32Array.from([2, 0, 1, 1]), [2, 2]);
      expectExact(gather(on(x, [2, 3]), 1, idx), [12, 10, 21, 21], 'gather along axis 1');
      expectExact(gather(on(x, [2, 3]), 0, on(Int32Array.from([1, 0, 1]), [1, 3])), [20, 11, 22], 'gather along axis 0');
      const out = zeros([2, 3]);
      scatterAdd(out, 1, idx, on(Float32Array.from([1, 2, 3, 4]), [2, 2]));
      expectExact(out, [2, 0, 1, 0, 7, 0], 'scatterAdd adds repeated positions');
    });
  });

  describe('reductions', () => {
    const cases3: [KernelName, (x: NDArray, axes?: number[]) => NDArray, number, (acc: number, v: number) => number][] = [
      ['sum', (x, axes) => sum(x, axes, true), 0, (a, v) => a + v],
      ['max', (x, axes) => max(x, axes, true), Number.NEGATIVE_INFINITY, (a, v) => (v > a || Number.isNaN(v) || Number.isNaN(a) ? (Number.isNaN(a) ? a : v) : a)],
      ['min', (x, axes) => min(x, axes, true), Number.POSITIVE_INFINITY, (a, v) => (v < a || Number.isNaN(v) || Number.isNaN(a) ? (Number.isNaN(a) ? a : v) : a)],
    ];
    for (const [name, op, init, step] of cases3) {
      it(cases(name), () => {
        const next = testRandom(6);
        for (const dtype of floats()) {
          for (const [shape, axesOrAll] of REDUCTIONS) {
            if (name !== 'sum' && shape.includes(0)) continue;
            const n = shape.reduce((p, d) => p * d, 1);
            for (const withSpecials of [false, true]) {
              const x = values(dtype, n, next, withSpecials);
              const axes = axesOrAll ?? shape.map((_, i) => i);
              const expected = reduceReference(x, shape, axes, init, step).map((v) => round(dtype, v));
              expectExact(op(on(x, shape), axesOrAll), expected, `${name} ${dtype} [${shape}] axes ${axes}`);
            }
          }
        }
      });
    }

    it(`${cases('argmax')} and ${cases('argmin')}`, () => {
      const x = typed(wide(), [3, 1, 3, Number.NaN, 0, 2, -1, -1, 5]);
      expectExact(argmax(on(x, [3, 3]), 1), [0, 0, 2], 'argmax: first maximum, NaN wins');
      expectExact(argmin(on(x, [3, 3]), 1), [1, 0, 0], 'argmin');
      expectExact(argmax(on(x, [3, 3]), 0), [1, 0, 2], 'argmax axis 0');
      same(argmax(on(x, [9])).dtype, 'int32', 'conformance');
    });

    it(cases('variance'), () => {
      const next = testRandom(7);
      for (const dtype of floats()) {
        for (const [shape, axesOrAll] of REDUCTIONS.filter(([s]) => !s.includes(0))) {
          const x = values(dtype, shape.reduce((p, d) => p * d, 1), next, false);
          const axes = axesOrAll ?? shape.map((_, i) => i);
          const count = axes.reduce((p, a) => p * shape[a], 1);
          const sums = reduceReference(x, shape, axes, 0, (a, v) => a + v);
          const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
          const dev = new Array(sums.length).fill(0);
          for (let f = 0; f < x.length; f++) {
            const k = broadcastIndex(f, shape, outShape);
            dev[k] += (x[f] - sums[k] / count) ** 2;
          }
          const expected = dev.map((d) => round(dtype, d / (count - 1)));
          expectClose(variance(on(x, shape), axesOrAll, { keepDims: true }), expected, 4 * EPS[dtype], `variance ${dtype} [${shape}]`);
        }
      }
    });

    it(cases('logSumExp'), () => {
      for (const dtype of floats()) {
        const x = typed(dtype, [1, 2, 3, -1000, -1000, -1000, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 1e3, 1e3, Number.POSITIVE_INFINITY]);
        const rows = [[1, 2, 3], [-1000, -1000, -1000], [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 0], [1e3, 1e3, Number.POSITIVE_INFINITY]];
        const expected = rows.map((r) => {
          const m = Math.max(...r);
          if (!Number.isFinite(m)) return m;
          return round(dtype, m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0)));
        });
        expectClose(logSumExp(on(x, [4, 3]), 1), expected, 2 * EPS[dtype], `logSumExp ${dtype}`);
        expectExact(logSumExp(on(typed(dtype, [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]), [2])), [Number.NEGATIVE_INFINITY], 'all −∞');
      }
    });

    it(cases('vectorNorm'), () => {
      for (const dtype of floats()) {
        const x = typed(dtype, [3, -4, 0, 12]);
        expectClose(vectorNorm(on(x, [2, 2])), [13], EPS[dtype], `norm 2 ${dtype}`);
        expectClose(vectorNorm(on(x, [4]), 1), [19], EPS[dtype], `norm 1 ${dtype}`);
        expectClose(vectorNorm(on(x, [4]), Number.POSITIVE_INFINITY), [12], 0, `norm ∞ ${dtype}`);
        expectClose(vectorNorm(on(x, [4]), 3), [round(dtype, (27 + 64 + 1728) ** (1 / 3))], 4 * EPS[dtype], `norm 3 ${dtype}`);
      }
    });

    it(cases('firstOutside'), () => {
      for (const dtype of floats()) {
        /** firstOutside(values, low, high) is `at`: at once, or (on a backend that checks on the device) through its next read. */
        const check = (values: number[] | TypedArray, low: number, high: number, at: number, label: string) => {
          if (profile.synchronousChecks) {
            same(firstOutside(on(typed(dtype, values), [values.length]), low, high), at, label);
            return;
          }
          deviceCheck(() => firstOutside(on(typed(dtype, values), [values.length]), low, high), at, label);
        };
        check([0, 1, 0.5], 0, 1, -1, 'inside [0, 1]');
        check([0, 1, Number.NaN, 2], 0, 1, 2, 'NaN is outside');
        check([1, Number.POSITIVE_INFINITY], -Number.MAX_VALUE, Number.MAX_VALUE, 1, 'Infinity is not finite');
        check([], 0, 1, -1, 'empty');
        // The finite scan, with one bad value at every position of 9 (each lane of a 4-wide pass and the tail).
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          for (let at = 0; at < 9; at++) {
            const values = typed(dtype, [1, -0, 2, 3e-40, -5, 0, 7, 8, 9]);
            values[at] = bad;
            check(values, -Number.MAX_VALUE, Number.MAX_VALUE, at, `finite scan: ${bad} at ${at} (${dtype})`);
          }
        }
      }
    });
  });

  describe('softmax and normalisation', () => {
    function softmaxRows(x: ArrayLike<number>, rows: number, cols: number, log: boolean): number[] {
      const out: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = Array.from({ length: cols }, (_, c) => x[r * cols + c]);
        const m = Math.max(...row);
        const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
        for (const v of row) out.push(log ? v - m - Math.log(s) : Math.exp(v - m) / s);
      }
      return out;
    }

    it(`${cases('softmax')} and ${cases('logSoftmax')}`, () => {
      const next = testRandom(8);
      for (const dtype of floats()) {
        const x = values(dtype, 24, next, false);
        x[5] = 80;
        x[6] = -80;
        for (const log of [false, true]) {
          const expected = softmaxRows(x, 4, 6, log).map((v) => round(dtype, v));
          const result = log ? logSoftmax(on(x, [4, 6])) : softmax(on(x, [4, 6], true));
          expectClose(result, expected, 8 * EPS[dtype], `${log ? 'logSoftmax' : 'softmax'} ${dtype}`, log ? 1 : 0);
          // Along a middle axis: [2, 6, 2] over axis 1 equals the transposed rows.
          const t = transpose(on(x, [2, 6, 2]), [0, 2, 1]);
          const alongRows = log ? logSoftmax(t) : softmax(t);
          const middle = transpose(log ? logSoftmax(on(x, [2, 6, 2]), 1) : softmax(on(x, [2, 6, 2]), 1), [0, 2, 1]);
          expectClose(middle, alongRows, 2 * EPS[dtype], 'axis 1 = last axis of the transpose', 1);
        }
        const nan = typed(dtype, [1, Number.NaN, 2]);
        later(softmax(on(nan, [3])), (data) => same(Array.from(data).every(Number.isNaN), true, 'softmax of a row with NaN'));
      }
    });

    it(`${cases('softmaxBackward')} and ${cases('logSoftmaxBackward')}`, () => {
      const next = testRandom(9);
      for (const dtype of floats()) {
        const y = typed(dtype, softmaxRows(values(dtype, 12, next, false), 3, 4, false));
        const ly = typed(dtype, Array.from(y, Math.log));
        const g = values(dtype, 12, next, false);
        const expected: number[] = [];
        const expectedLog: number[] = [];
        for (let r = 0; r < 3; r++) {
          let dot = 0;
          let total = 0;
          for (let c = 0; c < 4; c++) {
            dot += g[r * 4 + c] * y[r * 4 + c];
            total += g[r * 4 + c];
          }
          for (let c = 0; c < 4; c++) {
            const k = r * 4 + c;
            expected.push(round(dtype, y[k] * (g[k] - dot)));
            expectedLog.push(round(dtype, g[k] - Math.exp(ly[k]) * total));
          }
        }
        expectClose(softmaxBackward(on(g, [3, 4]), on(y, [3, 4])), expected, 8 * EPS[dtype], `softmaxBackward ${dtype}`, 4);
        expectClose(logSoftmaxBackward(on(g, [3, 4]), on(ly, [3, 4])), expectedLog, 8 * EPS[dtype], `logSoftmaxBackward ${dtype}`, 4);
      }
    });

    it(`${cases('nllLoss')} and ${cases('nllLossBackward')}`, () => {
      const next = testRandom(15);
      // [4, 5] with class axis 1, and [2, 3, 4] (inner positions) with class axis 1; −1 marks ignored rows.
      const layouts: [number[], number[]][] = [
        [[4, 5], [2, -1, 4, 0]],
        [[2, 3, 4], [0, 2, -1, 1, 1, 0, 2, 2]],
      ];
      for (const dtype of floats()) {
        for (const [shape, picks] of layouts) {
          const C = shape[1];
          const inner = shape.slice(2).reduce((p, d) => p * d, 1);
          const x = values(dtype, shape.reduce((p, d) => p * d, 1), next, false);
          for (const withWeight of [false, true]) {
            const w = withWeight ? typed(dtype, Array.from({ length: C }, (_, c) => 0.5 + c)) : undefined;
            const weight = w === undefined ? undefined : on(w, [C]);
            const target = on(Int32Array.from(picks), [shape[0], ...shape.slice(2)]);
            let picked = 0;
            let all = 0;
            let total = 0;
            picks.forEach((c, r) => {
              if (c < 0) return;
              const o = Math.floor(r / inner);
              const s = r % inner;
              const at = (k: number) => (o * C + k) * inner + s;
              const wy = w === undefined ? 1 : w[c];
              picked += wy * x[at(c)];
              total += wy;
              for (let k = 0; k < C; k++) all += (w === undefined ? 1 : w[k]) * x[at(k)];
            });
            expectClose(nllLoss(on(x, shape), target, { weight }), [picked, all, total], 4 * EPS.float64, `nllLoss ${dtype} [${shape}]`, 64);
            for (const eps of [0, 0.1]) {
              const scale = -0.75;
              const expected = new Array(x.length).fill(0);
              picks.forEach((c, r) => {
                if (c < 0) return;
                const o = Math.floor(r / inner);
                const s = r % inner;
                for (let k = 0; k < C; k++) {
                  const wk = w === undefined ? 1 : w[k];
                  const a = (k === c ? (1 - eps) * wk : 0) + (eps / C) * wk;
                  expected[(o * C + k) * inner + s] = round(dtype, 0 - scale * a);
                }
              });
              const grad = nllLossBackward(on(x, shape), target, scale, { weight, labelSmoothing: eps });
              expectClose(grad, expected, 2 * EPS[dtype], `nllLossBackward ${dtype} [${shape}] ε=${eps}`, 1);
              // Ignored rows and non-target classes without smoothing are +0, never −0.
              if (eps === 0) expectExact(grad, expected.map((v) => (v === 0 ? 0 : v)), `nllLossBackward zeros ${dtype}`);
            }
          }
        }
      }
    });

    it(`${cases('layerNorm')} and ${cases('layerNormBackward')}`, () => {
      const next = testRandom(10);
      for (const dtype of floats()) {
        const rows = 3;
        const features = 5;
        const x = values(dtype, rows * features, next, false);
        const w = values(dtype, features, next, false);
        const b = values(dtype, features, next, false);
        const g = values(dtype, rows * features, next, false);
        const expected: number[] = [];
        const dx: number[] = [];
        const dw = new Array(features).fill(0);
        const db = new Array(features).fill(0);
        for (let r = 0; r < rows; r++) {
          const row = Array.from({ length: features }, (_, f) => x[r * features + f]);
          const mu = row.reduce((a, v) => a + v, 0) / features;
          const inv = 1 / Math.sqrt(row.reduce((a, v) => a + (v - mu) ** 2, 0) / features + 1e-5);
          const xh = row.map((v) => (v - mu) * inv);
          const gh = xh.map((_, f) => g[r * features + f] * w[f]);
          const sg = gh.reduce((a, v) => a + v, 0);
          const sgx = gh.reduce((a, v, f) => a + v * xh[f], 0);
          xh.forEach((v, f) => {
            expected.push(round(dtype, v * w[f] + b[f]));
            dx.push(round(dtype, (inv / features) * (features * gh[f] - sg - v * sgx)));
            dw[f] += g[r * features + f] * v;
            db[f] += g[r * features + f];
          });
        }
        const X = on(x, [rows, features]);
        const W = on(w, [features]);
        const result = layerNorm(X, [features], { weight: W, bias: on(b, [features]) });
        const tol = 16 * EPS[dtype];
        expectClose(result.output, expected, tol, `layerNorm ${dtype}`, 4);
        const weightGrad = zeros([features], { dtype });
        const biasGrad = zeros([features], { dtype });
        const inputGrad = layerNormBackward(on(g, [rows, features]), X, result, { weight: W, weightGrad, biasGrad });
        expectClose(inputGrad as NDArray, dx, tol, `layerNormBackward dx ${dtype}`, 4);
        expectClose(weightGrad, dw.map((v) => round(dtype, v)), tol, `layerNormBackward dWeight ${dtype}`, 4);
        expectClose(biasGrad, db.map((v) => round(dtype, v)), tol, `layerNormBackward dBias ${dtype}`, 4);
      }
    });
  });

  describe('linear algebra', () => {
    /** op(A)·op(B) by the definition in float64, and Σ|a||b| per entry (what bounds any summation order's rounding). */
    function product(p: { transA: boolean; transB: boolean; m: number; n: number; k: number }, a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number) {
      const value = new Float64Array(p.m * p.n);
      const scale = new Float64Array(p.m * p.n);
      for (let i = 0; i < p.m; i++)
        for (let j = 0; j < p.n; j++) {
          let s = 0;
          let t = 0;
          for (let q = 0; q < p.k; q++) {
            const x = a[aOff + (p.transA ? q * p.m + i : i * p.k + q)];
            const y = b[bOff + (p.transB ? j * p.k + q : q * p.n + j)];
            s += x * y;
            t += Math.abs(x * y);
          }
          value[i * p.n + j] = s;
          scale[i * p.n + j] = t;
        }
      return { value, scale };
    }

    it(`${cases('gemm')}: every transpose, beta, offset and batch stride on edge sizes`, () => {
      const run = kernel('gemm', typescriptKernels.gemm);
      const next = testRandom(11);
      const sizes = [1, 3, 4, 5, 8, 9, 65];
      let count = 0;
      for (const dtype of floats()) {
        for (const m of sizes)
          for (const n of sizes) {
            const k = [1, 7, 8, 257][(m + n) % 4];
            const transA = (m + k) % 2 === 0;
            const transB = (n + count) % 3 === 0;
            const beta = [0, 1, 0.5][count % 3];
            const batch = 1 + (count % 3);
            const cStride = count % 4 === 0 ? 0 : m * n; // 0 sums every item's product into one matrix
            count++;
            const aOffset = 5;
            const bOffset = 3;
            const cOffset = 7;
            const a = values(dtype, aOffset + batch * m * k, next, false);
            const b = values(dtype, bOffset + batch * k * n, next, false);
            const cItems = cStride === 0 ? 1 : batch;
            const c = values(dtype, cOffset + cItems * m * n + 4, next, false);
            const before = Float64Array.from(c);
            const C = on(c, [c.length]);
            const problem: GemmProblem = {
              a: on(a, [a.length]),
              b: on(b, [b.length]),
              c: C,
              transA,
              transB,
              m,
              n,
              k,
              batch,
              aOffset,
              bOffset,
              cOffset,
              aStride: m * k,
              bStride: k * n,
              cStride,
              alpha: 1,
              beta,
              bias: undefined,
              activation: undefined,
            };
            run(problem);
            const expected = Float64Array.from(before);
            const bound = new Float64Array(before.length);
            for (let t = 0; t < batch; t++) {
              const { value, scale } = product({ transA, transB, m, n, k }, a, aOffset + t * m * k, b, bOffset + t * k * n);
              const at = cOffset + t * cStride;
              const itemBeta = cStride === 0 && t > 0 ? 1 : beta;
              for (let i = 0; i < m * n; i++) {
                expected[at + i] = value[i] + itemBeta * expected[at + i];
                bound[at + i] += scale[i] + Math.abs(expected[at + i]);
              }
            }
            const tol = Math.max((k * batch + 4) * EPS[dtype], profile.tolerance ?? 0);
            later(C, (got) => {
            for (let i = 0; i < got.length; i++) {
              const inside = i >= cOffset && i < cOffset + cItems * m * n;
              if (!inside) {
                if (!Object.is(got[i], c[i])) fail(`gemm wrote outside C at ${i}`);
                continue;
              }
              if (!(Math.abs(got[i] - expected[i]) <= tol * Math.max(bound[i], 2 ** -60))) {
                fail(`gemm ${dtype} m=${m} n=${n} k=${k} transA=${transA} transB=${transB} beta=${beta} batch=${batch} cStride=${cStride}: C[${i}] = ${got[i]}, expected ${expected[i]}`);
              }
            }
            });
          }
      }
    });

    it('gemm: exact on small integers, empty products, NaN and Infinity propagate', () => {
      for (const dtype of floats()) {
        // Integer products below 2^24 are exact in any order: every backend must agree bit for bit.
        const next = testRandom(21);
        const a = typed(dtype, Array.from({ length: 37 * 300 }, () => Math.floor(next() * 9) - 4));
        const b = typed(dtype, Array.from({ length: 300 * 41 }, () => Math.floor(next() * 9) - 4));
        const { value } = product({ transA: false, transB: false, m: 37, n: 41, k: 300 }, a, 0, b, 0);
        expectExact(gemm(on(a, [37, 300]), on(b, [300, 41])), value, `small integers ${dtype}`);
        // k = 0 writes zeros (beta 0) or leaves C (beta 1); m = 0 or n = 0 write nothing.
        expectExact(gemm(on(typed(dtype, []), [3, 0]), on(typed(dtype, []), [0, 2])), [0, 0, 0, 0, 0, 0], `k = 0 ${dtype}`);
        const keep = on(typed(dtype, [1, 2, 3, 4, 5, 6]), [3, 2]);
        expectExact(gemm(on(typed(dtype, []), [3, 0]), on(typed(dtype, []), [0, 2]), { out: keep, beta: 1 }), [1, 2, 3, 4, 5, 6], `k = 0, beta 1 ${dtype}`);
        sameJson(gemm(on(typed(dtype, []), [0, 4]), on(typed(dtype, [1, 2, 3, 4]), [4, 1])).shape, [0, 1], 'conformance');
        const ones = typed(dtype, new Array(80).fill(1));
        ones[0] = Number.NaN; // row 0
        ones[20 + 3] = Number.POSITIVE_INFINITY; // row 1, depth 3
        const c = gemm(on(ones, [4, 20]), on(typed(dtype, new Array(80).fill(1)), [20, 4]));
        expectExact(c, [...new Array(4).fill(Number.NaN), ...new Array(4).fill(Number.POSITIVE_INFINITY), ...new Array(8).fill(20)], `NaN and ∞ ${dtype}`);
      }
    });

    it('gemm: bias, alpha and the activation epilogue', () => {
      for (const dtype of floats()) {
        const a = on(typed(dtype, [1, -2, 3, 4, 5, -6]), [2, 3]);
        const w = on(typed(dtype, [1, 0, 1, 0, 1, 1]), [2, 3]);
        // a·wᵀ = [[4, 1], [-2, -1]]
        expectExact(gemm(a, w, { transB: true, bias: on(typed(dtype, [0.5, -3]), [2]) }), [4.5, -2, -1.5, -4], `row bias ${dtype}`);
        expectExact(gemm(a, w, { transB: true, bias: on(typed(dtype, [10, 20]), [2, 1]), activation: 'relu' }), [14, 11, 18, 19], `column bias + relu ${dtype}`);
        expectExact(gemm(a, w, { transB: true, alpha: 2, activation: 'relu' }), [8, 2, 0, 0], `alpha + relu ${dtype}`);
        const t = gemm(a, w, { transB: true, activation: 'tanh' });
        expectExact(t, [4, 1, -2, -1].map((v) => round(dtype, Math.tanh(v))), `tanh ${dtype}`);
        const s = gemm(a, w, { transB: true, activation: 'sigmoid' });
        expectExact(s, [4, 1, -2, -1].map((v) => round(dtype, dtype === 'float32' ? 1 / Math.fround(1 + Math.fround(Math.exp(-v))) : 1 / (1 + Math.exp(-v)))), `sigmoid ${dtype}`);
        // A NaN in out does not leak through beta 0.
        const out = on(typed(dtype, [Number.NaN, Number.NaN, Number.NaN, Number.NaN]), [2, 2]);
        expectExact(gemm(a, w, { transB: true, out }), [4, 1, -2, -1], `beta 0 ignores NaN ${dtype}`);
      }
    });
  });

  describe('convolution and pooling', () => {
    const windows = [
      { kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
      { kernelSize: [2, 3], stride: [2, 1], padding: [0, 2], dilation: [1, 2] },
      { kernelSize: [1, 1], stride: [3, 2], padding: [0, 0], dilation: [1, 1] },
    ] as const;

    it(`${cases('im2col')} and ${cases('col2im')} against the definition`, () => {
      const next = testRandom(12);
      for (const dtype of floats()) {
        for (const window of windows) {
          const shape = [2, 3, 5, 6];
          const x = values(dtype, 180, next, false);
          const g = conv2dGeometry('test', shape, window);
          const cols = im2col(on(x, shape, true), g);
          const P = g.outH * g.outW;
          const rowsPer = 3 * g.kernelH * g.kernelW;
          const expected = new Array(2 * rowsPer * P).fill(0);
          const adjoint = new Array(180).fill(0);
          const weights = values(dtype, expected.length, next, false);
          for (let n = 0; n < 2; n++)
            for (let c = 0; c < 3; c++)
              for (let i = 0; i < g.kernelH; i++)
                for (let j = 0; j < g.kernelW; j++)
                  for (let oy = 0; oy < g.outH; oy++)
                    for (let ox = 0; ox < g.outW; ox++) {
                      const iy = oy * g.strideH - g.padH + i * g.dilationH;
                      const ix = ox * g.strideW - g.padW + j * g.dilationW;
                      const k = ((n * rowsPer + (c * g.kernelH + i) * g.kernelW + j) * P) + oy * g.outW + ox;
                      if (iy >= 0 && iy < 5 && ix >= 0 && ix < 6) {
                        const src = ((n * 3 + c) * 5 + iy) * 6 + ix;
                        expected[k] = x[src];
                        adjoint[src] += weights[k];
                      }
                    }
          expectExact(cols, expected, `im2col ${dtype} ${JSON.stringify(window)}`);
          expectClose(col2im(on(weights, cols.shape), g), adjoint.map((v) => round(dtype, v)), 4 * EPS[dtype], `col2im ${dtype}`, 4);
        }
      }
    });

    function poolReference(x: ArrayLike<number>, shape: number[], g: ReturnType<typeof pool2dGeometry>, kind: 'max' | 'avg', countIncludePad = true) {
      const out: number[] = [];
      const idx: number[] = [];
      const [h, w] = shape.slice(-2);
      for (let p = 0; p < g.planes; p++)
        for (let oy = 0; oy < g.outH; oy++)
          for (let ox = 0; ox < g.outW; ox++) {
            let best = Number.NEGATIVE_INFINITY;
            let where = -1;
            let total = 0;
            let inside = 0;
            let padded = 0;
            for (let i = 0; i < g.kernelH; i++)
              for (let j = 0; j < g.kernelW; j++) {
                const y = oy * g.strideH - g.padH + i;
                const xx = ox * g.strideW - g.padW + j;
                if (y < h + g.padH && xx < w + g.padW) padded++;
                if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                inside++;
                const v = x[p * h * w + y * w + xx];
                total += v;
                if (where < 0) where = y * w + xx;
                if (v > best || Number.isNaN(v)) {
                  best = v;
                  where = y * w + xx;
                }
              }
            out.push(kind === 'max' ? best : total / (countIncludePad ? padded : inside));
            idx.push(where);
          }
      return { out, idx };
    }

    const poolWindows = [
      { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false },
      { kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], ceilMode: true },
    ] as const;

    it(`${cases('maxPool2d')} and ${cases('maxPool2dBackward')}`, () => {
      const next = testRandom(13);
      for (const dtype of floats()) {
        for (const window of poolWindows) {
          const shape = [2, 2, 5, 4];
          const x = values(dtype, 80, next, true);
          const g = pool2dGeometry('test', shape, window);
          const { output, indices } = maxPool2d(on(x, shape, true), g);
          const ref = poolReference(x, shape, g, 'max');
          expectExact(output, ref.out.map((v) => round(dtype, v)), `maxPool2d ${dtype}`);
          expectExact(indices, ref.idx, `maxPool2d indices ${dtype}`);
          const grad = values(dtype, output.size, next, false);
          // Each gradient added in output order, rounding after every addition (torch's kernel does).
          const dx = new Array(80).fill(0);
          ref.idx.forEach((at, k) => {
            const i = Math.floor(k / (g.outH * g.outW)) * 20 + at;
            dx[i] = round(dtype, dx[i] + grad[k]);
          });
          expectExact(maxPool2dBackward(on(grad, output.shape), indices, g, shape), dx, `maxPool2dBackward ${dtype}`);
        }
      }
    });

    it(`${cases('avgPool2d')} and ${cases('avgPool2dBackward')}`, () => {
      const next = testRandom(14);
      for (const dtype of floats()) {
        for (const window of poolWindows) {
          for (const countIncludePad of [true, false]) {
            const shape = [2, 2, 5, 4];
            const x = values(dtype, 80, next, false);
            const g = pool2dGeometry('test', shape, window);
            const divisor = { countIncludePad, divisorOverride: null };
            const ref = poolReference(x, shape, g, 'avg', countIncludePad);
            expectClose(avgPool2d(on(x, shape), g, divisor), ref.out.map((v) => round(dtype, v)), 8 * EPS[dtype], `avgPool2d ${dtype}`, 4);
            const grad = values(dtype, ref.out.length, next, false);
            const back = avgPool2dBackward(on(grad, [2, 2, g.outH, g.outW]), g, { countIncludePad: true, divisorOverride: 3 }, shape);
            const expected = new Array(80).fill(0);
            for (let p = 0; p < 4; p++)
              for (let oy = 0; oy < g.outH; oy++)
                for (let ox = 0; ox < g.outW; ox++)
                  for (let i = 0; i < g.kernelH; i++)
                    for (let j = 0; j < g.kernelW; j++) {
                      const y = oy * g.strideH - g.padH + i;
                      const xx = ox * g.strideW - g.padW + j;
                      if (y >= 0 && y < 5 && xx >= 0 && xx < 4) expected[p * 20 + y * 4 + xx] += grad[(p * g.outH + oy) * g.outW + ox] / 3;
                    }
            expectClose(back, expected.map((v) => round(dtype, v)), 8 * EPS[dtype], `avgPool2dBackward ${dtype}`, 4);
          }
        }
      }
    });
  });

  describe('randomness and optimizer updates (against the TypeScript kernels on host copies)', () => {
    it(`${cases('uniform')} and ${cases('normal')}`, () => {
      for (const dtype of floats()) {
        const host = dtype === 'float32' ? new Float32Array(37) : new Float64Array(37);
        new TorchGenerator(5).uniform(host, -2, 3);
        expectExact(fillUniform(zeros([37], { dtype }), -2, 3, new TorchGenerator(5)), host, `uniform ${dtype}`);
        new TorchGenerator(6).normal(host, 1, 2);
        expectExact(fillNormal(zeros([37], { dtype }), 1, 2, new TorchGenerator(6)), host, `normal ${dtype}`);
      }
    });

    /** Runs an update on the backend and on host copies with the TypeScript kernel; every buffer must match bit for bit. */
    function sameUpdate(label: string, dtype: Float, buffers: string[], run: (arrays: Record<string, NDArray>) => void, reference: (arrays: Record<string, NDArray>) => void): void {
      const next = testRandom(label.length);
      const host: Record<string, NDArray> = {};
      const device: Record<string, NDArray> = {};
      for (const name of buffers) {
        const v = values(dtype, 29, next, false);
        if (name !== 'grad') for (let i = 0; i < v.length; i++) v[i] = Math.abs(v[i]) + (name === 'param' ? -2 : 0);
        host[name] = new NDArray(v.slice(), [29]);
        device[name] = on(v, [29]);
      }
      for (let step = 0; step < 3; step++) {
        run(device);
        reference(host);
      }
      for (const name of buffers) expectExact(device[name], host[name].data, `${label} ${dtype}: ${name}`);
    }

    it(`${cases('sgdStep')}, ${cases('adamStep')}, ${cases('rmspropStep')} and ${cases('adagradStep')}`, () => {
      for (const dtype of floats()) {
        const sgd = (a: Record<string, NDArray>) => ({ param: a.param, grad: a.grad, momentumBuffer: a.buf, first: false, lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.01, maximize: false });
        sameUpdate('sgd', dtype, ['param', 'grad', 'buf'], (a) => sgdStep(sgd(a)), (a) => typescriptKernels.sgdStep(sgd(a)));
        const adam = (a: Record<string, NDArray>) => ({ param: a.param, grad: a.grad, expAvg: a.m, expAvgSq: a.v, maxExpAvgSq: a.vmax, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledDecay: 0.01, biasCorrection1: 0.1, biasCorrection2: 0.001, maximize: true });
        sameUpdate('adam', dtype, ['param', 'grad', 'm', 'v', 'vmax'], (a) => adamStep(adam(a)), (a) => typescriptKernels.adamStep(adam(a)));
        const rms = (a: Record<string, NDArray>) => ({ param: a.param, grad: a.grad, squareAvg: a.sq, momentumBuffer: a.buf, gradAvg: a.avg, lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0.1, momentum: 0.5, maximize: false });
        sameUpdate('rmsprop', dtype, ['param', 'grad', 'sq', 'buf', 'avg'], (a) => rmspropStep(rms(a)), (a) => typescriptKernels.rmspropStep(rms(a)));
        const ada = (a: Record<string, NDArray>) => ({ param: a.param, grad: a.grad, sum: a.sum, clr: 0.05, eps: 1e-10, weightDecay: 0, maximize: false });
        sameUpdate('adagrad', dtype, ['param', 'grad', 'sum'], (a) => adagradStep(ada(a)), (a) => typescriptKernels.adagradStep(ada(a)));
      }
    });
  });
}
