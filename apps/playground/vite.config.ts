import { defineConfig } from 'vite';
import { mnistDigits } from './plugins/mnist-digits';

export default defineConfig({
  // Relative URLs: the built site works from any folder of any static host.
  base: './',
  plugins: [mnistDigits()],
  // The training worker is an ES module (new Worker(url, { type: 'module' })).
  worker: { format: 'es' },
  build: { target: 'es2022', reportCompressedSize: true },
  server: { port: 5173 },
});
