/**
 * Convolution's im2col/col2im and max pooling (forward and backward) in the
 * WebAssembly modules compiled from `assembly/conv.ts` and
 * `assembly/pool.ts`: the operands are copied into the module's memory, the
 * geometry passed as a record of int32 fields, and the results copied back.
 * Results equal the TypeScript kernels' bit for bit (NaN payloads aside);
 * passes over fewer than `minElements` values stay in TypeScript. The ops
 * carry these (`kernel(name, typescript, wasm)`), so a bundle without
 * convolutions holds neither module.
 *
 * @internal
 */
import type { FloatArray, TypedArray } from '../../dtype';
import { convKernels } from '../js/conv';
import { host, hostFloat } from '../js/host';
import { poolKernels } from '../js/pool';
import type { WasmHost, WasmKernel } from '../registry';
import type { Conv2dGeometry, Pool2dGeometry } from '../types';
import { CONV_WASM_BASE64, POOL_WASM_BASE64 } from './gemm-bytes';
import { runEntry } from './memory';

/** The order of the geometry records' fields, as `assembly/conv.ts` and `pool.ts` read them. */
const CONV_FIELDS = [
  'batch', 'channels', 'height', 'width', 'kernelH', 'kernelW', 'strideH', 'strideW',
  'padH', 'padW', 'dilationH', 'dilationW', 'outH', 'outW',
] as const satisfies readonly (keyof Conv2dGeometry)[];
const POOL_FIELDS = [
  'planes', 'height', 'width', 'kernelH', 'kernelW', 'strideH', 'strideW', 'padH', 'padW', 'outH', 'outW',
] as const satisfies readonly (keyof Pool2dGeometry)[];

/**
 * The geometry record handed to the modules: one, refilled for every call, so
 * a call allocates no typed array (calls are synchronous, so none overlap).
 */
const RECORD = new Int32Array(16);

function record<G>(geometry: G, fields: readonly (keyof G)[]): Int32Array {
  fields.forEach((name, i) => {
    RECORD[i] = geometry[name] as number;
  });
  return RECORD;
}

/**
 * Runs entry `name` (its F32 or F64 form, by `like`'s dtype) of the module
 * inlined as `base64` on staged copies, the geometry record first; false
 * where the TypeScript kernel must run instead (a small pass, or the module
 * cannot load or grow).
 */
function run(
  host: WasmHost,
  base64: string,
  name: string,
  like: FloatArray,
  size: number,
  geometry: Int32Array,
  inputs: TypedArray[],
  outputs: TypedArray[],
): boolean {
  if (size < host.minElements) return false;
  const entry = `${name}${like instanceof Float64Array ? 'F64' : 'F32'}`;
  return runEntry(host, base64, entry, { inputs: [geometry, ...inputs], outputs }, (kernel, addresses) => kernel(...addresses));
}

export const wasmIm2col: WasmKernel<'im2col'> = (wasm) => (args) => {
  const [x, cols] = [hostFloat(args.x), hostFloat(args.out)];
  if (!run(wasm, CONV_WASM_BASE64, 'unfold', x, cols.length, record(args.geometry, CONV_FIELDS), [x], [cols])) convKernels.im2col(args);
};

export const wasmCol2im: WasmKernel<'col2im'> = (wasm) => (args) => {
  const [cols, dx] = [hostFloat(args.cols), hostFloat(args.out)];
  if (!run(wasm, CONV_WASM_BASE64, 'fold', cols, cols.length, record(args.geometry, CONV_FIELDS), [cols], [dx])) convKernels.col2im(args);
};

export const wasmMaxPool2d: WasmKernel<'maxPool2d'> = (wasm) => (args) => {
  const x = hostFloat(args.x);
  const outputs = [hostFloat(args.out), host(args.indices)];
  if (!run(wasm, POOL_WASM_BASE64, 'maxPool', x, x.length, record(args.geometry, POOL_FIELDS), [x], outputs)) poolKernels.maxPool2d(args);
};

export const wasmMaxPool2dBackward: WasmKernel<'maxPool2dBackward'> = (wasm) => (args) => {
  const [grad, dx] = [hostFloat(args.grad), hostFloat(args.out)];
  const inputs = [grad, host(args.indices)];
  if (!run(wasm, POOL_WASM_BASE64, 'maxPoolBackward', grad, dx.length, record(args.geometry, POOL_FIELDS), inputs, [dx])) {
    poolKernels.maxPool2dBackward(args);
  }
};
