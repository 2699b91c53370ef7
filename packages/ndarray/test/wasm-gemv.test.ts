/**
 * One row times a matrix (assembly/gemv.ts), which the WebAssembly backend
 * runs for float32 products of a single row: bit for bit that row of a
 * batch's product through the packed GEMM, for both layouts of B, depths
 * across the GEMM's 256-deep blocks, every column remainder, accumulation,
 * bias and activation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Backend, NDArray, createWasmBackend, gemm, setBackend } from '../src/index';
import { testRandom } from '../src/testing/index';

const wasm = createWasmBackend({ minWork: 0, minElements: 0 });
if (wasm === undefined) throw new Error('this engine has no WebAssembly SIMD');

let previous: Backend | undefined;
afterEach(() => {
  if (previous) setBackend(previous);
});

function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const next = testRandom(seed);
  for (let i = 0; i < n; i++) {
    const u = next();
    out[i] = (u - 0.5) * 2 ** (((u * 2 ** 32) >>> 9) % 9 - 4);
  }
  return out;
}

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

describe('a float32 row times a matrix equals that row of a batch product bit for bit', () => {
  it.each([
    [1, 1],
    [3, 7],
    [5, 255],
    [8, 256],
    [9, 257],
    [10, 784],
    [128, 784],
    [130, 513],
  ])('n = %i, k = %i, B as k×n and as n×k, plain, accumulated, with bias and ReLU', (n, k) => {
    previous ??= setBackend(wasm as Backend);
    setBackend(wasm as Backend);
    const rows = 3;
    const batch = new NDArray(random(rows * k, n + k), [rows, k]);
    const row = new NDArray(batch.data.slice(k, 2 * k), [1, k]); // the batch's second row
    for (const transB of [false, true]) {
      const b = new NDArray(random(k * n, 7 * n + k), transB ? [n, k] : [k, n]);
      const bias = new NDArray(random(n, 3), [n]);
      const start = random(rows * n, 11);
      for (const options of [{}, { bias, activation: 'relu' as const }, { beta: 1 }]) {
        const batchOut = new NDArray(start.slice(), [rows, n]);
        const rowOut = new NDArray(start.slice(n, 2 * n), [1, n]);
        gemm(batch, b, { transB, ...options, out: batchOut });
        gemm(row, b, { transB, ...options, out: rowOut });
        const where = `transB ${transB} ${JSON.stringify(Object.keys(options))}`;
        expect(bits(rowOut.data as Float32Array), where).toEqual(bits((batchOut.data as Float32Array).subarray(n, 2 * n)));
      }
    }
  });
});
