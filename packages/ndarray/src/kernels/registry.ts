/**
 * Backends and their kernels, by name. An op validates its arguments,
 * allocates its output on the active backend and asks for the kernel of its
 * name: the active backend's own if it registered one, else (for a backend
 * whose arrays live on the host) the TypeScript kernel the op carries, so a
 * bundle holds only the kernels of the ops it uses.
 */
import { type DType, allocate } from '../dtype';
import type { Storage } from '../storage';
import { jsBackend } from './js/backend';
import type { KernelName, Kernels } from './types';
import { wasmBackend } from './wasm/index';

/**
 * A set of kernels and where its arrays live. `kernels` holds what this
 * backend implements itself; `registerKernel` adds to it.
 *
 * A backend without `allocate` keeps its arrays in host typed arrays (the
 * TypeScript and WebAssembly backends): any kernel it lacks runs the
 * TypeScript one, through `fallback` first when it names another backend. A
 * backend with `allocate` keeps its arrays in its own storage (a GPU): every
 * kernel an op needs must be its own, and a missing one is an error naming it.
 */
export interface Backend {
  readonly name: string;
  readonly kernels: Partial<Kernels>;
  /** The backend whose kernels run where this one has none (host backends only). */
  readonly fallback?: string;
  /** Storage for `size` zero-filled elements of `dtype`, for backends that keep arrays off the host. */
  allocate?(dtype: DType, size: number): Storage;
  /** The dtypes its arrays may have, where not all three (a GPU has no float64). */
  readonly dtypes?: readonly DType[];
  /**
   * For a backend that runs WebAssembly modules: what an op's WebAssembly
   * kernel is built from, on the op's first call (see {@link kernel}), so a
   * bundle holds a module only where it holds the op.
   */
  readonly wasm?: WasmHost;
}

/** What a WebAssembly kernel is built from: the engine's modules, and the size below which TypeScript runs. */
export interface WasmHost {
  /** The exports of a module inlined as base64, compiled on the first call; null where the engine refuses it. */
  instance<T>(base64: string): T | null;
  /** Passes over fewer values than this stay in the op's TypeScript kernel. */
  readonly minElements: number;
}

/** An op's WebAssembly kernel, built from the backend's {@link WasmHost}; it falls back to the TypeScript kernel itself. */
export type WasmKernel<N extends KernelName> = (host: WasmHost) => Kernels[N];

/** A kernel the active backend cannot run. */
export class KernelError extends Error {
  override name = 'KernelError';
}

const backends = new Map<string, Backend>();
let active: Backend | undefined;

/** Throws unless `backend` is a backend record: a non-empty name and a kernels object. */
function checkBackend(op: string, backend: unknown): asserts backend is Backend {
  const record = backend as Backend | null;
  if (record === null || typeof record !== 'object' || typeof record.name !== 'string' || record.name === '') {
    throw new KernelError(`${op}: expected a backend { name, kernels } or a backend's name, got ${String(backend)}`);
  }
  if (typeof record.kernels !== 'object' || record.kernels === null) {
    throw new KernelError(`${op}: backend '${record.name}' has no kernels record`);
  }
}

/** Makes `backend` known by its name (replacing one of that name), so `setBackend(name)` finds it. */
export function registerBackend(backend: Backend): Backend {
  checkBackend('registerBackend', backend);
  backends.set(backend.name, backend);
  return backend;
}

/** The backend of that name, or undefined. */
export function findBackend(name: string): Backend | undefined {
  getBackend();
  return backends.get(name);
}

/** The names of the registered backends. */
export function listBackends(): string[] {
  getBackend();
  return [...backends.keys()];
}

/**
 * Adds (or replaces) one kernel of a registered backend, as tfjs's
 * `registerKernel`: `registerKernel('webgpu', 'add', addOnTheGpu)`.
 */
export function registerKernel<N extends KernelName>(backendName: string, name: N, kernel: Kernels[N]): void {
  const backend = findBackend(backendName);
  if (backend === undefined) {
    throw new KernelError(
      `registerKernel: no backend named '${backendName}' (registered: ${listBackends().join(', ') || 'none'}); call registerBackend first`,
    );
  }
  if (typeof kernel !== 'function') {
    throw new KernelError(`registerKernel: kernel '${name}' of backend '${backendName}' must be a function`);
  }
  (backend.kernels as Record<string, unknown>)[name] = kernel;
}

/**
 * The backend every op runs on: WebAssembly SIMD where the engine has it
 * (`wasmBackend`), else the TypeScript one (`jsBackend`), until `setBackend`.
 */
export function getBackend(): Backend {
  if (active === undefined) {
    if (!backends.has(jsBackend.name)) backends.set(jsBackend.name, jsBackend);
    if (wasmBackend !== undefined && !backends.has(wasmBackend.name)) backends.set(wasmBackend.name, wasmBackend);
    active = wasmBackend ?? jsBackend;
  }
  return active;
}

/**
 * Makes a backend (or the registered backend of that name) the one every
 * later op runs on; returns the previous one.
 */
export function setBackend(backend: Backend | string): Backend {
  const next = typeof backend === 'string' ? findBackend(backend) : backend;
  if (next === undefined) {
    throw new KernelError(`setBackend: no backend named '${backend}' (registered: ${listBackends().join(', ') || 'none'})`);
  }
  checkBackend('setBackend', next);
  const previous = getBackend();
  // A backend given by value is registered too (replacing one of its name), so findBackend and fallbacks see the active one.
  backends.set(next.name, next);
  active = next;
  return previous;
}

/**
 * The kernel `name` of `backend` itself: registered, or built from its
 * WebAssembly host by the op's `wasm` factory on the first call and kept.
 */
function ownKernel<N extends KernelName>(backend: Backend, name: N, wasm: WasmKernel<N> | undefined): Kernels[N] | undefined {
  const own = backend.kernels[name];
  if (own !== undefined || wasm === undefined || backend.wasm === undefined) return own as Kernels[N] | undefined;
  const built = wasm(backend.wasm);
  (backend.kernels as Record<string, unknown>)[name] = built;
  return built;
}

/**
 * The kernel `name` of the active backend: its own (or, on a backend with
 * WebAssembly modules, the op's `wasm` kernel), else the first of its chain
 * of fallbacks that has one, else `typescript` (the op's TypeScript kernel)
 * for a backend on the host. Ops carry their TypeScript and WebAssembly
 * kernels, so a bundle holds only the kernels of the ops it uses.
 */
export function kernel<N extends KernelName>(name: N, typescript: Kernels[N], wasm?: WasmKernel<N>): Kernels[N] {
  const backend = active ?? getBackend();
  const own = ownKernel(backend, name, wasm);
  if (own !== undefined) return own;
  if (backend.allocate !== undefined) {
    throw new KernelError(`backend '${backend.name}' has no kernel '${name}'; register one with registerKernel('${backend.name}', '${name}', ...)`);
  }
  // Down the chain of fallbacks (wasm → js); a cycle ends after as many steps as there are backends.
  let next = backend.fallback;
  for (let steps = backends.size; next !== undefined && steps > 0; steps--) {
    const fallback = backends.get(next);
    const found = fallback === undefined ? undefined : ownKernel(fallback, name, wasm);
    if (found !== undefined) return found;
    next = fallback?.fallback;
  }
  return typescript;
}

/**
 * The dtype to accumulate `dtype` values in where an op sums in double for
 * accuracy: float64, or `dtype` itself on a backend without float64.
 */
export function accumulatorDType(dtype: DType): DType {
  const backend = active ?? getBackend();
  return backend.dtypes === undefined || backend.dtypes.includes('float64') ? 'float64' : dtype;
}

/**
 * `body` run with the host backend (WebAssembly, or TypeScript) active when
 * every array of `arrays` lives on the host while a backend with memory of
 * its own (a GPU) is active; as it is otherwise. Ops that move data (a
 * gather, a concatenation) run where their data is, as `clone()` does: a
 * data loader cuts its batches on the host, and `toBackend` moves them.
 */
export function whereTheyLive<T>(arrays: readonly unknown[], body: () => T): T {
  const backend = active ?? getBackend();
  const onHost = (a: unknown) => typeof a === 'object' && a !== null && ArrayBuffer.isView((a as { storage?: unknown }).storage);
  if (backend.allocate === undefined || !arrays.every(onHost)) return body();
  active = wasmBackend ?? jsBackend;
  try {
    return body();
  } finally {
    active = backend;
  }
}

/** Storage for a new array on the active backend: zero-filled. */
export function allocateStorage(dtype: DType, size: number): Storage {
  const backend = active ?? getBackend();
  return backend.allocate === undefined ? allocate(dtype, size) : backend.allocate(dtype, size);
}
