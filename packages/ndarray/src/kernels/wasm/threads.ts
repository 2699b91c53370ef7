/**
 * More than one thread for large products: `setNumThreads(2)` starts a worker
 * (worker_threads in Node, a Web Worker in browsers) that shares the
 * WebAssembly memory with this thread; each large gemm is then split into
 * blocks of C's rows or columns, one per thread, and this thread blocks on an
 * atomic until the others are done, so `matmul` stays synchronous.
 *
 * Every element of C is computed by the same operations in the same order
 * whichever thread computes it, so results are bit for bit those of one
 * thread in the same module. Each thread holds both builds of the GEMM, the
 * exactly rounded one and, where the engine has relaxed SIMD, the relaxed
 * one (on the same scratch: a thread runs one product at a time); each
 * product runs the build of the backend that asked for it. Small products
 * (see {@link THREAD_MIN_WORK}) stay on this thread: waking a worker costs
 * tens of microseconds.
 *
 * A worker that stops (it exits, throws outside a product, or is terminated)
 * never makes a product hang: a worker claims its block before running it, and
 * this thread, once done with its own block, runs every block still unclaimed
 * itself; a worker that stops after claiming says so where this thread waits.
 * The first product after a worker is known to have stopped fails, naming it,
 * and large products run on one thread from then on, until `setNumThreads`
 * starts the threads again.
 *
 * Where it works: Node ≥ 20, Bun and Deno (worker_threads), and browsers in a Web Worker of
 * a cross-origin-isolated page (SharedArrayBuffer needs COOP/COEP headers,
 * and a page's main thread may not block on an atomic).
 *
 * @internal The public API is `setNumThreads` / `getNumThreads`.
 */
import type { HostGemm } from '../js/gemm';
import { GEMM_SHARED_RELAXED_WASM_BASE64, GEMM_SHARED_WASM_BASE64 } from './gemm-bytes';
import { type WasmMemory, decodeBase64, gemmOperands, reserve, runStaged } from './memory';

/**
 * Products of at least this many multiply-adds (m·n·k) are split across
 * threads: float32 from 2²² on, float64 (half as fast per multiply-add) from
 * 2²¹. Measured with `pnpm bench:gemm` on Node 20 (x86-64, 2 cores): a 128³
 * product (2²¹) ran 0.95× as fast on two threads in float32 (waking the
 * worker, and copying the operands, which stays serial, eat the gain) and
 * 1.17× in float64; 256³ 1.65× and 1.76×; 512³ 1.91× and 1.90×. The MNIST
 * MLP's 64×784×128 products (6.4M) run ~1.4× faster.
 */
export const THREAD_MIN_WORK = { float32: 1 << 22, float64: 1 << 21 } as const;

/** The most threads `setNumThreads` accepts. */
const MAX_THREADS = 64;
/** The shared memory's maximum (1 GiB; the module declares the same). */
const MAXIMUM_PAGES = 16384;
/** Bytes of one worker's slot in the control buffer: flags (int32 ×6, 24 bytes), then 13 float64 arguments. */
const SLOT = 128;
/** The int32 flags at the start of a worker's slot, by index. */
const POSTED = 0; // the last job number posted; negative: stop
const DONE = 1; // the last job number the worker finished; STOPPED once the worker has stopped
const FAILED = 2; // 1 when the worker's gemm threw
const DTYPE = 3; // 1 for float64, 0 for float32
const CLAIM = 4; // the job number while its block is unclaimed; 0 once the worker or this thread took it
const RELAXED = 5; // 1 to run the relaxed-SIMD build, 0 for the exactly rounded one
const FLAGS = 6;
/** Where the float64 arguments start: after the flags, on an 8-byte boundary. */
const ARGS_AT = 24;
/** What a worker that stopped leaves in its DONE flag (job numbers are positive). */
const STOPPED = -1;

// The slice of the WebAssembly and worker APIs used here, typed locally: the
// package compiles against lib ES2022 without DOM or Node types.
interface SharedKernel {
  dataStart(): number;
  scratchBytes(): number;
  setScratch(at: number): void;
  gemmF32: GemmEntry;
  gemmF64: GemmEntry;
}
type GemmEntry = (
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  a: number,
  b: number,
  c: number,
  accumulate: number,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
) => void;
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}
/** A started worker, Node's or a browser's, as the pool uses it. */
interface PoolWorker {
  terminate(): unknown;
  /** Calls `listener` whenever the worker throws or exits (terminated included), with what happened: "exited with code 1". */
  onStop(listener: (what: string) => void): void;
}

/**
 * The worker's code, as text so that no bundler or server has to find a
 * second file: Node runs it with `{ eval: true }`, browsers from a Blob URL.
 * It instantiates the shared module on the shared memory, moves its scratch
 * to its own region, and loops: wait for a job number, claim the job (unless
 * the posting thread already ran it), run the gemm block described by the
 * float64 arguments, publish the job number as done. However it stops
 * (returns, throws, or `process.exit` in Node) it leaves STOPPED in its DONE
 * flag, so that a thread waiting there wakes. Termination runs nothing in the
 * worker, but only the thread that owns the pool can terminate it, never
 * during a product, and a terminated worker claims no further block: the
 * posting thread runs that block itself.
 */
const WORKER_SOURCE = `'use strict';
function start(module, relaxedModule, memory, control, slot, scratch) {
  const instance = (m) => {
    const kernel = new WebAssembly.Instance(m, { env: { memory } }).exports;
    kernel.setScratch(scratch);
    return kernel;
  };
  const exact = instance(module);
  const relaxed = relaxedModule === undefined ? exact : instance(relaxedModule);
  const flags = new Int32Array(control, slot * ${SLOT}, ${FLAGS});
  const a = new Float64Array(control, slot * ${SLOT} + ${ARGS_AT}, 13);
  function stopped() {
    Atomics.store(flags, ${DONE}, ${STOPPED});
    Atomics.notify(flags, ${DONE});
  }
  function loop() {
    let seen = 0;
    try {
      for (;;) {
        Atomics.wait(flags, ${POSTED}, seen);
        seen = Atomics.load(flags, ${POSTED});
        if (seen < 0) return;
        if (Atomics.compareExchange(flags, ${CLAIM}, seen, 0) !== seen) continue;
        try {
          const kernel = flags[${RELAXED}] === 1 ? relaxed : exact;
          (flags[${DTYPE}] === 1 ? kernel.gemmF64 : kernel.gemmF32)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]);
        } catch (error) {
          flags[${FAILED}] = 1;
        }
        Atomics.store(flags, ${DONE}, seen);
        Atomics.notify(flags, ${DONE});
      }
    } finally {
      stopped();
    }
  }
  return { loop, stopped };
}
if (typeof require === 'function' && typeof process === 'object') {
  const { workerData, parentPort } = require('node:worker_threads');
  const worker = start(workerData.module, workerData.relaxedModule, workerData.memory, workerData.control, workerData.slot, workerData.scratch);
  process.on('exit', worker.stopped);
  parentPort.postMessage('ready');
  worker.loop();
} else {
  self.onmessage = (event) => {
    const d = event.data;
    const worker = start(d.module, d.relaxedModule, d.memory, d.control, d.slot, d.scratch);
    self.postMessage('ready');
    worker.loop();
  };
}
`;

/** The running threads: this thread's instance plus the workers, on one shared memory. */
class ThreadPool {
  private sequence = 0;
  private readonly flags: Int32Array[];
  private readonly args: Float64Array[];
  /** What the first worker to stop did, from its 'error' or 'exit' event. */
  private stopEvent: string | undefined;

  constructor(
    readonly threads: number,
    private readonly memory: WasmMemory,
    private readonly kernel: SharedKernel,
    /** The relaxed-SIMD build on the same memory and scratch, where the engine has relaxed SIMD. */
    private readonly relaxedKernel: SharedKernel | undefined,
    private readonly workers: PoolWorker[],
    control: SharedArrayBuffer,
    /** First byte for operands, after every thread's scratch. */
    private readonly dataStart: number,
  ) {
    this.flags = workers.map((_, w) => new Int32Array(control, w * SLOT, FLAGS));
    this.args = workers.map((_, w) => new Float64Array(control, w * SLOT + ARGS_AT, 13));
    workers.forEach((worker, w) => {
      worker.onStop((what) => {
        this.stopEvent ??= `worker thread ${w + 2} of ${threads} ${what}`;
      });
    });
  }

  /** Why this pool can no longer run products (a worker stopped), or undefined while every worker runs. */
  stopReason(): string | undefined {
    if (this.stopEvent !== undefined) return this.stopEvent;
    const w = this.flags.findIndex((flags) => Atomics.load(flags, DONE) === STOPPED);
    return w < 0 ? undefined : `worker thread ${w + 2} of ${this.threads} stopped`;
  }

  /** Closes this pool after a worker stopped: large products run on one thread until `setNumThreads` starts threads again. */
  private fail(reason: string): Error {
    this.close();
    if (pool === this) pool = undefined;
    return new Error(
      `ndarray: a gemm ${reason}; large products run on one thread from now on ` +
        `(call setNumThreads(${this.threads}) to start the threads again)`,
    );
  }

  /** Whether products may ask for the relaxed-SIMD build (the engine has relaxed SIMD). */
  get hasRelaxedSimd(): boolean {
    return this.relaxedKernel !== undefined;
  }

  /**
   * One 2-D product (one dtype) split across the threads, in the relaxed-SIMD
   * build when `relaxed`, else the exactly rounded one; false (nothing done)
   * when the operands do not fit the shared memory, or `relaxed` where this
   * pool has no relaxed build, so the caller runs it alone.
   */
  gemm(call: HostGemm, relaxed = false): boolean {
    const reason = this.stopReason();
    if (reason !== undefined) throw this.fail(`${reason}, so this product was not computed`);
    const kernel = relaxed ? this.relaxedKernel : this.kernel;
    if (kernel === undefined) return false;
    const entry = call.c instanceof Float64Array ? kernel.gemmF64 : kernel.gemmF32;
    return runStaged(this.memory, this.dataStart, gemmOperands(call), ([aPtr, bPtr, cPtr]) => this.split(call, entry, relaxed, aPtr, bPtr, cPtr));
  }

  /**
   * Runs the product staged at aPtr, bPtr and cPtr in blocks of C, one a
   * thread, in `entry` here and the matching build in the workers; throws
   * where a worker failed or stopped.
   */
  private split(call: HostGemm, entry: GemmEntry, relaxed: boolean, aPtr: number, bPtr: number, cPtr: number): void {
    const { transA, transB, m, n, k, c, accumulate } = call;
    const f64 = c instanceof Float64Array;
    // Split the longer side of C, so that each thread re-packs the smaller
    // operand: splitting columns makes every thread pack all of op(A) (m·k),
    // splitting rows all of op(B) (k·n). Blocks are whole micro-tiles wide.
    const byRows = m >= n;
    const extent = byRows ? m : n;
    const tile = byRows ? 4 : f64 ? 4 : 8;
    const per = Math.ceil(extent / this.threads / tile) * tile;
    // Job numbers stay within 1…2³¹ − 1: they live in Int32 slots, and a worker reads a negative one as "stop".
    const sequence = this.sequence === 0x7fffffff ? 1 : this.sequence + 1;
    this.sequence = sequence;
    /** Runs the rows (or columns) from…to of C on this thread. */
    const block = (from: number, to: number) => {
      if (byRows) entry(+transA, +transB, m, n, k, aPtr, bPtr, cPtr, +accumulate, from, to, 0, n);
      else entry(+transA, +transB, m, n, k, aPtr, bPtr, cPtr, +accumulate, 0, m, from, to);
    };
    let started = 0;
    for (let w = 0; w < this.workers.length; w++) {
      const from = (w + 1) * per;
      if (from >= extent) break;
      const to = Math.min(extent, from + per);
      const args = this.args[w];
      args[0] = +transA;
      args[1] = +transB;
      args[2] = m;
      args[3] = n;
      args[4] = k;
      args[5] = aPtr;
      args[6] = bPtr;
      args[7] = cPtr;
      args[8] = +accumulate;
      args[9] = byRows ? from : 0;
      args[10] = byRows ? to : m;
      args[11] = byRows ? 0 : from;
      args[12] = byRows ? n : to;
      const flags = this.flags[w];
      flags[DTYPE] = f64 ? 1 : 0;
      flags[RELAXED] = relaxed ? 1 : 0;
      Atomics.store(flags, CLAIM, sequence);
      Atomics.store(flags, POSTED, sequence);
      Atomics.notify(flags, POSTED);
      started++;
    }
    // This thread takes the first block.
    block(0, Math.min(extent, per));
    let failed = false;
    for (let w = 0; w < started; w++) {
      const flags = this.flags[w];
      // A block its worker has not claimed yet (a busy machine, or a worker that stopped) runs here.
      if (Atomics.compareExchange(flags, CLAIM, sequence, 0) === sequence) {
        block((w + 1) * per, Math.min(extent, (w + 2) * per));
        continue;
      }
      // Wait on the value actually there: a worker that sat out earlier products holds an older number.
      for (let seen = Atomics.load(flags, DONE); seen !== sequence; seen = Atomics.load(flags, DONE)) {
        if (seen === STOPPED) {
          throw this.fail(`worker thread ${w + 2} of ${this.threads} stopped during this product, which was not computed`);
        }
        Atomics.wait(flags, DONE, seen);
      }
      if (flags[FAILED] === 1) {
        flags[FAILED] = 0;
        failed = true;
      }
    }
    if (failed) throw new Error('ndarray: a gemm worker thread failed; call setNumThreads(1) to run on one thread');
  }

  /** Stops the workers (each leaves its loop, then is terminated). */
  close(): void {
    for (const flags of this.flags) {
      Atomics.store(flags, POSTED, -1);
      Atomics.notify(flags, POSTED);
    }
    for (const worker of this.workers) worker.terminate();
  }
}

let pool: ThreadPool | undefined;
/** The pool being started, so that overlapping calls take effect in order. */
let pending: Promise<void> = Promise.resolve();

/** The pool large products use, or undefined with one thread. @internal */
export function threadPool(): ThreadPool | undefined {
  return pool;
}

/** Threads that large products use: 1 until `setNumThreads` says otherwise. */
export function getNumThreads(): number {
  return pool?.threads ?? 1;
}

/**
 * Runs large matrix products (`matmul`, `gemm`, and so every `Linear` and
 * `Conv2d`) on `threads` threads, as `torch.set_num_threads`; 1 stops the
 * workers. Resolves once the workers are ready; results are bit for bit the
 * same as on one thread. Applies to the WebAssembly backend (the default).
 *
 * It rejects, naming what is missing, where threads cannot work (the
 * threads in use then stay as they were): no
 * WebAssembly SIMD, no SharedArrayBuffer (a browser page that is not
 * cross-origin isolated), a thread that may not block on an atomic (a
 * browser page's main thread: train in a Web Worker), or no workers.
 *
 * @example
 * ```ts
 * import { matmul, setNumThreads } from '@backprop/ndarray';
 * await setNumThreads(2);
 * matmul(a, b); // a 512×512 product runs on two cores
 * ```
 */
export function setNumThreads(threads: number): Promise<void> {
  const run = pending.then(() => start(threads));
  pending = run.catch(() => undefined);
  return run;
}

async function start(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`setNumThreads: threads must be an integer from 1 to ${MAX_THREADS}, got ${String(threads)}`);
  }
  // A pool with a stopped worker is replaced, even by as many threads.
  if (threads === getNumThreads() && pool?.stopReason() === undefined) return;
  if (threads === 1) {
    pool?.close();
    pool = undefined;
    return;
  }
  // The new pool is built first; if that fails, the threads in use stay as they were.

  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) throw new Error('setNumThreads: this engine has no WebAssembly');
  if (typeof SharedArrayBuffer !== 'function') {
    throw new Error(
      'setNumThreads: SharedArrayBuffer is not available; in a browser the page must be cross-origin isolated ' +
        '(Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
  }
  const probe = new Int32Array(new SharedArrayBuffer(4));
  try {
    Atomics.wait(probe, 0, 1, 0);
  } catch {
    throw new Error(
      "setNumThreads: this thread may not block on an atomic (a browser page's main thread); run the model in a Web Worker",
    );
  }

  const bytes = decodeBase64(GEMM_SHARED_WASM_BASE64);
  let module: object;
  try {
    module = await api.compile(bytes);
  } catch (error) {
    throw new Error(`setNumThreads: this engine cannot compile the threaded WebAssembly SIMD kernel (${String(error)})`);
  }
  // The relaxed-SIMD build too, where the engine has relaxed SIMD (it refuses the module elsewhere).
  let relaxedModule: object | undefined;
  try {
    relaxedModule = await api.compile(decodeBase64(GEMM_SHARED_RELAXED_WASM_BASE64));
  } catch {
    relaxedModule = undefined;
  }
  // The module's own layout puts this thread's scratch first; one more per worker follows.
  const memory = new api.Memory({ initial: 1, maximum: MAXIMUM_PAGES, shared: true });
  const kernel = new api.Instance(module, { env: { memory } }).exports as SharedKernel;
  const scratch = kernel.scratchBytes();
  const first = kernel.dataStart();
  // Both builds of one source lay memory out alike: the relaxed one shares each thread's scratch.
  let relaxedKernel: SharedKernel | undefined;
  if (relaxedModule !== undefined) {
    relaxedKernel = new api.Instance(relaxedModule, { env: { memory } }).exports as SharedKernel;
    if (relaxedKernel.dataStart() !== first || relaxedKernel.scratchBytes() !== scratch) {
      throw new Error('setNumThreads: the relaxed-SIMD kernel lays out its memory unlike the exact one (a build error)');
    }
  }
  const dataStart = first + (threads - 1) * scratch;
  if (!reserve(memory, dataStart)) throw new Error('setNumThreads: could not grow the shared memory for the threads');
  const control = new SharedArrayBuffer((threads - 1) * SLOT);
  const workers: PoolWorker[] = [];
  try {
    for (let w = 0; w < threads - 1; w++) {
      workers.push(await spawn({ module, relaxedModule, memory, control, slot: w, scratch: first + w * scratch }));
    }
  } catch (error) {
    for (const worker of workers) worker.terminate();
    throw error;
  }
  const previous = pool;
  pool = new ThreadPool(threads, memory, kernel, relaxedKernel, workers, control, dataStart);
  previous?.close();
}

interface WorkerInit {
  module: object;
  /** The relaxed-SIMD build, where the engine has relaxed SIMD. */
  relaxedModule: object | undefined;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  slot: number;
  scratch: number;
}

/** Starts one worker and resolves when it is ready for jobs. */
async function spawn(init: WorkerInit): Promise<PoolWorker> {
  const nodeThreads = await nodeWorkerThreads();
  if (nodeThreads !== undefined) {
    const worker = construct(() => new nodeThreads.Worker(WORKER_SOURCE, { eval: true, workerData: init }));
    await readiness((onMessage, onError) => {
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
    worker.unref(); // an idle worker must not keep the process alive
    return {
      terminate: () => worker.terminate(),
      onStop(listener) {
        worker.on('error', (error) => listener(`threw ${String(error)}`));
        worker.on('exit', (code) => listener(`exited with code ${code}`));
      },
    };
  }
  const BrowserWorker = (globalThis as { Worker?: new (url: string) => BrowserWorkerLike }).Worker;
  if (typeof BrowserWorker !== 'function' || typeof Blob !== 'function' || typeof URL?.createObjectURL !== 'function') {
    throw new Error('setNumThreads: this environment has neither worker_threads nor Web Workers');
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  let worker: BrowserWorkerLike;
  try {
    worker = construct(() => new BrowserWorker(url));
  } catch (error) {
    URL.revokeObjectURL(url);
    throw error;
  }
  const ready = readiness((onMessage, onError) => {
    worker.onmessage = onMessage;
    worker.onerror = (event: { message?: string }) => onError(new Error(event.message ?? 'worker failed to start'));
  });
  worker.postMessage(init); // the worker answers 'ready' once it has its memory
  try {
    await ready;
  } finally {
    URL.revokeObjectURL(url);
  }
  return {
    terminate: () => worker.terminate(),
    onStop(listener) {
      // A browser reports no exit; a worker that throws has left its loop (and left STOPPED in its slot).
      worker.onerror = (event: { message?: string }) => listener(`threw ${event.message ?? 'an error'}`);
    },
  };
}

/** `create()`, a new worker; a refusal (a permission, a content security policy) becomes an error naming setNumThreads. */
function construct<W>(create: () => W): W {
  try {
    return create();
  } catch (error) {
    throw new Error(`setNumThreads: a worker failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
}

interface BrowserWorkerLike {
  terminate(): unknown;
  onmessage: ((event: unknown) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  postMessage(message: unknown): void;
}

interface NodeWorkerThreads {
  Worker: new (
    source: string,
    options: { eval: boolean; workerData: unknown },
  ) => {
    terminate(): Promise<number>;
    once(event: 'message', listener: (value: unknown) => void): void;
    once(event: 'error', listener: (error: Error) => void): void;
    on(event: 'error', listener: (error: Error) => void): void;
    on(event: 'exit', listener: (code: number) => void): void;
    unref(): void;
  };
}

/** The slice of Node's `process` used here. */
interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
  /** Node's permission model, present only while it is on (`--permission`, `--experimental-permission` on Node 20). */
  permission?: { has(scope: string): boolean };
}

/**
 * node:worker_threads where this is Node, else undefined; never a static
 * import, so bundles for browsers stay clean. Rejects, saying what to do,
 * where Node's permission model forbids workers.
 */
async function nodeWorkerThreads(): Promise<NodeWorkerThreads | undefined> {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (proc?.versions?.node === undefined) return undefined;
  if (proc.permission !== undefined && !proc.permission.has('worker')) {
    throw new Error(
      "setNumThreads: Node's permission model forbids worker threads in this process; " +
        'run node with --allow-worker as well, or leave the threads at 1',
    );
  }
  if (typeof proc.getBuiltinModule === 'function') return proc.getBuiltinModule('node:worker_threads') as NodeWorkerThreads;
  const specifier = 'node:worker_threads';
  return (await import(/* @vite-ignore */ specifier)) as NodeWorkerThreads;
}

/** Resolves on the worker's first message ('ready'), rejects on its first error. */
function readiness(listen: (onMessage: (value: unknown) => void, onError: (error: Error) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    listen(
      () => resolve(),
      (error) => reject(new Error(`setNumThreads: a worker failed to start: ${error.message}`)),
    );
  });
}
