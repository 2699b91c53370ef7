/**
 * The `webgpu` backend: a GPU device, the runtime that keeps arrays in its
 * buffers, and the WGSL kernels registered under the kernels' names.
 */
import { type Backend, type DType, ValueError, checkOptions, describe, registerBackend } from '@backprop/ndarray';
import { webgpuKernels } from './kernels/index';
import { type GpuMemory, GpuRuntime } from './runtime';

export interface WebGpuBackendOptions {
  /** A device to use; by default one is requested from `gpu`. */
  device?: GPUDevice;
  /**
   * Where to request an adapter: `navigator.gpu` by default (browsers, Deno);
   * in Node, `create([])` of the `webgpu` package.
   */
  gpu?: GPU;
  /** The adapter's power preference, as `requestAdapter`'s. */
  powerPreference?: GPUPowerPreference;
  /** The backend's name, `'webgpu'` by default (another name registers a second backend). */
  name?: string;
}

/** A backend whose arrays live in GPU buffers. */
export interface WebGpuBackend extends Backend {
  readonly device: GPUDevice;
  /** The bytes and buffers held now: in use by live arrays, and pooled for reuse. */
  memory(): GpuMemory;
  /** Resolves when the GPU has finished the work submitted so far (to time it); rethrows a device error. */
  synchronize(): Promise<void>;
  /**
   * Frees the pooled buffers (kept for new arrays of their sizes), e.g. after
   * the batch or sequence length changes for good; returns the bytes freed.
   */
  releasePool(): number;
}

const OPTIONS = ['device', 'gpu', 'powerPreference', 'name'] as const;

/**
 * Requests a GPU device and registers a `webgpu` backend on it; pass the
 * result to `setBackend` to run every later op there.
 *
 * ```ts
 * import { setBackend } from '@backprop/ndarray';
 * import { createWebGpuBackend } from '@backprop/webgpu';
 * setBackend(await createWebGpuBackend());   // in Node: createWebGpuBackend({ gpu: create([]) }) from 'webgpu'
 * ```
 */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const op = 'createWebGpuBackend';
  checkOptions(op, options, OPTIONS);
  const name = options.name ?? 'webgpu';
  if (typeof name !== 'string' || name === '') throw new ValueError(`${op}: name must be a non-empty string, got ${describe(name)}`);
  const gpu = options.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  const device = options.device ?? (await requestDevice(op, gpu, options));
  // The backend holds the GPU object: Node's `webgpu` tears its instance down (and every device with it) when collected.
  const runtime = new GpuRuntime(name, device, gpu);
  const backend: WebGpuBackend = {
    name,
    device,
    kernels: webgpuKernels(runtime),
    dtypes: ['float32', 'int32'],
    allocate: (dtype: DType, size: number) => runtime.allocate(dtype, size),
    memory: () => runtime.memory(),
    synchronize: () => runtime.synchronize(),
    releasePool: () => runtime.releasePool(),
  };
  registerBackend(backend);
  return backend;
}

async function requestDevice(op: string, gpu: GPU | undefined, options: WebGpuBackendOptions): Promise<GPUDevice> {
  if (gpu === undefined) {
    throw new ValueError(
      `${op}: this runtime has no WebGPU (navigator.gpu is undefined); in a browser, use one with WebGPU enabled; ` +
        "in Node, pass { gpu: create([]) } with create from the 'webgpu' package",
    );
  }
  const adapter = await gpu.requestAdapter(options.powerPreference === undefined ? undefined : { powerPreference: options.powerPreference });
  if (adapter === null) throw new ValueError(`${op}: no WebGPU adapter is available here (requestAdapter returned null)`);
  // Ask for the adapter's own limits: the defaults cap a storage binding at 128 MiB.
  const { maxStorageBufferBindingSize, maxBufferSize, maxComputeWorkgroupStorageSize } = adapter.limits;
  return adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize, maxBufferSize, maxComputeWorkgroupStorageSize } });
}


/**
 * What the `webgpu` backend promises, as options of `conformanceSuite` (from
 * `@backprop/ndarray/test`): float32 only; results within 2⁻¹⁹·(1 + |r|)
 * of the host backends' r (absolute below 1, relative above; they are
 * exact to the bit), test/accuracy.test.ts holding the tails of the smooth
 * activations to a relative 1e-5; subnormals and
 * infinities inside built-in functions left to the GPU; checks of values
 * (`firstOutside`) run on the device and report at the next read.
 */
export const GPU_CONFORMANCE = {
  floats: ['float32'],
  tolerance: 2 ** -19,
  specials: false,
  synchronousChecks: false,
} as const;
