import { defineConfig } from 'tsup';

export default defineConfig({
  // Three entries: the datasets and loader (browser-safe), the MNIST recipe
  // (browser-safe) and the MNIST reader (Node: it reads the `mnist` package's files).
  entry: { index: 'src/index.ts', mnist: 'src/mnist/index.ts', 'mnist-node': 'src/mnist/node.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  target: 'es2022',
  // Shared code goes into one chunk for both formats, so `TensorDataset` and
  // `MnistDataError` are one class whichever entry a program loads them through.
  splitting: true,
  // import.meta.url in the CommonJS build (the reader resolves the mnist package from it).
  shims: true,
  // Keep `node:fs` as written: the reader is Node-only, and the prefix says so to a bundler.
  removeNodeProtocol: false,
});
