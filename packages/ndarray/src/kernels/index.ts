import { jsBackend } from './js';
import type { Backend } from './types';

export type { Backend, BinaryOp, ReduceOp, UnaryOp } from './types';

let current: Backend = jsBackend;

/** The backend every operation runs on (the TypeScript kernels unless replaced). */
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
