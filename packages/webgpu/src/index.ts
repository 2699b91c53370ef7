export { GPU_CONFORMANCE, createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from './backend';
export type { GpuMemory } from './runtime';
