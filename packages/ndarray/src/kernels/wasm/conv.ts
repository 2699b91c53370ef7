/**
 * Convolution's im2col/col2im and max pooling (forward and backward) in the
 * WebAssembly modules compiled from `assembly/conv.ts` and `assembly/pool.ts`: the operands are
 * copied into the module's memory, the geometry passed as a record of int32 fields,
 * and the results copied back. Results equal the TypeScript kernels' bit for
 * bit; passes over fewer than `minElements` values stay in TypeScript.
 *
 * @internal
 */
import type { FloatArray, TypedArray } from '../../dtype';
import { convKernels } from '../js/conv';
import { host, hostFloat } from '../js/host';
import { poolKernels } from '../js/pool';
import type { Conv2dGeometry, KernelArgs, Kernels, Pool2dGeometry } from '../types';
import { type WasmMemory, runStaged } from './memory';

type Entry = (geometry: number, ...operands: number[]) => void;
type Module<Name extends string> = { memory: WasmMemory; dataStart(): number } & Record<`${Name}${'F32' | 'F64'}`, Entry>;

/** The conv and pool modules' exports: each entry takes the geometry record's byte address, then its inputs', then its outputs'. */
export type ConvExports = Module<'unfold' | 'fold'>;
export type PoolExports = Module<'maxPool' | 'maxPoolBackward'>;

/** The order of the geometry records' fields, as `assembly/conv.ts` reads them. */
const CONV_FIELDS = [
  'batch', 'channels', 'height', 'width', 'kernelH', 'kernelW', 'strideH', 'strideW',
  'padH', 'padW', 'dilationH', 'dilationW', 'outH', 'outW',
] as const satisfies readonly (keyof Conv2dGeometry)[];
const POOL_FIELDS = [
  'planes', 'height', 'width', 'kernelH', 'kernelW', 'strideH', 'strideW', 'padH', 'padW', 'outH', 'outW',
] as const satisfies readonly (keyof Pool2dGeometry)[];

/** The geometry record handed to the modules: one, refilled for every call, so a call allocates no typed array. */
const RECORD = new Int32Array(16);

function record<G>(geometry: G, fields: readonly (keyof G)[]): Int32Array {
  fields.forEach((name, i) => {
    RECORD[i] = geometry[name] as number;
  });
  return RECORD;
}

/**
 * im2col and col2im on the conv module, maxPool2d and maxPool2dBackward on
 * the pool module (a loader returns null where its module cannot load: then,
 * as for passes over fewer than `minElements` values, the TypeScript kernel runs).
 */
export function wasmConvKernels(loadConv: () => ConvExports | null, loadPool: () => PoolExports | null, minElements: number) {
  /**
   * Runs `name` of the module `load` gives on staged copies, in `like`'s
   * dtype; false where the TypeScript kernel must run instead.
   */
  function run<Name extends string>(
    load: () => Module<Name> | null,
    name: Name,
    like: FloatArray,
    size: number,
    geometry: Int32Array,
    inputs: TypedArray[],
    outputs: TypedArray[],
  ): boolean {
    if (size < minElements) return false;
    const wasm = load();
    if (wasm === null) return false;
    const entry = wasm[`${name}${like instanceof Float64Array ? 'F64' : 'F32'}`] as Entry;
    return runStaged(wasm.memory, wasm.dataStart(), { inputs: [geometry, ...inputs], outputs }, ([g, ...operands]) => entry(g, ...operands));
  }

  return {
    im2col(args: KernelArgs<'im2col'>): void {
      const [x, cols] = [hostFloat(args.x), hostFloat(args.out)];
      if (!run(loadConv, 'unfold', x, cols.length, record(args.geometry, CONV_FIELDS), [x], [cols])) convKernels.im2col(args);
    },
    col2im(args: KernelArgs<'col2im'>): void {
      const [cols, dx] = [hostFloat(args.cols), hostFloat(args.out)];
      if (!run(loadConv, 'fold', cols, cols.length, record(args.geometry, CONV_FIELDS), [cols], [dx])) convKernels.col2im(args);
    },
    maxPool2d(args: KernelArgs<'maxPool2d'>): void {
      const x = hostFloat(args.x);
      const outputs = [hostFloat(args.out), host(args.indices)];
      if (!run(loadPool, 'maxPool', x, x.length, record(args.geometry, POOL_FIELDS), [x], outputs)) poolKernels.maxPool2d(args);
    },
    maxPool2dBackward(args: KernelArgs<'maxPool2dBackward'>): void {
      const [grad, dx] = [hostFloat(args.grad), hostFloat(args.out)];
      const inputs = [grad, host(args.indices)];
      if (!run(loadPool, 'maxPoolBackward', grad, dx.length, record(args.geometry, POOL_FIELDS), inputs, [dx])) {
        poolKernels.maxPool2dBackward(args);
      }
    },
  } satisfies Partial<Kernels>;
}
