/**
 * gemm on WebGPU against the TypeScript kernel (float64 accumulation): every
 * transpose, odd sizes across tile edges, batches with each stride pattern,
 * offsets, alpha/beta, bias both ways, each activation, k = 0, NaN and ∞, the
 * split-depth path, and the matmul/gemm ops on GPU arrays.
 */
import {
  type GemmActivation,
  type GemmProblem,
  NDArray,
  array,
  gemm,
  jsBackend,
  matmul,
  setBackend,
  typescriptKernels,
} from '@backprop/ndarray';
import { testRandom } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { planGemm } from '../src/kernels/gemm';
import { both, gpu, onGpu, onHost, useGpu } from './reference';

useGpu();

const EPS = 2 ** -24;

interface Case {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  batch?: number;
  /** Defaults: each item its own matrix (m·k, k·n, m·n). */
  aStride?: number;
  bStride?: number;
  cStride?: number;
  aOffset?: number;
  bOffset?: number;
  cOffset?: number;
  alpha?: number;
  beta?: number;
  bias?: 'row' | 'column';
  activation?: GemmActivation;
  /** C's prior content: random by default. */
  cFill?: number;
  /** Values of A and B: random in [-2, 2) by default. */
  values?: (next: () => number) => number;
}

const random = (next: () => number, length: number, values = (r: () => number) => 4 * r() - 2): Float32Array =>
  Float32Array.from({ length }, () => values(next));

/**
 * Runs a case on the GPU and through the TypeScript kernel, and checks every
 * element of C's buffer: outside C's matrices untouched bit for bit; inside,
 * NaN where the reference has NaN and otherwise within float32 summation error.
 * Returns the reference's C.
 */
async function check(spec: Case, seed = 1): Promise<ArrayLike<number>> {
  const { bias, activation, cFill, values, ...sizes } = spec;
  const { m, n, k } = sizes;
  const batch = spec.batch ?? 1;
  const layout = {
    transA: false,
    transB: false,
    aStride: m * k,
    bStride: k * n,
    cStride: m * n,
    aOffset: 0,
    bOffset: 0,
    cOffset: 0,
    alpha: 1,
    beta: 0,
    ...sizes,
    batch,
  };
  const { transA, transB, aStride, bStride, cStride, aOffset, bOffset, cOffset, alpha, beta } = layout;
  const next = testRandom(seed);
  const extent = (offset: number, stride: number, size: number) => offset + (batch - 1) * stride + size + 3;
  const aHost = random(next, extent(aOffset, aStride, m * k), values);
  const bHost = random(next, extent(bOffset, bStride, k * n), values);
  const cLength = extent(cOffset, cStride, m * n);
  const cHost = cFill === undefined ? random(next, cLength) : new Float32Array(cLength).fill(cFill);
  const biasHost = bias === undefined ? undefined : random(next, bias === 'row' ? n : m);
  const biasShape = bias === 'row' ? [n] : [m, 1];
  const problem = (make: (data: Float32Array, shape?: number[]) => NDArray, c: NDArray): GemmProblem => ({
    ...layout,
    a: make(aHost),
    b: make(bHost),
    c,
    bias: biasHost === undefined ? undefined : make(biasHost, biasShape),
    activation,
  });

  setBackend(jsBackend);
  const host = (data: Float32Array, shape = [data.length]) => new NDArray(Float32Array.from(data), shape);
  const expectedC = host(cHost);
  typescriptKernels.gemm(problem(host, expectedC));
  const expected = expectedC.data;

  setBackend(gpu());
  const upload = (data: Float32Array, shape = [data.length]) => array(data, { shape });
  const C = upload(cHost);
  gpu().kernels.gemm?.(problem(upload, C));
  const got = await C.toHost();
  setBackend(jsBackend);

  // |alpha|·Σ|a||b| + |beta·C| + |bias| per element of C bounds the rounding error of a float32 sum.
  const summing = cStride === 0;
  const scale = new Float64Array(cLength);
  const inside = new Uint8Array(cLength);
  for (let item = 0; item < batch; item++) {
    const a0 = aOffset + item * aStride;
    const b0 = bOffset + item * bStride;
    const c0 = cOffset + item * cStride;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += Math.abs(aHost[a0 + (transA ? p * m + i : i * k + p)] * bHost[b0 + (transB ? j * k + p : p * n + j)]);
        const at = c0 + i * n + j;
        scale[at] += Math.abs(alpha) * s;
        if (item === 0 || !summing) {
          inside[at] = 1;
          scale[at] += (beta === 0 ? 0 : Math.abs(beta * cHost[at])) + Math.abs(biasHost?.[bias === 'row' ? j : i] ?? 0);
        }
      }
  }
  const depth = k * (summing ? batch : 1);
  // tanh and sigmoid are 1-Lipschitz; the GPU's own exp/tanh add a few ulp of their own.
  const slack = activation === 'tanh' || activation === 'sigmoid' ? 4e-7 : 0;
  const label = JSON.stringify({ ...spec, values: undefined });
  for (let i = 0; i < cLength; i++) {
    const [e, g] = [expected[i], got[i]];
    const where = `${label}: C[${i}] = ${g}, expected ${e}`;
    if (!inside[i]) {
      if (!Object.is(g, cHost[i])) expect.fail(`wrote outside C: ${where}`);
    } else if (Number.isNaN(e) || Number.isNaN(g) || !Number.isFinite(e)) {
      if (!Object.is(g, e)) expect.fail(where);
    } else {
      const bound = (depth + 8) * EPS * scale[i] + slack;
      if (!(Math.abs(g - e) <= bound)) expect.fail(`${where} (bound ${bound})`);
    }
  }
  return expected;
}

function expectClose(got: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - expected[i]) <= tolerance)) expect.fail(`[${i}] = ${got[i]}, expected ${expected[i]} (tolerance ${tolerance})`);
  }
}

const SIZES = [1, 3, 5, 17, 33, 65, 130];

describe('webgpu gemm', () => {
  it('every transpose on odd sizes across tile edges, k up to 300', async () => {
    let seed = 0;
    for (const transA of [false, true])
      for (const transB of [false, true])
        for (const [m, n, k] of [
          [1, 1, 1],
          [3, 5, 17],
          [17, 33, 5],
          [33, 17, 65],
          [65, 3, 130],
          [5, 65, 300],
          [130, 65, 33],
          [130, 130, 3],
        ])
          await check({ m, n, k, transA, transB }, ++seed);
  });

  it('each size along each side', async () => {
    let seed = 100;
    for (const size of SIZES) {
      await check({ m: size, n: 7, k: 9, transA: size % 2 === 0 }, ++seed);
      await check({ m: 6, n: size, k: 11, transB: size % 4 === 1 }, ++seed);
      await check({ m: 4, n: 5, k: size, transA: true, transB: true }, ++seed);
    }
  });

  it('64×64 tiles when the tiles fill the GPU, 32×32 and an unsplit depth otherwise', async () => {
    const wide = { m: 130, n: 65, k: 40, batch: 24, aOffset: 3, bOffset: 1, cOffset: 2 };
    expect(planGemm({ ...wide, cStride: wide.m * wide.n })).toMatchObject({ tile: 64, split: 1 });
    await check(wide, 7);
    await check({ ...wide, transA: true, transB: true }, 8);
    const small = { m: 33, n: 17, k: 100, batch: 3 };
    expect(planGemm({ ...small, cStride: small.m * small.n })).toMatchObject({ tile: 32, split: 1 });
    await check(small, 9);
  });

  it('batches: each stride pattern, with offsets', async () => {
    const [m, n, k] = [5, 17, 9];
    let seed = 200;
    for (const [aStride, bStride] of [
      [m * k, k * n],
      [0, k * n],
      [m * k, 0],
      [0, 0],
      [m * k + 2, k * n + 5],
    ])
      for (const cStride of [m * n, m * n + 4])
        for (const transA of [false, true]) await check({ m, n, k, batch: 4, aStride, bStride, cStride, transA, aOffset: 7, bOffset: 2, cOffset: 5 }, ++seed);
  });

  it('cStride 0 sums the items into one C, with beta 0, 1 and 0.5, bias and activation once', async () => {
    let seed = 300;
    for (const beta of [0, 1, 0.5])
      for (const [m, n, k, batch] of [
        [3, 5, 7, 4],
        [17, 33, 20, 5],
        [1, 1, 1, 1],
      ])
        await check({ m, n, k, batch, cStride: 0, beta, aOffset: 1, cOffset: 3 }, ++seed);
    await check({ m: 6, n: 5, k: 4, batch: 3, cStride: 0, beta: 1, bias: 'row', activation: 'relu' }, ++seed);
    await check({ m: 6, n: 5, k: 4, batch: 3, cStride: 0, aStride: 0, bias: 'column', activation: 'tanh' }, ++seed);
  });

  it('a long depth over a small C is split into parts summed in order', async () => {
    // Over k (one item), over the items of a summed batch, and both with every epilogue option.
    const overK = { m: 5, n: 3, k: 300 };
    expect(planGemm({ ...overK, batch: 1, cStride: 15 }).split).toBeGreaterThan(1);
    const overItems = { m: 9, n: 33, k: 70, batch: 12, cStride: 0 };
    expect(planGemm(overItems).split).toBeGreaterThan(1);
    let seed = 400;
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        await check({ ...overK, transA, transB }, ++seed);
        await check({ ...overItems, transA, transB, aOffset: 2, bOffset: 3, cOffset: 4 }, ++seed);
      }
    await check({ ...overK, batch: 3, cOffset: 6, alpha: -0.5, beta: 0.5, bias: 'row', activation: 'sigmoid' }, ++seed);
    await check({ ...overItems, beta: 1, bias: 'column', activation: 'relu' }, ++seed);
    await check({ ...overItems, aStride: 0, alpha: 2, beta: 0, cFill: Number.NaN, activation: 'tanh' }, ++seed);
  });

  it('alpha, beta, bias along rows and down columns, each activation', async () => {
    let seed = 500;
    for (const activation of [undefined, 'relu', 'tanh', 'sigmoid'] as const)
      for (const bias of [undefined, 'row', 'column'] as const)
        for (const [alpha, beta] of [
          [1, 0],
          [-1.5, 1],
          [0.25, -2],
        ])
          await check({ m: 9, n: 18, k: 13, alpha, beta, bias, activation, transB: true, batch: 2, cOffset: 1 }, ++seed);
  });

  it('beta 0 ignores NaN in C; beta 1 keeps it', async () => {
    await check({ m: 4, n: 5, k: 6, beta: 0, cFill: Number.NaN });
    await check({ m: 4, n: 5, k: 300, beta: 0, cFill: Number.NaN, bias: 'row' });
    await check({ m: 4, n: 5, k: 6, beta: 1, cFill: Number.NaN });
  });

  it('k = 0: C = beta·C (+ bias, activation); m = 0 or n = 0 writes nothing', async () => {
    let seed = 600;
    for (const beta of [0, 1, 0.5]) {
      await check({ m: 3, n: 4, k: 0, beta, cOffset: 2 }, ++seed);
      await check({ m: 3, n: 4, k: 0, beta, bias: 'column', activation: 'relu', batch: 2 }, ++seed);
      await check({ m: 3, n: 4, k: 0, beta, batch: 3, cStride: 0, bias: 'row' }, ++seed);
    }
    await check({ m: 0, n: 4, k: 5, cOffset: 1 }, ++seed);
    await check({ m: 3, n: 0, k: 5, batch: 2 }, ++seed);
    await check({ m: 3, n: 4, k: 5, batch: 0, cOffset: 1 }, ++seed);
  });

  it('NaN and ∞ in A or B propagate (no product is skipped)', async () => {
    // A few NaN and ±∞ among many zeros: 0·NaN and 0·∞ are NaN, as the reference computes.
    const special = (next: () => number) => {
      const r = next();
      return r < 0.002 ? Number.NaN : r < 0.004 ? Number.POSITIVE_INFINITY : r < 0.006 ? Number.NEGATIVE_INFINITY : r < 0.5 ? 0 : Math.round(8 * next() - 4);
    };
    const seen = { nan: 0, infinite: 0, finite: 0 };
    const tally = (values: ArrayLike<number>) => {
      for (const v of Array.from(values)) {
        if (Number.isNaN(v)) seen.nan++;
        else if (!Number.isFinite(v)) seen.infinite++;
        else seen.finite++;
      }
    };
    let seed = 700;
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        tally(await check({ m: 17, n: 9, k: 33, transA, transB, values: special }, ++seed));
        tally(await check({ m: 5, n: 4, k: 300, transA, transB, values: special }, ++seed));
      }
    tally(await check({ m: 9, n: 7, k: 5, values: special, activation: 'relu' }, ++seed));
    expect(seen.nan).toBeGreaterThan(20);
    expect(seen.infinite).toBeGreaterThan(20);
    expect(seen.finite).toBeGreaterThan(20);
  });

  it('small integer products are exact', async () => {
    const integers = (next: () => number) => Math.floor(next() * 9) - 4;
    const next = testRandom(21);
    const a = new NDArray(Float32Array.from({ length: 37 * 300 }, () => integers(next)), [37, 300]);
    const b = new NDArray(Float32Array.from({ length: 300 * 41 }, () => integers(next)), [300, 41]);
    const { expected, actual } = await both([a, b], (x, y) => gemm(x, y));
    expect(Array.from(actual)).toEqual(Array.from(expected));
  });

  it('matmul of 3-D and broadcast batches, and the gemm op, on GPU arrays', async () => {
    const next = testRandom(5);
    const pairs: [number[], number[]][] = [
      [
        [4, 5, 7],
        [4, 7, 3],
      ],
      [
        [4, 5, 7],
        [7, 3],
      ],
      [
        [2, 1, 33, 17],
        [3, 17, 65],
      ],
      [[7], [3, 7, 2]],
      [[6, 7], [7]],
    ];
    for (const [aShape, bShape] of pairs) {
      const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
      const a = new NDArray(random(next, size(aShape)), aShape);
      const b = new NDArray(random(next, size(bShape)), bShape);
      const expected = onHost([a, b], (x, y) => matmul(x, y));
      const got = onGpu([a, b], (x, y) => matmul(x, y));
      const values = await got.toHost();
      expect(got.shape).toEqual(expected.shape);
      const k = aShape[aShape.length - 1];
      expectClose(values, expected.data, (k + 4) * EPS * 4 * k);
    }
    // Linear's forward: x·Wᵀ + bias, then relu.
    const x = new NDArray(random(next, 6 * 10), [6, 10]);
    const w = new NDArray(random(next, 4 * 10), [4, 10]);
    const bias = new NDArray(random(next, 4), [4]);
    const { expected, actual } = await both([x, w, bias], (a, b, c) => gemm(a, b, { transB: true, bias: c, activation: 'relu' }));
    expectClose(actual, expected, 1e-5);
    expect(expected.some((e) => e === 0) && expected.some((e) => e > 0)).toBe(true);
  });
});
