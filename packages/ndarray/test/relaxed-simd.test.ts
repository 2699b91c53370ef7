// The relaxed-SIMD GEMM (createWasmBackend({ relaxedSimd: true })): the probe,
// the silent fallback to the exactly rounded module where the engine lacks
// relaxed SIMD (Node 20, Safari; simulated here through `validate` on every
// engine), and, where the engine has it (Node ≥ 22: `pnpm test:runtimes` runs
// this file on Node 22, 24 and 26), agreement with the exact module within
// float32 (float64) rounding, threads included.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Backend, type DType, type NDArray, array, gemm, randn, setBackend, setNumThreads, wasmBackend } from '../src/index';
import { GEMM_RELAXED_WASM_BASE64, GEMM_SHARED_RELAXED_WASM_BASE64, GEMM_WASM_BASE64 } from '../src/kernels/wasm/gemm-bytes';
import { RELAXED_SIMD_PROBE, type WasmBackend, createWasmBackend } from '../src/kernels/wasm/index';
import { decodeBase64 } from '../src/kernels/wasm/memory';
import { THREAD_MIN_WORK, threadPool } from '../src/kernels/wasm/threads';
import { TorchGenerator } from '../src/random/torch';

/** The engine's own validator (the package compiles against lib ES2022, which does not declare WebAssembly). */
const engine = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
const hasRelaxed = engine.validate(RELAXED_SIMD_PROBE);
const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * Whether this machine's hardware fuses a multiply-add, so that V8 compiles
 * relaxed_madd to one instruction: always on arm64, on x86-64 with FMA3 (read
 * from /proc/cpuinfo on Linux); undefined where this test cannot tell.
 */
function hardwareFma(): boolean | undefined {
  if (process.arch === 'arm64') return true;
  if (process.arch !== 'x64' || process.platform !== 'linux') return undefined;
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return undefined;
  }
}
const fused = hasRelaxed ? hardwareFma() : false;

afterAll(() => setNumThreads(1));

/** Runs `body` with `backend` active, then puts the previous backend back (by value, so its name maps to it again). */
function on<T>(backend: Backend, body: () => T): T {
  const previous = setBackend(backend);
  try {
    return body();
  } finally {
    setBackend(previous);
  }
}

type Case = { m: number; n: number; k: number; transA: boolean; transB: boolean; accumulate: boolean };

/** Every transpose combination of each m×n×k, half of them accumulating into C. */
function cases(shapes: number[][]): Case[] {
  return shapes.flatMap(([m, n, k]) =>
    [false, true].flatMap((transA) =>
      [false, true].map((transB) => ({ m, n, k, transA, transB, accumulate: (m + n + k + +transA + 2 * +transB) % 2 === 0 })),
    ),
  );
}

/** Seeded standard-normal operands (signs mixed, so sums cancel) for one case. */
function operands({ m, n, k, transA, transB }: Case, dtype: DType) {
  const rng = new TorchGenerator(m * 7919 + n * 31 + k + (transA ? 3 : 0) + (transB ? 5 : 0));
  return {
    a: randn(transA ? [k, m] : [m, k], { dtype, rng }),
    b: randn(transB ? [n, k] : [k, n], { dtype, rng }),
    c: randn([m, n], { dtype, rng }),
  };
}

/** C (a copy of the case's C, accumulated into when the case says so) after `backend`'s gemm. */
function product(backend: Backend, shape: Case, inputs: ReturnType<typeof operands>): NDArray {
  const out = inputs.c.clone();
  on(backend, () => gemm(inputs.a, inputs.b, { transA: shape.transA, transB: shape.transB, out, accumulate: shape.accumulate }));
  return out;
}

/** The first index where `a` and `b` differ (NaN equal to NaN, +0 and −0 told apart), or −1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/**
 * For each element of C, Σ|op(A)ᵢₚ|·|op(B)ₚⱼ| plus |C₀ᵢⱼ| when accumulating,
 * in float64: the scale of the rounding errors of a k-term float sum.
 */
function magnitudes({ m, n, k, transA, transB, accumulate }: Case, { a, b, c }: ReturnType<typeof operands>): Float64Array {
  const A = a.data;
  const B = b.data;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = accumulate ? Math.abs(c.data[i * n + j]) : 0;
      for (let p = 0; p < k; p++) sum += Math.abs(transA ? A[p * m + i] : A[i * k + p]) * Math.abs(transB ? B[j * k + p] : B[p * n + j]);
      out[i * n + j] = sum;
    }
  }
  return out;
}

describe('the relaxed-SIMD probe', () => {
  it('is a module this engine accepts exactly where it accepts the relaxed GEMM modules (Node ≥ 22: yes; Node 20: no)', () => {
    expect(hasRelaxed).toBe(nodeMajor >= 22);
    for (const [name, text] of Object.entries({ GEMM_RELAXED_WASM_BASE64, GEMM_SHARED_RELAXED_WASM_BASE64 })) {
      expect(engine.validate(decodeBase64(text)), `${name} validates as the probe does`).toBe(hasRelaxed);
    }
    // The exactly rounded module needs only SIMD, which every supported engine has.
    expect(engine.validate(decodeBase64(GEMM_WASM_BASE64))).toBe(true);
  });

  it('is refused for its f32x4.relaxed_madd (0xfd 0x105, LEB128 0x85 0x02) alone', () => {
    const bytes = Array.from(RELAXED_SIMD_PROBE);
    // Header and type and function sections (19 bytes), the code section's header (5), three splats, the madd, end.
    expect(bytes.slice(19, 24)).toEqual([10, 19, 1, 17, 0]);
    expect(bytes.slice(36)).toEqual([0xfd, 0x85, 0x02, 0x0b]);
    // The same module with drop, drop, i8x16.popcnt in place of the madd (section and body one byte longer) is
    // plain SIMD, which every engine running this suite accepts.
    const plain = new Uint8Array([...bytes.slice(0, 19), 10, 20, 1, 18, 0, ...bytes.slice(24, 36), 0x1a, 0x1a, 0xfd, 0x62, 0x0b]);
    expect(engine.validate(plain), 'the probe with relaxed_madd replaced by drop, drop, i8x16.popcnt').toBe(true);
    const corrupted = RELAXED_SIMD_PROBE.slice();
    corrupted[37] = 0xff;
    expect(engine.validate(corrupted)).toBe(false);
  });
});

describe('createWasmBackend({ relaxedSimd })', () => {
  it('runs the exact module unless asked, and says which module runs', () => {
    expect(wasmBackend?.relaxedSimd).toBe(false);
    expect(createWasmBackend()?.relaxedSimd).toBe(false);
    expect(createWasmBackend({ relaxedSimd: false })?.relaxedSimd).toBe(false);
    const relaxed = createWasmBackend({ relaxedSimd: true });
    expect(relaxed?.relaxedSimd).toBe(hasRelaxed);
    expect(relaxed?.name).toBe('wasm');
    expect(relaxed?.fallback).toBe('js');
  });

  it('asks the engine about the relaxed probe only when relaxed SIMD is asked for', () => {
    const probes = (options: { relaxedSimd?: boolean }) => {
      const asked: number[][] = [];
      createWasmBackend({
        ...options,
        validate: (bytes) => {
          asked.push(Array.from(bytes));
          return engine.validate(bytes);
        },
      });
      return asked;
    };
    expect(probes({})).toHaveLength(1);
    const asked = probes({ relaxedSimd: true });
    expect(asked).toHaveLength(2);
    expect(asked[1]).toEqual(Array.from(RELAXED_SIMD_PROBE));
  });

  it('falls back to the exact module, bit for bit, on an engine without relaxed SIMD (simulated), in both dtypes', () => {
    const noRelaxed = (bytes: Uint8Array) => firstDifference(bytes, RELAXED_SIMD_PROBE) !== -1 && engine.validate(bytes);
    const throwing = (bytes: Uint8Array) => {
      if (firstDifference(bytes, RELAXED_SIMD_PROBE) === -1) throw new Error('no relaxed SIMD here');
      return engine.validate(bytes);
    };
    const exact = createWasmBackend({ minWork: 0 }) as WasmBackend;
    for (const validate of [noRelaxed, throwing]) {
      const fallback = createWasmBackend({ relaxedSimd: true, minWork: 0, validate }) as WasmBackend;
      expect(fallback.relaxedSimd).toBe(false);
      for (const dtype of ['float32', 'float64'] as const) {
        for (const shape of cases([[1, 1, 1], [5, 9, 300], [33, 17, 70]])) {
          const inputs = operands(shape, dtype);
          const got = product(fallback, shape, inputs).data;
          const want = product(exact, shape, inputs).data;
          expect(firstDifference(got, want), `${dtype} ${JSON.stringify(shape)}: first differing element`).toBe(-1);
        }
      }
    }
  });
});

describe.runIf(hasRelaxed)('the relaxed-SIMD GEMM (engines with relaxed SIMD)', () => {
  const relaxed = createWasmBackend({ relaxedSimd: true, minWork: 0 }) as WasmBackend;
  const exact = createWasmBackend({ minWork: 0 }) as WasmBackend;

  it('runs the relaxed module', () => {
    expect(relaxed.relaxedSimd).toBe(true);
    expect(exact.relaxedSimd).toBe(false);
  });

  // One product whose last multiply-add tells fused from unfused: C = 1·(−(1 + 2⁻¹¹)) + (1 + 2⁻¹²)², where
  // (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ rounds to 1 + 2⁻¹¹ in float32: 0 when the product is rounded first, 2⁻²⁴ when fused.
  // float64 the same with 2⁻²⁶, 2⁻²⁷ and 2⁻⁵⁴.
  for (const [dtype, e] of [
    ['float32', 12],
    ['float64', 27],
  ] as const) {
    it(`fuses the multiply-add where the hardware has FMA, and rounds it either way (${dtype})`, () => {
      const x = 1 + 2 ** -e;
      const a = array([[1, x]], { dtype });
      const b = array([[-(1 + 2 ** (1 - e))], [x]], { dtype });
      const one = (backend: Backend) => on(backend, () => gemm(a, b)).data[0];
      expect(one(exact)).toBe(0);
      const got = one(relaxed);
      expect([0, 2 ** (-2 * e)]).toContain(got);
      if (fused !== undefined) expect(got, `hardware FMA: ${fused}`).toBe(fused ? 2 ** (-2 * e) : 0);
    });
  }

  // Partial micro-tiles, k across the 256-deep panels, n across the 512-wide ones, and k = 1.
  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 8, 16],
    [13, 29, 1],
    [17, 33, 300],
    [64, 64, 64],
    [65, 520, 31],
    [37, 41, 777],
  ];
  for (const [dtype, unit] of [
    ['float32', 2 ** -24],
    ['float64', 2 ** -53],
  ] as const) {
    it(`agrees with the exact module within ${dtype} rounding: |Δ| ≤ 2(k + 2)·u·(Σ|a||b| + |C₀|) per element`, () => {
      let differing = 0;
      let worst = 0;
      for (const shape of cases(shapes)) {
        const inputs = operands(shape, dtype);
        const got = product(relaxed, shape, inputs).data;
        const want = product(exact, shape, inputs).data;
        const scale = magnitudes(shape, inputs);
        // Each of the two sums is within (k + 1)·u·scale (+ O(u²)) of the exact value (one rounding per term, one for C₀).
        const bound = 2 * (shape.k + 2) * unit;
        for (let i = 0; i < got.length; i++) {
          const delta = Math.abs(got[i] - want[i]);
          if (!(delta <= bound * scale[i])) {
            throw new Error(`${dtype} ${JSON.stringify(shape)} element ${i}: relaxed ${got[i]}, exact ${want[i]}, |Δ| ${delta} > ${bound * scale[i]}`);
          }
          if (delta !== 0) differing++;
          if (scale[i] > 0) worst = Math.max(worst, delta / (unit * scale[i]));
        }
      }
      // Where the hardware fuses, the two modules do differ (else the relaxed one would not be running).
      if (fused === true) expect(differing).toBeGreaterThan(0);
      expect(worst).toBeLessThan(Number.POSITIVE_INFINITY);
    });
  }

  for (const dtype of ['float32', 'float64'] as const) {
    it(`runs large products on the threads in the relaxed shared module, bit for bit its one-thread result (${dtype})`, async () => {
      const threaded = createWasmBackend({ relaxedSimd: true }) as WasmBackend;
      const big = cases([
        [300, 200, 100],
        [9, 130, 4000],
        [257, 263, 65],
      ]);
      for (const { m, n, k } of big) expect(m * n * k).toBeGreaterThanOrEqual(THREAD_MIN_WORK.float32);
      const inputs = big.map((shape) => operands(shape, dtype));
      await setNumThreads(1);
      const one = big.map((shape, i) => product(threaded, shape, inputs[i]).data);
      const exactOne = big.map((shape, i) => product(exact, shape, inputs[i]).data);
      for (const threads of [2, 3]) {
        await setNumThreads(threads);
        const pool = threadPool();
        expect(pool?.hasRelaxedSimd).toBe(true);
        const spy = vi.spyOn(pool as NonNullable<typeof pool>, 'gemm');
        try {
          big.forEach((shape, i) => {
            const many = product(threaded, shape, inputs[i]).data;
            expect(firstDifference(many, one[i]), `${JSON.stringify(shape)} on ${threads} threads: first differing element`).toBe(-1);
          });
          // Every product ran on the threads, asking for the relaxed build.
          expect(spy).toHaveBeenCalledTimes(big.length);
          for (const [index, call] of spy.mock.calls.entries()) {
            expect(call[1]).toBe(true);
            expect(spy.mock.results[index].value).toBe(true);
          }
        } finally {
          spy.mockRestore();
        }
        // The exact backend still runs the exact shared module on the same pool.
        big.forEach((shape, i) => {
          expect(firstDifference(product(exact, shape, inputs[i]).data, exactOne[i]), `exact ${JSON.stringify(shape)} on ${threads} threads`).toBe(-1);
        });
      }
      if (fused === true) expect(big.some((_, i) => firstDifference(one[i], exactOne[i]) !== -1)).toBe(true);
      await setNumThreads(1);
    }, 60_000);
  }
});

describe.runIf(!hasRelaxed)('the threads on an engine without relaxed SIMD', () => {
  it('have no relaxed build, and a backend that asked for one runs the exact shared module', async () => {
    const asked = createWasmBackend({ relaxedSimd: true }) as WasmBackend;
    expect(asked.relaxedSimd).toBe(false);
    const exact = createWasmBackend() as WasmBackend;
    const [shape] = cases([[300, 200, 100]]);
    const inputs = operands(shape, 'float32');
    await setNumThreads(2);
    expect(threadPool()?.hasRelaxedSimd).toBe(false);
    expect(firstDifference(product(asked, shape, inputs).data, product(exact, shape, inputs).data)).toBe(-1);
    await setNumThreads(1);
  }, 60_000);
});
