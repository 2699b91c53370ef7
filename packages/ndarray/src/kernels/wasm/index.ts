/**
 * The WebAssembly SIMD backend: `gemm` runs the packed, register-tiled kernels
 * compiled from `assembly/gemm.ts` (float32 accumulates in f32x4 lanes, float64
 * in f64x2 lanes), `relu` and `reluBackward` those of `assembly/elementwise.ts`;
 * every other kernel is the TypeScript one.
 *
 * The modules' bytes are inlined (base64), so bundlers and browsers load no
 * file; each is compiled synchronously on the first call large enough to use
 * it (browsers allow that on the main thread for modules up to 4 KB, which
 * scripts/build-wasm.mjs enforces).
 */
import type { FloatArray } from '../../dtype';
import { elementwiseKernels } from '../js/elementwise';
import { type HostGemm, gemmTypeScript, runGemm } from '../js/gemm';
import { hostFloat } from '../js/host';
import type { Backend } from '../registry';
import type { GemmProblem, Kernels, OutputGradArgs, UnaryArgs } from '../types';
import { ELEMENTWISE_WASM_BASE64, GEMM_WASM_BASE64 } from './gemm-bytes';
import { type WasmMemory, decodeBase64, reserve, stage } from './memory';
import { THREAD_MIN_WORK, threadPool } from './threads';

/**
 * The smallest module using a SIMD instruction (`i32.const 0; i8x16.splat;
 * i8x16.popcnt` returning v128): engines without Wasm SIMD reject it.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/**
 * Below this many multiply-adds (m·n·k) copying operands into linear memory
 * costs more than the SIMD kernel saves, so the TypeScript gemm runs instead.
 * Measured on Node 20 (x86-64): at 4³ the TypeScript gemm is 1.5–2× faster,
 * at 8³ the WebAssembly one is 2.2–2.7× faster, in both dtypes.
 */
const MIN_WORK = 256;

// The slice of the WebAssembly JS API used here, typed locally: the package
// compiles against lib ES2022, which has no WebAssembly declarations.
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}

interface GemmExports {
  memory: WasmMemory;
  dataStart(): number;
  gemmF32: GemmEntry;
  gemmF64: GemmEntry;
}

/** (transA, transB, m, n, k, a, b, c, accumulate, i0, i1, j0, j1): C's rows i0…i1 and columns j0…j1. */
type GemmEntry = (...args: [number, number, number, number, number, number, number, number, number, number, number, number, number]) => void;

interface ElementwiseExports {
  memory: WasmMemory;
  dataStart(): number;
  reluF32(x: number, out: number, n: number): void;
  reluF64(x: number, out: number, n: number): void;
  reluBackwardF32(g: number, y: number, out: number, n: number): void;
  reluBackwardF64(g: number, y: number, out: number, n: number): void;
}

/**
 * Below this many elements, copying into linear memory and back costs more
 * than the SIMD ReLU saves. Measured on Node 20 (x86-64), float32: at 1,024
 * elements the TypeScript loop and the WebAssembly kernel (copies included)
 * take about the same time.
 */
const MIN_ELEMENTS = 2048;

/** Options of {@link createWasmBackend}; they exist for tests and unusual hosts. */
export interface WasmBackendOptions {
  /**
   * Checks that the engine accepts a module (default `WebAssembly.validate`);
   * return false to simulate an engine without Wasm SIMD.
   */
  validate?: (bytes: Uint8Array) => boolean;
  /** Products below this many multiply-adds (m·n·k) use the TypeScript gemm (default 256). */
  minWork?: number;
  /** ReLU passes over fewer elements than this use the TypeScript loops (default 2048). */
  minElements?: number;
}

/**
 * Builds a backend whose `gemm`, `relu` and `reluBackward` run in WebAssembly
 * SIMD (every other kernel is the TypeScript one), or returns `undefined`
 * where the engine has no WebAssembly or no SIMD (then keep the default
 * TypeScript backend). Install it with `setBackend`.
 *
 * @example
 * ```ts
 * import { createWasmBackend, setBackend } from '@backprop/ndarray';
 * const wasm = createWasmBackend();
 * if (wasm) setBackend(wasm);
 * ```
 */
export function createWasmBackend(options: WasmBackendOptions = {}): Backend | undefined {
  const found = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (typeof found !== 'object' || found === null) return undefined;
  const api: WasmApi = found;
  const validate = options.validate ?? ((bytes: Uint8Array) => api.validate(bytes));
  let supported = false;
  try {
    supported = validate(SIMD_PROBE);
  } catch {
    supported = false;
  }
  if (!supported) return undefined;
  const minWork = options.minWork ?? MIN_WORK;

  /**
   * The exports of an inlined module, compiled and instantiated on the first
   * call; null from then on when that failed (e.g. a CSP without
   * 'wasm-unsafe-eval'), so every call stays on the TypeScript kernels.
   */
  function lazyInstance<T>(base64: string): () => T | null {
    let exports: T | null | undefined;
    return () => {
      if (exports === undefined) {
        try {
          exports = new api.Instance(new api.Module(decodeBase64(base64)), {}).exports as T;
        } catch {
          exports = null;
        }
      }
      return exports;
    };
  }
  const load = lazyInstance<GemmExports>(GEMM_WASM_BASE64);

  /** One 2-D product: on the threads when large and started, else in this thread's module. */
  function product(call: HostGemm): void {
    const { m, n, k, a, b, c } = call;
    // Empty products are the TypeScript kernel's (it zero-fills C when k = 0).
    const wasm = m > 0 && n > 0 && k > 0 && m * n * k >= minWork ? load() : null;
    const f64 = c instanceof Float64Array;
    // Operands are one dtype (the ops check); anything else stays in TypeScript.
    if (wasm === null || a instanceof Float64Array !== f64 || b instanceof Float64Array !== f64) {
      gemmTypeScript(call);
      return;
    }
    // Large products go to the threads when setNumThreads started some.
    const pool = m * n * k >= THREAD_MIN_WORK[f64 ? 'float64' : 'float32'] ? threadPool() : undefined;
    if (pool?.gemm(call)) return;
    const staged = stage(wasm.memory, wasm.dataStart(), call);
    if (staged === null) {
      gemmTypeScript(call);
      return;
    }
    const { aPtr, bPtr, cPtr, out } = staged;
    (f64 ? wasm.gemmF64 : wasm.gemmF32)(+call.transA, +call.transB, m, n, k, aPtr, bPtr, cPtr, +call.accumulate, 0, m, 0, n);
    c.set(out, call.cOffset);
  }

  const minElements = options.minElements ?? MIN_ELEMENTS;
  const loadElementwise = lazyInstance<ElementwiseExports>(ELEMENTWISE_WASM_BASE64);

  /**
   * Copies `inputs` (one length and dtype) into the elementwise module's
   * memory, runs `kernel` on their addresses and an output address, and copies
   * the output into `out`; false (nothing done) where the module is missing or
   * the memory cannot grow, so the caller runs the TypeScript loop.
   */
  function elementwiseCall(
    inputs: FloatArray[],
    out: FloatArray,
    kernel: (wasm: ElementwiseExports, f64: boolean, addresses: number[], n: number) => void,
  ): boolean {
    const n = out.length;
    const f64 = out instanceof Float64Array;
    if (n < minElements || inputs.some((a) => a instanceof Float64Array !== f64)) return false;
    const wasm = loadElementwise();
    if (wasm === null) return false;
    const bytes = Math.ceil((n * (f64 ? 8 : 4)) / 64) * 64;
    const start = wasm.dataStart();
    if (!reserve(wasm.memory, start + bytes * (inputs.length + 1))) return false;
    const buffer = wasm.memory.buffer;
    const view = (at: number) => (f64 ? new Float64Array(buffer, at, n) : new Float32Array(buffer, at, n));
    const addresses = inputs.map((a, i) => {
      view(start + i * bytes).set(a);
      return start + i * bytes;
    });
    const outAt = start + inputs.length * bytes;
    addresses.push(outAt);
    kernel(wasm, f64, addresses, n);
    out.set(view(outAt));
    return true;
  }

  function relu(args: UnaryArgs): void {
    const done = elementwiseCall([hostFloat(args.x)], hostFloat(args.out), (wasm, f64, [x, o], n) =>
      (f64 ? wasm.reluF64 : wasm.reluF32)(x, o, n),
    );
    if (!done) elementwiseKernels.relu(args);
  }

  function reluBackward(args: OutputGradArgs): void {
    const { grad, output, out } = args;
    const done = elementwiseCall([hostFloat(grad), hostFloat(output)], hostFloat(out), (wasm, f64, [g, y, o], n) =>
      (f64 ? wasm.reluBackwardF64 : wasm.reluBackwardF32)(g, y, o, n),
    );
    if (!done) elementwiseKernels.reluBackward(args);
  }

  const activations = { ...elementwiseKernels, relu };
  const kernels: Partial<Kernels> = {
    gemm: (problem: GemmProblem) => runGemm(problem, product, activations),
    relu,
    reluBackward,
  };
  return { name: 'wasm', fallback: 'js', kernels };
}

/**
 * The WebAssembly SIMD backend, or `undefined` where the engine lacks Wasm
 * SIMD. `gemm` (and so `matmul` and every `Linear`) and ReLU run in
 * WebAssembly; float32 products accumulate in float32, as BLAS and PyTorch
 * do, where the TypeScript kernel accumulates in float64. Every other kernel
 * is the TypeScript one.
 *
 * @example
 * ```ts
 * import { setBackend, wasmBackend } from '@backprop/ndarray';
 * if (wasmBackend) setBackend(wasmBackend);
 * ```
 */
export const wasmBackend: Backend | undefined = /* @__PURE__ */ createWasmBackend();
