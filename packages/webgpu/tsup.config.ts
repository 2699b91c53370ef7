import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // The declarations name WebGPU's types (GPUDevice, GPU, GPUPowerPreference), which come from @webgpu/types, a
  // dependency: the reference makes a user's tsc load them with no setup (a "types" list, or "types": [] as
  // `tsc --init` writes, would leave them out). It is a banner because the .d.ts bundler drops the directive from
  // src/index.ts, and TypeScript writes none of its own since 5.5.
  dts: { banner: '/// <reference types="@webgpu/types" />' },
  sourcemap: true,
  clean: true,
  treeshake: true,
  target: 'es2022',
});
