import { defineConfig } from 'tsup';

export default defineConfig({
  // `test` is `@backprop/ndarray/test`, the helpers every package's tests share.
  entry: { index: 'src/index.ts', test: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  // One copy of the shared code (NDArray, the kernel registry) for both entries, in CommonJS too.
  splitting: true,
  target: 'es2022',
});
