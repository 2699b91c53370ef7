import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// Faults that could hang a product run in a child node process, killed past a
// deadline: a product blocked on an atomic would block this test's thread too.
// The child has no TypeScript loader, so it runs the package's source (and
// `threadPool`, to reach the workers) bundled by tsup into a temporary folder.
let compiled = '';
beforeAll(async () => {
  compiled = mkdtempSync(join(tmpdir(), 'ndarray-threads-'));
  const source = (path: string) => JSON.stringify(fileURLToPath(new URL(`../src/${path}`, import.meta.url)));
  writeFileSync(
    join(compiled, 'entry.ts'),
    `export * from ${source('index.ts')};\nexport { threadPool } from ${source('kernels/wasm/threads.ts')};\n`,
  );
  await build({
    entry: { package: join(compiled, 'entry.ts') },
    outDir: compiled,
    format: ['cjs'],
    outExtension: () => ({ js: '.cjs' }),
    platform: 'node',
    target: 'node20',
    config: false,
    dts: false,
    silent: true,
  });
}, 60_000);
afterAll(() => rmSync(compiled, { recursive: true, force: true }));

/** What a child node process did: its exit code, the signal that killed it (SIGTERM past the deadline), and its output. */
interface ChildRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` in a child node process started with `flags`, where `nd` is
 * the package (with `threadPool`); kills it past `deadline` ms.
 */
function runChild(script: string, flags: string[] = [], deadline = 30_000): Promise<ChildRun> {
  const prelude = `const nd = require(${JSON.stringify(join(compiled, 'package.cjs'))});\n`;
  return new Promise((resolve) => {
    execFile(process.execPath, [...flags, '-e', prelude + script], { timeout: deadline }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number; signal?: string }) | null;
      resolve({ code: failure?.code ?? 0, signal: failure?.signal ?? null, stdout, stderr });
    });
  });
}

/**
 * A script for the child: it starts two threads, injects `fault` (run after a
 * first product that works), then runs products until one fails, then one on
 * one thread and one on restarted threads; it prints what each product did
 * ('equal' to the one-thread result bit for bit, 'different', or the error),
 * as JSON. `preamble` runs before, in the child's main thread.
 */
function faultScript(fault: string, preamble = '', size = [300, 200, 100]): string {
  const [m, n, k] = size;
  return `${preamble}
const rng = new nd.TorchGenerator(19);
const a = nd.rand([${m}, ${k}], { rng });
const b = nd.rand([${k}, ${n}], { rng });
const expected = Buffer.from(nd.matmul(a, b).data.buffer);
function product() {
  try {
    return Buffer.from(nd.matmul(a, b).data.buffer).equals(expected) ? 'equal' : 'different';
  } catch (error) {
    return 'threw: ' + error.message;
  }
}
(async () => {
  await nd.setNumThreads(2);
  const products = [product()];
  ${fault}
  // A worker that stopped is noticed at the latest once its 'exit' event has come: give the event loop turns.
  for (let i = 0; i < 100 && !products[products.length - 1].startsWith('threw'); i++) {
    products.push(product());
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const threadsAfterFailure = nd.getNumThreads();
  products.push(product());
  await nd.setNumThreads(2);
  products.push(product());
  console.log(JSON.stringify({ products, threadsAfterFailure, threadsRestarted: nd.getNumThreads() }));
  process.exit(0);
})();
`;
}

/**
 * Replaces node:worker_threads' Worker (for the child's pool) by one whose
 * code starts with \`fault\`, which runs in each worker before the pool's code.
 */
function injectIntoWorkers(fault: string): string {
  return `const workerThreads = require('node:worker_threads');
const NodeWorker = workerThreads.Worker;
workerThreads.Worker = class extends NodeWorker {
  constructor(source, options) {
    super(${JSON.stringify(`'use strict';\n${fault}\n`)} + source, options);
  }
};
`;
}

/**
 * Asserts the child ran every product to the one-thread result but one, which
 * failed naming the stopped worker and what to do, and that it neither hung nor
 * crashed.
 */
function expectFailedOnce(run: ChildRun, failure: RegExp): { products: string[] } {
  expect(run.signal, `the child hung (killed by ${run.signal}); stderr: ${run.stderr}`).toBeNull();
  expect(run.code, run.stderr).toBe(0);
  const result = JSON.parse(run.stdout) as { products: string[]; threadsAfterFailure: number; threadsRestarted: number };
  const { products } = result;
  const failed = products.filter((outcome) => outcome !== 'equal');
  expect(failed, JSON.stringify(products)).toHaveLength(1);
  expect(failed[0]).toMatch(failure);
  expect(failed[0]).toMatch(/call setNumThreads\(2\) to start the threads again/);
  // After the failure: one thread, then two again, each product bit for bit the one-thread result.
  expect(products.slice(-2)).toEqual(['equal', 'equal']);
  expect(result.threadsAfterFailure).toBe(1);
  expect(result.threadsRestarted).toBe(2);
  return result;
}

describe('a worker thread that stops', () => {
  const timeout = 60_000;

  it('when terminated between products, fails the next product, naming it, then runs on one thread', async () => {
    const run = await runChild(faultScript('await nd.threadPool().workers[0].terminate();'));
    const { products } = expectFailedOnce(
      run,
      /^threw: ndarray: a gemm worker thread 2 of 2 exited with code 1, so this product was not computed/,
    );
    expect(products[1]).toMatch(/^threw/);
  }, timeout);

  it('when terminated just before a product, never hangs it: the product runs its block here, the next one fails', async () => {
    const run = await runChild(faultScript('nd.threadPool().workers[0].terminate(); products.push(product());'));
    const { products } = expectFailedOnce(run, /^threw: ndarray: a gemm worker thread 2 of 2 exited with code 1/);
    expect(products[1]).toBe('equal');
  }, timeout);

  it('when it exits on waking for a product, never hangs it; the next product fails', async () => {
    // The worker's second wake is the second product's job: it exits before claiming it.
    const exitOnWake = `const wait = Atomics.wait; let wakes = 0;
Atomics.wait = function (...args) {
  const result = wait.apply(Atomics, args);
  if (++wakes === 2) process.exit(7);
  return result;
};`;
    const run = await runChild(faultScript('', injectIntoWorkers(exitOnWake)));
    const { products } = expectFailedOnce(run, /^threw: ndarray: a gemm worker thread 2 of 2 (stopped|exited with code 7)/);
    expect(products[1]).toBe('equal');
  }, timeout);

  it('when it throws outside a product, never hangs the product; the next one fails', async () => {
    const throwOnWake = `const wait = Atomics.wait; let wakes = 0;
Atomics.wait = function (...args) {
  const result = wait.apply(Atomics, args);
  if (++wakes === 2) throw new Error('injected fault');
  return result;
};`;
    const run = await runChild(faultScript('', injectIntoWorkers(throwOnWake)));
    const { products } = expectFailedOnce(
      run,
      /^threw: ndarray: a gemm worker thread 2 of 2 (stopped|threw Error: injected fault|exited with code 1)/,
    );
    expect(products[1]).toBe('equal');
  }, timeout);

  it('when it exits after claiming a block, fails that product instead of waiting for it forever', async () => {
    // The worker exits right after claiming its second block. The split is even
    // and this thread claims a block left unclaimed only after running its own,
    // which is long here, so the worker claims first (or, on a very busy
    // machine, a later product's block).
    const exitOnClaim = `const claim = Atomics.compareExchange; let claims = 0;
Atomics.compareExchange = function (...args) {
  const before = claim.apply(Atomics, args);
  if (before === args[2] && ++claims === 2) process.exit(7);
  return before;
};`;
    const run = await runChild(faultScript('', injectIntoWorkers(exitOnClaim), [1024, 1024, 256]));
    expectFailedOnce(
      run,
      /^threw: ndarray: a gemm worker thread 2 of 2 (stopped during this product, which was not computed|stopped|exited with code 7)/,
    );
  }, timeout);
});

describe('setNumThreads where workers are not permitted', () => {
  it("rejects naming setNumThreads and --allow-worker under Node's permission model, and keeps one thread", async () => {
    // Node 20 names the model --experimental-permission; later versions --permission.
    const flag = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
    const run = await runChild(
      `nd.setNumThreads(2).then(
  () => console.log(JSON.stringify({ resolved: true })),
  (error) => console.log(JSON.stringify({ message: error.message, threads: nd.getNumThreads() })),
);`,
      [flag, '--allow-fs-read=*'],
    );
    expect(run.signal, run.stderr).toBeNull();
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { message?: string; threads?: number };
    expect(result.message).toMatch(/^setNumThreads: .*permission.*--allow-worker/);
    expect(result.threads).toBe(1);
  }, 60_000);
});
