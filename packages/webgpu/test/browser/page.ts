/**
 * The test page's script (bundled by ./chromium.ts): creates the `webgpu`
 * backend on `navigator.gpu`, registers every suite of ./suites with the
 * in-page runner, and hands the runner to the vitest side under
 * {@link PAGE_GLOBAL}. After each case it waits for the GPU to finish, so a
 * device error fails the case that caused it.
 */
import { type WebGpuBackend, createWebGpuBackend } from '../../src/index';
import { PAGE_GLOBAL, type PageReady, type PageTests } from './protocol';
import { createRunner } from './runner';
import { SUITES } from './suites';

let backend: WebGpuBackend | undefined;
const runner = createRunner({ settle: () => backend?.synchronize() ?? Promise.resolve() });

async function start(): Promise<PageReady> {
  const gpu = await createWebGpuBackend();
  backend = gpu;
  for (const [name, suite] of Object.entries(SUITES)) runner.api.describe(name, () => suite(gpu, runner.api));
  const { vendor, architecture, device, description } = gpu.device.adapterInfo;
  return { adapter: { vendor, architecture, device, description }, tree: runner.tree };
}

const ready = start();
ready.catch(() => undefined); // the vitest side reports it, through `ready`, not as an unhandled rejection
const tests: PageTests = { ready, run: runner.run, finish: runner.finish };
(globalThis as Record<string, unknown>)[PAGE_GLOBAL] = tests;
