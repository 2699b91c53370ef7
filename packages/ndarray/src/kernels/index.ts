import { jsBackend } from './js';
import { wasmBackend } from './wasm/index';
import type { Backend } from './types';

export type { Backend, BinaryOp, ReduceOp, UnaryOp } from './types';

// WebAssembly SIMD where the engine has it (gemm 5–9× faster, every other op
// the TypeScript kernel's); the TypeScript kernels elsewhere.
let current: Backend = wasmBackend ?? jsBackend;

/**
 * The backend every operation runs on: `wasmBackend` (gemm in WebAssembly
 * SIMD) where the engine supports it, else `jsBackend`, unless replaced with
 * `setBackend`.
 */
export function getBackend(): Backend {
  return current;
}

/** Installs a backend for all later operations; returns the previous one. */
export function setBackend(backend: Backend): Backend {
  const previous = current;
  current = backend;
  return previous;
}

export { jsBackend };
export { createWasmBackend, wasmBackend, type WasmBackendOptions } from './wasm/index';
export { getNumThreads, setNumThreads } from './wasm/threads';
