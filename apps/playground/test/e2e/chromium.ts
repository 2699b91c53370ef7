import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

/** Where the end-to-end tests leave their screenshots (git ignores it). */
export const SHOTS = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url));

/** Debian's Chromium: the browser the end-to-end tests drive (playwright-core downloads none). */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags the browser runs with: headless, no sandbox (root in CI), nothing that reaches the network on its own. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * The flags of a browser with WebGPU, on SwiftShader (a GPU in software, so
 * the same everywhere): WebGPU is behind a flag on Linux, and
 * `--disable-gpu` would take it away. As packages/webgpu's browser tests
 * launch it (test/browser/chromium.ts there).
 */
export const WEBGPU_FLAGS = [...CHROMIUM_FLAGS.filter((flag) => flag !== '--disable-gpu'), '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

/**
 * Chromium's path, installing Debian's package first when it is missing and
 * this process may (root, with apt-get), so that the README's test command
 * works on a fresh machine; otherwise fails at once with the command that
 * fixes it.
 */
export function requireChromium(path = CHROMIUM): string {
  if (existsSync(path)) return path;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && path === CHROMIUM && spawnSync('apt-get', ['--version']).status === 0) {
    console.log('e2e: Chromium is missing; installing it with apt-get install -y chromium');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { env, stdio: 'inherit' }).status === 0;
    if (!install()) {
      spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
      install();
    }
    if (existsSync(path)) return path;
  }
  throw new Error(
    `The playground's end-to-end tests drive Chromium at ${path}, which is not installed` +
      `${root ? ' (apt-get could not install it)' : ''}. ` +
      'Install it with: apt-get install -y chromium (sudo apt-get install -y chromium when not root). ' +
      '.ci/run installs it before running the tests.',
  );
}

/** A browser the tests drive: its context, its one page, and `close` (which also removes its profile). */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile and one 1280×900 page, and
 * collects into `errors` everything that should not happen: console errors,
 * uncaught page errors, and (when `worker` names it) the page's worker closing.
 * `webgpu`: with WebGPU on SwiftShader ({@link WEBGPU_FLAGS}) instead of no GPU.
 */
export async function openBrowser({ errors, worker, webgpu = false }: { errors: string[]; worker?: string; webgpu?: boolean }): Promise<BrowserSession> {
  const executablePath = requireChromium();
  mkdirSync(SHOTS, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), 'playground-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args: webgpu ? WEBGPU_FLAGS : CHROMIUM_FLAGS, viewport: { width: 1280, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  if (worker !== undefined) page.on('worker', (w) => w.on('close', () => errors.push(`${worker} closed`)));
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
