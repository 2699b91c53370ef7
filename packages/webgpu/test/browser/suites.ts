/**
 * The suites the test page runs in Chromium, each under a describe of its
 * name: to run another module's cases in the browser too, add its suite
 * here. A suite registers its cases with `api` (vitest's describe / it /
 * beforeAll / afterAll) and runs them on `backend`, the page's `webgpu`
 * backend (created from `navigator.gpu`); it makes that the current backend
 * itself, in a `beforeAll`, and restores the previous one in an `afterAll`.
 */
import { add, array, } from '@backprop/ndarray';
import { assertBitwiseEqual, conformanceSuite } from '@backprop/ndarray/test';
import { GPU_CONFORMANCE, type WebGpuBackend } from '../../src/index';
import { trainingSuite } from '../training/cases';
import { onBackend } from '../on-backend';
import type { RunnerApi } from './runner';

export type BrowserSuite = (backend: WebGpuBackend, api: RunnerApi) => void;

/** An op through the page's backend and back: proves the page's plumbing before the suites that check the kernels. */
const smoke: BrowserSuite = (backend, api) => {
  onBackend(backend, api);
  api.it('adds two float32 arrays in GPU buffers and reads the sum back', async () => {
    const a = array(Float32Array.from([1, 2.5, -3, 1e30]), { shape: [2, 2] });
    const b = array(Float32Array.from([0.5, -2.5, 3, 1e30]), { shape: [2, 2] });
    const sum = add(a, b);
    if (ArrayBuffer.isView(sum.storage)) throw new Error('add left its result in a host typed array, not in a GPU buffer');
    assertBitwiseEqual(await sum.toHost(), Float32Array.from([1.5, 0, 0, 2e30]), 'a + b');
  });
};

export const SUITES: Readonly<Record<string, BrowserSuite>> = {
  smoke,
  conformance: (backend, api) => conformanceSuite(backend, api, GPU_CONFORMANCE),
  training: (backend, api) => trainingSuite(backend, api),
};
