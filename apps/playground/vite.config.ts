import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { babyNames } from './plugins/baby-names';
import { mnistDigits } from './plugins/mnist-digits';

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative URLs: the built site works from any folder of any static host.
  base: './',
  plugins: [mnistDigits(), babyNames()],
  // The training worker is an ES module (new Worker(url, { type: 'module' })).
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    reportCompressedSize: true,
    // Two pages: the MNIST page and the character-LM page (charlm.html).
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('index.html', import.meta.url)),
        charlm: fileURLToPath(new URL('charlm.html', import.meta.url)),
      },
    },
  },
  // Cross-origin isolation, so the training worker may share memory with a
  // second thread (SharedArrayBuffer; ndarray's setNumThreads). A static host
  // serving the built site needs the same two headers for it; without them
  // the page trains on one thread.
  server: { port: 5173, headers: ISOLATION },
  preview: { headers: ISOLATION },
});
