export type {
  AvgPoolDivisor,
  Conv2dGeometry,
  GemmActivation,
  GemmProblem,
  GeluApproximate,
  KernelArgs,
  KernelName,
  Kernels,
  Pool2dGeometry,
} from './types';
export {
  type Backend,
  type WasmHost,
  type WasmKernel,
  KernelError,
  accumulatorDType,
  findBackend,
  getBackend,
  kernel,
  listBackends,
  registerBackend,
  registerKernel,
  setBackend,
} from './registry';
export { jsBackend } from './js/backend';
export { typescriptKernels } from './js/index';
export { createWasmBackend, wasmBackend, type WasmBackend, type WasmBackendOptions } from './wasm/index';
export { getNumThreads, setNumThreads } from './wasm/threads';
