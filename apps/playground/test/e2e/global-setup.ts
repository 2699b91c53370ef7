/**
 * Before the browser tests: checks that Chromium is there (failing at once
 * if not), builds the static site into a temporary folder and serves it with
 * `vite preview` on a free port, which the tests read with `inject('baseURL')`
 * (and the folder with `inject('siteDir')`, to open it as files).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';
import type { TestProject } from 'vitest/node';
import { requireChromium } from './chromium';

declare module 'vitest' {
  export interface ProvidedContext {
    baseURL: string;
    siteDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  requireChromium();
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const configFile = join(root, 'vite.config.ts');
  const outDir = mkdtempSync(join(tmpdir(), 'playground-site-'));
  const started = performance.now();
  await build({ root, configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({
    root,
    configFile,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (url === undefined) throw new Error('vite preview did not report the URL it serves');
  console.log(`e2e: built the site and serving it at ${url} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  project.provide('baseURL', url);
  project.provide('siteDir', outDir);
  return async () => {
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  };
}
