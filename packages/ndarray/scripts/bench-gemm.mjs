// GFLOP/s of gemm (C = A·B, n×n) on the TypeScript and WebAssembly SIMD
// backends, float32 and float64, and on WebAssembly with two threads
// (setNumThreads(2)), against the built package (run `pnpm build` first):
// median of 5 timed runs after a warm-up.
//   node scripts/bench-gemm.mjs [sizes...]     e.g. node scripts/bench-gemm.mjs 64 256
import { jsBackend, setNumThreads, wasmBackend } from '../dist/index.js';

const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(64, 128, 256, 512, 1024);
if (!wasmBackend) console.log('WebAssembly SIMD is missing here: wasm column skipped');

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function gflops(backend, dtype, n) {
  const Array = dtype === 'float64' ? Float64Array : Float32Array;
  const a = Array.from({ length: n * n }, () => Math.random() * 2 - 1);
  const b = Array.from({ length: n * n }, () => Math.random() * 2 - 1);
  const c = new Array(n * n);
  const flop = 2 * n * n * n;
  // Repeat small products so each sample lasts long enough to time.
  const reps = Math.max(1, Math.round(2e8 / flop));
  const run = () => {
    for (let r = 0; r < reps; r++) backend.gemm(false, false, n, n, n, a, 0, b, 0, c, 0, false);
  };
  run();
  const samples = [];
  for (let s = 0; s < 5; s++) {
    const t0 = performance.now();
    run();
    samples.push((reps * flop) / ((performance.now() - t0) * 1e6));
  }
  return median(samples);
}

const rows = [];
for (const dtype of ['float32', 'float64']) {
  for (const n of sizes) {
    const js = gflops(jsBackend, dtype, n);
    const wasm = wasmBackend ? gflops(wasmBackend, dtype, n) : Number.NaN;
    rows.push({ dtype, n, 'js GFLOP/s': js.toFixed(2), 'wasm GFLOP/s': wasm.toFixed(2), speedup: (wasm / js).toFixed(1) });
  }
}
if (wasmBackend) {
  await setNumThreads(2);
  for (const row of rows) {
    const two = gflops(wasmBackend, row.dtype, row.n);
    row['wasm 2 threads'] = two.toFixed(2);
    row['2t ÷ 1t'] = (two / Number(row['wasm GFLOP/s'])).toFixed(2);
  }
  await setNumThreads(1);
}
console.table(rows);
