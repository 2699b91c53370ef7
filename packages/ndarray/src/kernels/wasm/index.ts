/**
 * The WebAssembly SIMD backend: `gemm` runs the packed, register-tiled kernels
 * compiled from `assembly/gemm.ts` (float32 accumulates in f32x4 lanes, float64
 * in f64x2 lanes), `relu` and `reluBackward` those of `assembly/elementwise.ts`,
 * the exact `gelu` and `geluBackward` those of `assembly/gelu.ts`,
 * `im2col`/`col2im` those of `assembly/conv.ts`, max pooling those of
 * `assembly/pool.ts`, and the float32 SGD and Adam updates those of
 * `assembly/optimizers.ts` (see `conv.ts` and `optimizers.ts` here); every
 * other kernel is the TypeScript one. Operands are copied into a module's
 * memory for each call and the results copied back; every kernel but gemm
 * gives the TypeScript kernel's bits, but for the sign and payload of NaNs
 * (WebAssembly leaves them unspecified: a signalling NaN copied stays
 * signalling, and which of two NaNs an addition keeps may differ).
 *
 * The modules' bytes are inlined (base64), so bundlers and browsers load no
 * file; each is compiled synchronously on the first call large enough to use
 * it (browsers allow that on the main thread for modules up to 4 KB, which
 * scripts/build-wasm.mjs enforces).
 */
import { elementwiseKernels } from '../js/elementwise';
import { type HostGemm, gemmTypeScript, runGemm } from '../js/gemm';
import type { Backend, WasmHost } from '../registry';
import type { GemmProblem, Kernels } from '../types';
import { wasmRelu, wasmReluBackward } from './elementwise';
import { GEMM_RELAXED_WASM_BASE64, GEMM_WASM_BASE64, GEMV_WASM_BASE64 } from './gemm-bytes';
import { type WasmMemory, decodeBase64, gemmOperands, runEntry, runStaged } from './memory';
import { THREAD_MIN_WORK, threadPool } from './threads';

/**
 * The smallest module using a SIMD instruction (`i32.const 0; i8x16.splat;
 * i8x16.popcnt` returning v128): engines without Wasm SIMD reject it.
 */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/**
 * The smallest module using a relaxed-SIMD instruction (three `i32.const 0;
 * i8x16.splat`, then `f32x4.relaxed_madd`, opcode 0xfd 0x105, returning
 * v128): engines without relaxed SIMD (Node 20, Safari) reject it. @internal
 */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0,
  253, 15, 253, 133, 2, 11,
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

/** assembly/gemv.ts's entry: C[1×n] (+)= a·op(B), at byte addresses a, b and c. */
type GemvEntry = (transB: number, n: number, k: number, a: number, b: number, c: number, accumulate: number) => void;

/**
 * Below this many elements, copying into linear memory and back costs more
 * than a WebAssembly pass saves. Measured for the SIMD ReLU on Node 20
 * (x86-64), float32: at 1,024 elements the TypeScript loop and the
 * WebAssembly kernel (copies included) take about the same time.
 */
const MIN_ELEMENTS = 2048;

/** Options of {@link createWasmBackend}; all but `relaxedSimd` exist for tests and unusual hosts. */
export interface WasmBackendOptions {
  /**
   * Checks that the engine accepts a module (default `WebAssembly.validate`);
   * return false to simulate an engine without Wasm SIMD, or false for
   * {@link RELAXED_SIMD_PROBE} alone to simulate one without relaxed SIMD.
   */
  validate?: (bytes: Uint8Array) => boolean;
  /**
   * Runs `gemm` in the relaxed-SIMD module, whose multiply-adds are
   * `relaxed_madd` (fused, rounded once, where the hardware has FMA), when
   * the engine has relaxed SIMD (Node ≥ 22, Chrome, Firefox; not Node 20 or
   * Safari), else silently in the exactly rounded one; `relaxedSimd` on the
   * backend says which. Default false: the exactly rounded module, whose
   * results are the same on every engine and machine.
   */
  relaxedSimd?: boolean;
  /** Products below this many multiply-adds (m·n·k) use the TypeScript gemm (default 256). */
  minWork?: number;
  /** Passes over fewer values than this (ReLU, GELU, im2col/col2im, pooling, optimizer updates) stay in TypeScript (default 2048). */
  minElements?: number;
}

/** The backend {@link createWasmBackend} returns: a host backend named 'wasm', and which GEMM module it runs. */
export interface WasmBackend extends Backend {
  /**
   * True when `gemm` runs the relaxed-SIMD module (asked for with
   * `relaxedSimd: true`, and the engine has relaxed SIMD); false for the
   * exactly rounded one.
   */
  readonly relaxedSimd: boolean;
}

/**
 * Builds a backend whose `gemm`, ReLU, GELU, im2col/col2im, max pooling and float32
 * SGD/Adam updates run in WebAssembly (every other kernel is the TypeScript
 * one), or returns `undefined`
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
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend | undefined {
  const found = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (typeof found !== 'object' || found === null) return undefined;
  const api: WasmApi = found;
  const validate = options.validate ?? ((bytes: Uint8Array) => api.validate(bytes));
  /** Whether the engine accepts `probe`; a validate that throws says no. */
  const accepts = (probe: Uint8Array) => {
    try {
      return validate(probe) === true;
    } catch {
      return false;
    }
  };
  if (!accepts(SIMD_PROBE)) return undefined;
  // The relaxed-SIMD GEMM only when asked for and the engine has it; else the exactly rounded one.
  const relaxedSimd = options.relaxedSimd === true && accepts(RELAXED_SIMD_PROBE);
  const minWork = options.minWork ?? MIN_WORK;

  /**
   * What the kernels are built from. Each module is compiled and instantiated
   * on its first use; null from then on when that failed (e.g. a CSP without
   * 'wasm-unsafe-eval'), so every call stays on the TypeScript kernels.
   */
  const modules = new Map<string, object | null>();
  const host: WasmHost = {
    minElements: options.minElements ?? MIN_ELEMENTS,
    instance<T>(base64: string): T | null {
      let exports = modules.get(base64);
      if (exports === undefined) {
        try {
          exports = new api.Instance(new api.Module(decodeBase64(base64)), {}).exports;
        } catch {
          exports = null;
        }
        modules.set(base64, exports);
      }
      return exports as T | null;
    },
  };
  const gemmModule = relaxedSimd ? GEMM_RELAXED_WASM_BASE64 : GEMM_WASM_BASE64;

  /**
   * C[1×n] (+)= a·op(B) in float32 on the row-times-matrix module, whose sums
   * are gemm's bit for bit, NaNs' signs aside (op(A) of one row is its k
   * values either way), when both run here (at least `minWork` multiply-adds);
   * false where the module cannot load or the memory cannot grow.
   */
  function rowProduct(call: HostGemm): boolean {
    const { transB, n, k, accumulate } = call;
    return runEntry<GemvEntry>(host, GEMV_WASM_BASE64, 'gemvF32', gemmOperands(call), (gemv, [x, w, y]) =>
      gemv(+transB, n, k, x, w, y, +accumulate),
    );
  }

  /** One 2-D product: on the threads when large and started, else in this thread's module. */
  function product(call: HostGemm): void {
    const { m, n, k, a, b, c } = call;
    // Empty products are the TypeScript kernel's (it zero-fills C when k = 0).
    const wasm = m > 0 && n > 0 && k > 0 && m * n * k >= minWork ? host.instance<GemmExports>(gemmModule) : null;
    const f64 = c instanceof Float64Array;
    // Operands are one dtype (the ops check); anything else stays in TypeScript.
    if (wasm === null || a instanceof Float64Array !== f64 || b instanceof Float64Array !== f64) {
      gemmTypeScript(call);
      return;
    }
    // A single float32 row (one sample through a Linear) reads B in place, as gemm's order sums it.
    if (m === 1 && !f64 && !relaxedSimd && rowProduct(call)) return;
    // Large products go to the threads when setNumThreads started some, in the shared build of this module.
    const pool = m * n * k >= THREAD_MIN_WORK[f64 ? 'float64' : 'float32'] ? threadPool() : undefined;
    if (pool?.gemm(call, relaxedSimd)) return;
    const entry = f64 ? wasm.gemmF64 : wasm.gemmF32;
    const done = runStaged(wasm.memory, wasm.dataStart(), gemmOperands(call), ([aPtr, bPtr, cPtr]) =>
      entry(+call.transA, +call.transB, m, n, k, aPtr, bPtr, cPtr, +call.accumulate, 0, m, 0, n),
    );
    if (!done) gemmTypeScript(call);
  }

  const relu = wasmRelu(host);

  const activations = { ...elementwiseKernels, relu };
  const kernels: Partial<Kernels> = {
    gemm: (problem: GemmProblem) => runGemm(problem, product, activations),
    relu,
    reluBackward: wasmReluBackward(host),
  };
  return { name: 'wasm', fallback: 'js', kernels, wasm: host, relaxedSimd };
}

/**
 * The WebAssembly SIMD backend, or `undefined` where the engine lacks Wasm
 * SIMD. `gemm` (and so `matmul` and every `Linear`), ReLU, the exact GELU, convolution's
 * im2col/col2im, max pooling and the float32 SGD and Adam updates run in
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
export const wasmBackend: WasmBackend | undefined = /* @__PURE__ */ createWasmBackend();
