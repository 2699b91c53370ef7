import { afterEach, describe, expect, it } from 'vitest';
import {
  type Backend,
  type NDArray,
  createWasmBackend,
  gemm,
  getBackend,
  jsBackend,
  matmul,
  setBackend,
  wasmBackend,
} from '../src/index';
import type { TypedArray } from '../src/dtype';
import { randomArray, testRandom } from './helpers';

// One suite, every backend: each must compute the same GEMM contract. The wasm
// backend is run twice: with its size cutoff at 0 so even 1×1 products take
// the WebAssembly path, and as shipped (small products fall back to TypeScript).
function required(backend: Backend | undefined, what: string): Backend {
  if (backend === undefined) throw new Error(`Node 20 has WebAssembly SIMD, yet ${what} is undefined`);
  return backend;
}
const shipped = required(wasmBackend, 'wasmBackend');
const wasmEverywhere = required(createWasmBackend({ minWork: 0, minElements: 0 }), 'createWasmBackend({ minWork: 0, minElements: 0 })');
/** The engine's own validator (the package compiles against lib ES2022, which does not declare WebAssembly). */
const engine = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

const backends: [string, Backend][] = [
  ['js', jsBackend],
  ['wasm (all sizes)', wasmEverywhere],
  ['wasm (as shipped)', shipped],
];

type DType = 'float32' | 'float64';

/**
 * op(A)·op(B) in float64 by the definition, over operands stored from an offset,
 * plus the sum of |a||b| per entry: the scale that bounds any summation order's
 * rounding error.
 */
function reference(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: TypedArray,
  aOffset: number,
  b: TypedArray,
  bOffset: number,
): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let p = 0; p < k; p++) {
        const x = a[aOffset + (transA ? p * m + i : i * k + p)];
        const y = b[bOffset + (transB ? j * k + p : p * n + j)];
        s += x * y;
        t += Math.abs(x * y);
      }
      value[i * n + j] = s;
      scale[i * n + j] = t;
    }
  return { value, scale };
}

function filled(length: number, dtype: DType, next: () => number): TypedArray {
  return randomArray([length], dtype, next).data;
}

/** Relative to Σ|a||b| (+|C| when accumulating): float32 sums in float32 on some backends, so allow k·2⁻²³-ish. */
function tolerance(dtype: DType, k: number): number {
  return dtype === 'float64' ? (k + 2) * 2 ** -52 : (k + 2) * 2 ** -23;
}

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  accumulate: boolean;
  offsets: boolean;
}

function runCase(backend: Backend, dtype: DType, c: Case, next: () => number): void {
  const { transA, transB, m, n, k, accumulate, offsets } = c;
  // Offsets put each operand mid-buffer, as batched matmul passes them, with guard values around it.
  const aOffset = offsets ? 5 : 0;
  const bOffset = offsets ? 3 : 0;
  const cOffset = offsets ? 7 : 0;
  const a = filled(aOffset + m * k + 2, dtype, next);
  const b = filled(bOffset + k * n + 2, dtype, next);
  const out = filled(cOffset + m * n + 4, dtype, next);
  const before = out.slice();
  backend.gemm(transA, transB, m, n, k, a, aOffset, b, bOffset, out, cOffset, accumulate);
  const { value, scale } = reference(transA, transB, m, n, k, a, aOffset, b, bOffset);
  const tol = tolerance(dtype, k);
  const label = `${JSON.stringify(c)} ${dtype}`;
  let worst = 0;
  let where = -1;
  for (let i = 0; i < m * n; i++) {
    const prior = accumulate ? before[cOffset + i] : 0;
    const expected = value[i] + prior;
    // Σ|a||b| + |C| bounds the rounding; the floor keeps exact zeros meaningful.
    const bound = Math.max(scale[i] + Math.abs(prior), 2 ** -60);
    const err = Math.abs(out[cOffset + i] - expected) / bound;
    if (!(err <= worst)) {
      worst = err;
      where = i;
    }
  }
  expect(worst, `${label}: worst relative error at C[${where}]`).toBeLessThanOrEqual(tol);
  // Nothing outside C is touched.
  for (let i = 0; i < cOffset; i++) expect(out[i], `${label}: guard before C`).toBe(before[i]);
  for (let i = cOffset + m * n; i < out.length; i++) expect(out[i], `${label}: guard after C`).toBe(before[i]);
}

const flags = [false, true];

describe.each(backends)('gemm kernel: %s backend', (_name, backend) => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`every transpose, accumulate and offset combination on edge sizes (${dtype})`, () => {
      const next = testRandom(7);
      const sizes = [1, 3, 4, 5, 7, 8, 9];
      for (const m of sizes)
        for (const n of sizes) {
          const k = sizes[(m * 3 + n) % sizes.length];
          for (const transA of flags)
            for (const transB of flags)
              for (const accumulate of flags)
                for (const offsets of flags) runCase(backend, dtype, { transA, transB, m, n, k, accumulate, offsets }, next);
        }
    });

    it(`sizes around the micro-tile and block edges (${dtype})`, () => {
      const next = testRandom(11);
      const sizes = [1, 9, 63, 64, 65, 129];
      const depths = [1, 8, 255, 256, 257, 600];
      let t = 0;
      for (const m of sizes)
        for (const n of sizes) {
          const k = depths[t++ % depths.length];
          const transA = t % 2 === 0;
          const transB = t % 3 === 0;
          const accumulate = t % 4 === 1;
          runCase(backend, dtype, { transA, transB, m, n, k, accumulate, offsets: t % 5 === 0 }, next);
        }
    });

    it(`depth crossing the packing block, every transpose (${dtype})`, () => {
      const next = testRandom(13);
      for (const transA of flags)
        for (const transB of flags)
          for (const accumulate of flags)
            runCase(backend, dtype, { transA, transB, m: 13, n: 21, k: 513, accumulate, offsets: true }, next);
    });

    it(`columns crossing the 512-column panel twice (${dtype})`, () => {
      const next = testRandom(17);
      runCase(backend, dtype, { transA: false, transB: true, m: 5, n: 1030, k: 3, accumulate: false, offsets: true }, next);
      runCase(backend, dtype, { transA: true, transB: false, m: 6, n: 1029, k: 2, accumulate: true, offsets: false }, next);
    });

    it(`k = 0 writes zeros (or leaves C when accumulating), m or n = 0 touches nothing (${dtype})`, () => {
      const next = testRandom(19);
      for (const accumulate of flags) {
        runCase(backend, dtype, { transA: false, transB: false, m: 3, n: 5, k: 0, accumulate, offsets: true }, next);
        runCase(backend, dtype, { transA: true, transB: true, m: 0, n: 5, k: 4, accumulate, offsets: true }, next);
        runCase(backend, dtype, { transA: false, transB: true, m: 3, n: 0, k: 4, accumulate, offsets: true }, next);
      }
    });

    it(`is exact on small integers, and repeats itself across calls (${dtype})`, () => {
      // Integer products below 2^24 are exact in any order: every backend must agree bit for bit.
      const m = 37;
      const n = 41;
      const k = 300;
      const make = (len: number, seed: number) => {
        const next = testRandom(seed);
        const data = dtype === 'float64' ? new Float64Array(len) : new Float32Array(len);
        for (let i = 0; i < len; i++) data[i] = Math.floor(next() * 9) - 4;
        return data;
      };
      const a = make(m * k, 1);
      const b = make(k * n, 2);
      const first = dtype === 'float64' ? new Float64Array(m * n) : new Float32Array(m * n);
      const second = first.slice();
      backend.gemm(false, false, m, n, k, a, 0, b, 0, first, 0, false);
      backend.gemm(false, false, m, n, k, a, 0, b, 0, second, 0, false);
      const { value } = reference(false, false, m, n, k, a, 0, b, 0);
      expect(Array.from(first)).toEqual(Array.from(value));
      expect(Array.from(second)).toEqual(Array.from(first));
    });

    it(`propagates NaN and Infinity from the operands (${dtype})`, () => {
      const a = dtype === 'float64' ? new Float64Array(4 * 20) : new Float32Array(4 * 20);
      const b = a.slice();
      a.fill(1);
      b.fill(1);
      a[0] = Number.NaN; // row 0
      a[20 + 3] = Number.POSITIVE_INFINITY; // row 1, depth 3
      const out = a.slice(0, 16).fill(0);
      backend.gemm(false, false, 4, 4, 20, a, 0, b, 0, out, 0, false);
      for (let j = 0; j < 4; j++) {
        expect(out[j]).toBeNaN();
        expect(out[4 + j]).toBe(Number.POSITIVE_INFINITY);
        expect(out[8 + j]).toBe(20);
      }
    });
  }

  it('delegates every kernel but gemm and the ReLU passes to the TypeScript backend', () => {
    for (const key of ['binary', 'clip', 'reduce', 'argReduce'] as const) expect(backend[key]).toBe(jsBackend[key]);
    // unary runs only relu itself, in WebAssembly; every other op is the TypeScript one.
    const a = new Float32Array(4096).map((_, i) => Math.sin(i) * 3);
    for (const op of ['neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'sigmoid', 'square', 'sign'] as const) {
      const viaWasm = new Float32Array(a.length);
      const viaJs = new Float32Array(a.length);
      backend.unary(op, a, viaWasm);
      jsBackend.unary(op, a, viaJs);
      expect(Buffer.from(viaWasm.buffer).equals(Buffer.from(viaJs.buffer)), op).toBe(true);
    }
  });
});

describe('wasm backend selection', () => {
  let previous: Backend | undefined;
  afterEach(() => {
    if (previous) setBackend(previous);
    previous = undefined;
  });

  it('is undefined where WebAssembly SIMD is missing, so callers keep the TypeScript kernels', () => {
    const probed: Uint8Array[] = [];
    const backend = createWasmBackend({
      validate: (bytes) => {
        probed.push(bytes);
        return false;
      },
    });
    expect(backend).toBeUndefined();
    // It asked about a SIMD module: the v128 result type (0x7b) is in the probe.
    expect(probed).toHaveLength(1);
    expect(Array.from(probed[0])).toContain(0x7b);
    // A validator that throws counts as unsupported too.
    expect(
      createWasmBackend({
        validate: () => {
          throw new Error('no WebAssembly here');
        },
      }),
    ).toBeUndefined();
  });

  it('the probe is a real SIMD module this engine accepts', () => {
    let accepted: boolean | undefined;
    createWasmBackend({
      validate: (bytes) => {
        accepted = engine.validate(bytes);
        return accepted;
      },
    });
    expect(accepted).toBe(true);
    // And the same engine refuses it with one SIMD opcode byte corrupted, so validate is really consulted.
    let corrupted: boolean | undefined;
    createWasmBackend({
      validate: (bytes) => {
        const copy = bytes.slice();
        copy[copy.length - 2] = 0xff;
        corrupted = engine.validate(copy);
        return corrupted;
      },
    });
    expect(corrupted).toBe(false);
  });

  it('is the default backend on an engine with WebAssembly SIMD', () => {
    expect(getBackend()).toBe(shipped);
    expect(getBackend().name).toBe('wasm');
  });

  it('setBackend(wasmBackend) routes matmul and gemm through it, within float32 rounding of js', () => {
    const next = testRandom(23);
    const a = randomArray([2, 33, 70], 'float32', next);
    const b = randomArray([70, 45], 'float32', next);
    const c = randomArray([33, 70], 'float32', next);
    previous = setBackend(jsBackend);
    const expected = matmul(a, b);
    const expectedGemm = gemm(b, c, { transA: true, transB: true });

    let calls = 0;
    const counting: Backend = {
      ...wasmEverywhere,
      name: 'counting wasm',
      gemm: (...args) => {
        calls++;
        wasmEverywhere.gemm(...args);
      },
    };
    setBackend(counting);
    expect(getBackend()).toBe(counting);
    const got = matmul(a, b);
    const gotGemm = gemm(b, c, { transA: true, transB: true });
    expect(calls).toBe(3); // two batch entries, one gemm

    const close = (x: NDArray, y: NDArray, k: number) => {
      expect(x.shape).toEqual(y.shape);
      for (let i = 0; i < x.size; i++) expect(Math.abs(x.data[i] - y.data[i])).toBeLessThan(k * 4 * 2 ** -22);
    };
    close(got, expected, 70);
    close(gotGemm, expectedGemm, 70);

    setBackend(shipped);
    expect(getBackend().name).toBe('wasm');
    close(matmul(a, b), expected, 70);
  });
});

describe.each(backends)('ReLU kernels: %s backend', (_name, backend) => {
  // Every special value, then random ones; lengths around the SIMD width and the copy threshold.
  const specials = [0, -0, 1, -1, 2.5e-45, -2.5e-45, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 3e38, -3e38];
  const lengths = [0, 1, 2, 3, 4, 5, 7, 8, 9, 2047, 2048, 2049, 5001];
  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

  for (const dtype of ['float32', 'float64'] as const) {
    const make = (n: number, seed: number) => {
      const next = testRandom(seed);
      const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = i < specials.length * 2 ? specials[(i * 7 + seed) % specials.length] : next() * 4 - 2;
      return a;
    };

    it(`relu keeps positives and NaN, and gives +0 for the rest (${dtype})`, () => {
      for (const n of lengths) {
        const x = make(n, 1);
        const out = make(n, 2);
        backend.unary('relu', x, out);
        for (let i = 0; i < n; i++) {
          const expected = x[i] > 0 || Number.isNaN(x[i]) ? x[i] : 0;
          expect(same(out[i], expected), `n=${n} i=${i}: relu(${x[i]}) gave ${out[i]}`).toBe(true);
        }
        backend.unary('relu', x, x); // in place
        for (let i = 0; i < n; i++) expect(same(x[i], out[i])).toBe(true);
      }
    });

    it(`reluBackward passes the gradient where the output is positive, +0 elsewhere even for NaN (${dtype})`, () => {
      for (const n of lengths) {
        const y = make(n, 3);
        backend.unary('relu', y, y);
        const g = make(n, 4);
        const out = make(n, 5);
        backend.reluBackward(g, y, out);
        for (let i = 0; i < n; i++) {
          const expected = y[i] > 0 ? g[i] : 0;
          expect(same(out[i], expected), `n=${n} i=${i}: y=${y[i]} g=${g[i]} gave ${out[i]}`).toBe(true);
        }
        backend.reluBackward(g, y, g); // in place
        for (let i = 0; i < n; i++) expect(same(g[i], out[i])).toBe(true);
      }
    });
  }
});
