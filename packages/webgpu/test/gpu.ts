/**
 * The WebGPU backend the Node tests run on: Dawn from the `webgpu` package,
 * on SwiftShader's Vulkan driver (Debian's chromium package) unless
 * VK_ICD_FILENAMES already names a driver (a real GPU's).
 */
import { create } from 'webgpu';
import { type WebGpuBackend, createWebGpuBackend } from '../src/index';
import { SWIFTSHADER_ICD, requirePackages } from './system';

let backend: Promise<WebGpuBackend> | undefined;

/** One backend for the whole test file. */
export function webgpu(): Promise<WebGpuBackend> {
  if (backend === undefined) {
    if (process.env.VK_ICD_FILENAMES === undefined) {
      requirePackages(['chromium', 'libvulkan1']);
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    } else {
      requirePackages(['libvulkan1']);
    }
    backend = createWebGpuBackend({ gpu: create([]) });
  }
  return backend;
}
