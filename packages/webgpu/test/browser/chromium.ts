/**
 * The Node side of the browser tests: bundles ./page.ts with esbuild, serves
 * it from 127.0.0.1 (localhost is a secure context, which WebGPU needs), and
 * drives Debian's Chromium headless through playwright-core, on SwiftShader's
 * WebGPU adapter, one case at a time.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, type JSHandle, type Page, chromium } from 'playwright-core';
import { CHROMIUM, requirePackages } from '../system';
import { type AdapterInfo, type Outcome, PAGE_GLOBAL, type PageReady, type PageTests, type TestNode } from './protocol';

/**
 * Chromium's flags besides Playwright's headless defaults: no sandbox (CI
 * runs as root), WebGPU (behind a flag on Linux) on SwiftShader, the same
 * CPU Vulkan everywhere. Not `--enable-features=Vulkan`: Skia fails to start
 * on SwiftShader's Vulkan (it lacks samplerYcbcrConversion) and the page
 * never loads.
 */
export const WEBGPU_FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

/** How long the page may take to load, create its backend and collect its cases. */
const READY_MS = 60_000;

/** The page in Chromium, ready to run its cases. */
export interface BrowserTests {
  /** Chromium's version. */
  chromium: string;
  adapter: AdapterInfo;
  tree: TestNode[];
  /** Runs case `id` in the page; rejects with its failure, or with the page's errors raised while it ran. */
  run(id: number): Promise<void>;
  /** Runs the page's remaining `afterAll`s and closes the browser and the server; rejects when a hook failed. */
  close(): Promise<void>;
}

export async function openBrowserTests(): Promise<BrowserTests> {
  requirePackages(['chromium']);
  const server = await serve(await bundlePage());
  let browser: Browser | undefined;
  const shutdown = async () => {
    await browser?.close();
    await stop(server);
  };
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: WEBGPU_FLAGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
    });
    const [tests, ready] = await load(page, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, errors);
    return {
      chromium: browser.version(),
      ...ready,
      async run(id) {
        const outcome: Outcome = await tests.evaluate((t, id) => t.run(id), id);
        const failures = [...(outcome.ok ? [] : [outcome.message]), ...errors.splice(0)];
        if (failures.length > 0) throw inPage(failures);
      },
      async close() {
        try {
          const failures = [...(await tests.evaluate((t) => t.finish())), ...errors.splice(0)];
          if (failures.length > 0) throw inPage(failures);
        } finally {
          await shutdown();
        }
      },
    };
  } catch (error) {
    await shutdown();
    throw error;
  }
}

/** An Error with the page's messages and no stack of its own (which would only point here, not at the page). */
function inPage(messages: string[]): Error {
  const error = new Error(messages.join('\n'));
  error.stack = `Error: ${error.message}`;
  return error;
}

/**
 * Opens the page and waits for its tests (a handle on them in the page) and
 * for their backend and cases, failing with the page's own errors when it
 * never gets there.
 */
async function load(page: Page, url: string, errors: string[]): Promise<[JSHandle<PageTests>, PageReady]> {
  try {
    await page.goto(url);
    const tests = (await page.waitForFunction((name) => (globalThis as Record<string, unknown>)[name], PAGE_GLOBAL, {
      timeout: READY_MS,
    })) as JSHandle<PageTests>;
    return [tests, await tests.evaluate((t) => t.ready)];
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`the test page did not start: ${why}${errors.length > 0 ? `\n${errors.join('\n')}` : ''}`);
  }
}

/** ./page.ts and everything it imports, as one ES module for the browser. */
async function bundlePage(): Promise<string> {
  const noFs = fileURLToPath(new URL('./no-fs.ts', import.meta.url));
  const { outputFiles } = await build({
    entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: { fs: noFs, 'node:fs': noFs },
    write: false,
    logLevel: 'silent',
  });
  return outputFiles[0].text;
}

const HTML = '<!doctype html><meta charset="utf-8"><title>@backprop/webgpu in Chromium</title><script type="module" src="/page.js"></script>';

/** An HTTP server on a free port of 127.0.0.1 with the page and its script. */
async function serve(script: string): Promise<Server> {
  const files: Record<string, [type: string, body: string]> = {
    '/': ['text/html', HTML],
    '/page.js': ['text/javascript', script],
  };
  const server = createServer((request, response) => {
    const file = files[request.url ?? ''];
    if (file === undefined) {
      response.writeHead(request.url === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    response.writeHead(200, { 'content-type': `${file[0]}; charset=utf-8`, 'cache-control': 'no-store' }).end(file[1]);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
