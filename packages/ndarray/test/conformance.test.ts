/**
 * One suite, every kernel, every backend (src/testing/conformance.ts, which a
 * backend in its own package runs the same way from `@backprop/ndarray/test`).
 * wasm runs twice: with its size cutoffs at 0 (so even 1×1 products take the
 * WebAssembly path) and as shipped; "boxed" keeps its arrays off the host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, createWasmBackend, jsBackend, wasmBackend } from '../src/index';
import { typescriptKernels } from '../src/kernels/js/index';
import type { KernelName } from '../src/kernels/types';
import { createBoxedBackend } from '../src/testing/boxed-backend';
import { conformanceKernels, conformanceSuite } from '../src/testing/conformance';

function required(backend: Backend | undefined, what: string): Backend {
  if (backend === undefined) throw new Error(`Node has WebAssembly SIMD, yet ${what} is undefined`);
  return backend;
}

const BACKENDS: [string, Backend][] = [
  ['js', jsBackend],
  ['wasm (all sizes)', { ...required(createWasmBackend({ minWork: 0, minElements: 0 }), 'createWasmBackend()'), name: 'wasm-all' }],
  ['wasm (as shipped)', required(wasmBackend, 'wasmBackend')],
  ['boxed (storage off the host)', createBoxedBackend()],
];

for (const [label, backend] of BACKENDS) {
  describe(`every kernel on the ${label} backend`, () => conformanceSuite(backend, { describe, it, beforeAll, afterAll }));
}

describe('the conformance suite itself', () => {
  it('has cases for every kernel the TypeScript backend implements', () => {
    const covered = new Set(conformanceKernels());
    const missing = (Object.keys(typescriptKernels) as KernelName[]).filter((name) => !covered.has(name));
    expect(missing, 'kernels without a conformance case').toEqual([]);
  });
});
