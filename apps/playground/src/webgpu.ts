/**
 * The workers' WebGPU backend, created once per worker: `createWebGpuBackend()`
 * of @backprop/webgpu requests an adapter and a device from `navigator.gpu`,
 * which dedicated workers have where the browser has WebGPU. Where it has
 * none, or grants no adapter, the page shows WebGPU disabled with the reason.
 */
import { type WebGpuBackend, createWebGpuBackend } from '@backprop/webgpu';
import type { WebGpuOffer } from './backends';

export interface WebGpu {
  offer: WebGpuOffer;
  /** The backend, where WebGPU started. */
  backend?: WebGpuBackend;
}

let started: Promise<WebGpu> | undefined;

/** The worker's WebGPU backend, or why there is none (asked once; later calls get the same answer). */
export function webGpu(): Promise<WebGpu> {
  started ??= start();
  return started;
}

async function start(): Promise<WebGpu> {
  const scope = globalThis as { navigator?: { gpu?: unknown }; isSecureContext?: boolean };
  if (scope.navigator?.gpu === undefined) {
    // Browsers offer WebGPU to secure contexts only (https, or localhost).
    const reason = scope.isSecureContext === false ? 'needs https or localhost' : 'not available in this browser';
    return { offer: { available: false, reason } };
  }
  try {
    const backend = await createWebGpuBackend();
    const info = backend.device.adapterInfo as GPUAdapterInfo | undefined;
    const adapter = info?.description || [info?.vendor, info?.architecture].filter((s) => typeof s === 'string' && s !== '').join(' ');
    // A lost device (a driver reset, a tab in the background too long) cannot run the next step.
    backend.device.lost.then((lost) => {
      if (lost.reason !== 'destroyed') console.warn(`playground: the WebGPU device was lost: ${lost.message}`);
    });
    return { backend, offer: { available: true, adapter } };
  } catch (error) {
    const message = (error as Error).message;
    const reason = /no WebGPU adapter/.test(message) ? 'no GPU adapter granted' : `could not start (${message})`;
    return { offer: { available: false, reason } };
  }
}
