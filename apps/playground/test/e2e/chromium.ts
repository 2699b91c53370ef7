import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
