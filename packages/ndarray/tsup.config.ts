import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  // Error messages name classes (NDArray, Linear): keep the names through bundling.
  keepNames: true,
  target: 'es2022',
});
