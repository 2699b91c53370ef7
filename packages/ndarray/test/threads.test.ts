import { afterAll, describe, expect, it } from 'vitest';
import { type DType, gemm, getNumThreads, rand, setNumThreads } from '../src/index';
import { THREAD_MIN_WORK, threadPool } from '../src/kernels/wasm/threads';
import { TorchGenerator } from '../src/random/torch';

afterAll(() => setNumThreads(1));

type Shape = { m: number; n: number; k: number; transA: boolean; transB: boolean; accumulate: boolean };

/** Seeded operands for each case, drawn once (drawing them is slower than the products). */
function operands(shapes: Shape[], dtype: DType) {
  return shapes.map(({ m, n, k, transA, transB }) => {
    const rng = new TorchGenerator(m * 7919 + n * 31 + k);
    return {
      a: rand(transA ? [k, m] : [m, k], { dtype, rng }),
      b: rand(transB ? [n, k] : [k, n], { dtype, rng }),
      c: rand([m, n], { dtype, rng }),
    };
  });
}

/** Every case's gemm on `threads` threads, each into a copy of its C. */
async function products(threads: number, shapes: Shape[], inputs: ReturnType<typeof operands>) {
  await setNumThreads(threads);
  return shapes.map(({ transA, transB, accumulate }, i) => {
    const { a, b } = inputs[i];
    const c = inputs[i].c.clone();
    gemm(a, b, { transA, transB, out: c, accumulate });
    return c.data;
  });
}

describe('setNumThreads', () => {
  it('starts at one thread and reports what was set', async () => {
    expect(getNumThreads()).toBe(1);
    await setNumThreads(2);
    expect(getNumThreads()).toBe(2);
    await setNumThreads(1);
    expect(getNumThreads()).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN, 65, '2', undefined])('refuses %s, naming it', async (bad) => {
    await expect(setNumThreads(bad as number)).rejects.toThrow(RangeError);
    await expect(setNumThreads(bad as number)).rejects.toThrow(`got ${String(bad)}`);
  });

  it('applies overlapping calls in order', async () => {
    await Promise.all([setNumThreads(2), setNumThreads(3), setNumThreads(1)]);
    expect(getNumThreads()).toBe(1);
    await Promise.all([setNumThreads(3), setNumThreads(2)]);
    expect(getNumThreads()).toBe(2);
  });
});

describe('gemm on several threads', () => {
  // Above the 2²² multiply-add threshold (float32; float64's is 2²¹): split by
  // rows (m ≥ n) and by columns, blocks that end in partial micro-tiles, a side
  // too short for every thread, the 512-column panel crossed, and the MNIST
  // MLP's three products.
  const shapes = [
    [300, 200, 100],
    [130, 9, 4000],
    [9, 130, 4000],
    [5, 1100, 800],
    [257, 263, 65],
    [64, 128, 784],
    [128, 784, 64],
    [64, 784, 128],
  ];
  const cases = shapes.flatMap(([m, n, k]) =>
    [false, true].flatMap((transA) =>
      [false, true].map((transB) => ({ m, n, k, transA, transB, accumulate: (m + n + +transA + +transB) % 2 === 0 })),
    ),
  );

  it('uses only shapes that are split (at or above the threshold in both dtypes)', () => {
    for (const [m, n, k] of shapes) expect(m * n * k, `${m}×${n}×${k}`).toBeGreaterThanOrEqual(THREAD_MIN_WORK.float32);
    expect(THREAD_MIN_WORK.float64).toBeLessThanOrEqual(THREAD_MIN_WORK.float32);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`gives the one-thread result bit for bit on 2 and 3 threads (${dtype}, ${cases.length} cases)`, async () => {
      const inputs = operands(cases, dtype);
      const one = await products(1, cases, inputs);
      for (const threads of [2, 3]) {
        const many = await products(threads, cases, inputs);
        cases.forEach((shape, c) => {
          let first = -1;
          for (let i = 0; i < one[c].length && first < 0; i++) if (!Object.is(one[c][i], many[c][i])) first = i;
          expect(first, `${JSON.stringify(shape)} on ${threads} threads: first differing element`).toBe(-1);
        });
      }
      // A hang guard, not a timing: under `pnpm test` other packages' tests share the two cores with these threads.
    }, 60_000);
  }
});

describe('the job numbers the threads share', () => {
  it('wrap within the positive Int32 range, so the 2³¹st product neither stops a worker nor hangs', async () => {
    const shape = { m: 300, n: 200, k: 100, transA: false, transB: false, accumulate: false };
    const inputs = operands([shape], 'float32');
    const [expected] = await products(1, [shape], inputs);
    await setNumThreads(3);
    // Three products that straddle 2³¹ − 1, where an Int32 job number would turn negative.
    (threadPool() as unknown as { sequence: number }).sequence = 0x7fffffff - 1;
    for (let i = 0; i < 3; i++) {
      const [got] = await products(3, [shape], inputs);
      expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer)), `product ${i}`).toBe(true);
    }
    expect((threadPool() as unknown as { sequence: number }).sequence).toBe(2);
  }, 60_000);
});
