import type { Backend } from '../registry';

/**
 * The TypeScript backend. Its own `kernels` record starts empty: every op
 * carries its TypeScript kernel and runs it on this backend (and on any host
 * backend that lacks that kernel), so a bundle keeps only the kernels of the
 * ops it uses. `registerKernel('js', name, fn)` replaces one.
 */
export const jsBackend: Backend = { name: 'js', kernels: {} };
