/**
 * Elementwise passes in WebAssembly: ReLU forward and backward (SIMD compare
 * and mask, `assembly/elementwise.ts`) and the exact GELU forward and
 * backward (fdlibm's erf and exp in double, `assembly/gelu.ts`). Operands are
 * copied into the module's memory and the output copied back; results equal
 * the TypeScript kernels bit for bit (NaN payloads aside), and passes over
 * fewer than `minElements` values, or of mixed dtypes or lengths, stay in
 * TypeScript.
 *
 * @internal
 */
import type { FloatArray } from '../../dtype';
import { elementwiseKernels } from '../js/elementwise';
import { hostFloat } from '../js/host';
import type { WasmHost, WasmKernel } from '../registry';
import { ELEMENTWISE_WASM_BASE64, GELU_WASM_BASE64 } from './gemm-bytes';
import { runEntry } from './memory';

/**
 * Runs entry `name` (its F32 or F64 form, by `out`'s dtype) of the module
 * inlined as `base64` over staged copies of `inputs` (each of out's length and
 * dtype) into `out`; false, with nothing done, where the TypeScript loop must
 * run instead.
 */
export function runElementwise(host: WasmHost, base64: string, name: string, inputs: FloatArray[], out: FloatArray): boolean {
  const n = out.length;
  const f64 = out instanceof Float64Array;
  if (n < host.minElements || inputs.some((a) => a.length !== n || a instanceof Float64Array !== f64)) return false;
  // Each entry takes its inputs' addresses, the output's, and the count.
  return runEntry(host, base64, `${name}${f64 ? 'F64' : 'F32'}`, { inputs, outputs: [out] }, (kernel, addresses) => kernel(...addresses, n));
}

export const wasmRelu: WasmKernel<'relu'> = (host) => (args) => {
  if (!runElementwise(host, ELEMENTWISE_WASM_BASE64, 'relu', [hostFloat(args.x)], hostFloat(args.out))) elementwiseKernels.relu(args);
};

export const wasmReluBackward: WasmKernel<'reluBackward'> = (host) => (args) => {
  const inputs = [hostFloat(args.grad), hostFloat(args.output)];
  if (!runElementwise(host, ELEMENTWISE_WASM_BASE64, 'reluBackward', inputs, hostFloat(args.out))) elementwiseKernels.reluBackward(args);
};

/** The exact GELU; the tanh form stays in TypeScript. */
export const wasmGelu: WasmKernel<'gelu'> = (host) => (args) => {
  const done = args.approximate === 'none' && runElementwise(host, GELU_WASM_BASE64, 'gelu', [hostFloat(args.x)], hostFloat(args.out));
  if (!done) elementwiseKernels.gelu(args);
};

export const wasmGeluBackward: WasmKernel<'geluBackward'> = (host) => (args) => {
  const inputs = [hostFloat(args.grad), hostFloat(args.input)];
  const done = args.approximate === 'none' && runElementwise(host, GELU_WASM_BASE64, 'geluBackward', inputs, hostFloat(args.out));
  if (!done) elementwiseKernels.geluBackward(args);
};
