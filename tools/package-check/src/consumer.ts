import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanEnv, run } from './exec';

const require = createRequire(import.meta.url);

/**
 * A fresh npm project under the OS temp directory, outside the workspace, that
 * installs packed tarballs the way a user's project installs from the registry.
 */
export class ConsumerProject {
  readonly dir: string;

  constructor(label: string) {
    this.dir = mkdtempSync(join(tmpdir(), `backprop-consumer-${label}-`));
    this.write('package.json', `${JSON.stringify({ name: `consumer-${label}`, private: true }, null, 2)}\n`);
  }

  /**
   * `npm install --offline` of every tarball at once, so that a dependency range
   * such as `@backprop/ndarray@^0.1.0` resolves to the tarball beside it. The npm
   * cache is a fresh, empty directory: anything that needed the registry fails.
   */
  async install(tarballs: readonly string[]): Promise<void> {
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', ...tarballs], {
      cwd: this.dir,
      env: cleanEnv({
        npm_config_cache: join(this.dir, '.npm-cache'),
        npm_config_update_notifier: 'false',
      }),
    });
  }

  /** The package names under node_modules/@backprop. */
  installedScope(scope = '@backprop'): string[] {
    try {
      return readdirSync(join(this.dir, 'node_modules', scope))
        .map((name) => `${scope}/${name}`)
        .sort();
    } catch {
      return [];
    }
  }

  readInstalled(name: string, file: string): string {
    return readFileSync(join(this.dir, 'node_modules', name, file), 'utf8');
  }

  write(file: string, content: string): string {
    const path = join(this.dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  /** Runs a script with this Node.js and returns what it printed. */
  async node(file: string): Promise<string> {
    const { stdout } = await run(process.execPath, [file], { cwd: this.dir, env: cleanEnv() });
    return stdout;
  }

  /** `tsc -p <tsconfig>` with the workspace's TypeScript. */
  async tsc(tsconfig: string): Promise<void> {
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', tsconfig], { cwd: this.dir, env: cleanEnv() });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
