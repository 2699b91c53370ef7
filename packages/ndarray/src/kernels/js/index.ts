/**
 * Every TypeScript kernel in one table. Ops import the module of their own
 * kernels (so a bundle keeps only those); this table lists them all, for the
 * conformance suite and for a backend that wants to wrap the whole set.
 */
import type { Kernels } from '../types';
import { convKernels } from './conv';
import { elementwiseKernels } from './elementwise';
import { gemmKernels } from './gemm';
import { indexingKernels } from './indexing';
import { nllKernels } from './nll';
import { normalizeKernels } from './normalize';
import { optimizerKernels } from './optimizers';
import { poolKernels } from './pool';
import { randomKernels } from './random';
import { reduceKernels } from './reduce';

/**
 * Every kernel's TypeScript implementation, by name. Built by a call marked
 * pure (not an object spread, which a bundler must keep) so that a bundle
 * that never names this table drops it, and with it the kernels no op uses.
 */
export const typescriptKernels: Kernels = /* @__PURE__ */ Object.assign(
  {},
  elementwiseKernels,
  indexingKernels,
  reduceKernels,
  normalizeKernels,
  nllKernels,
  gemmKernels,
  convKernels,
  poolKernels,
  randomKernels,
  optimizerKernels,
);

export { jsBackend } from './backend';
