import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';
import type { WorkspacePackage } from './repo';

export interface BundleOptions {
  /** Package names left as imports instead of bundled. */
  external?: string[];
  minify?: boolean;
  /** esbuild's platform (default 'neutral'); 'browser' resolves as a web bundler does. */
  platform?: 'neutral' | 'browser';
}

/**
 * Bundles an ESM entry the way an application's bundler would (esbuild, ESM,
 * honouring `sideEffects: false`) and returns the bundle's code. Bare imports
 * resolve from `resolveDir`, so from the workspace's built packages here.
 */
export async function bundle(entry: string, resolveDir: string, options: BundleOptions = {}): Promise<string> {
  const result = await build({
    stdin: { contents: entry, resolveDir, sourcefile: 'entry.js', loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: options.platform ?? 'neutral',
    target: 'es2022',
    external: options.external ?? [],
    minify: options.minify ?? false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export interface Size {
  /** Bytes of the file as shipped. */
  raw: number;
  /** Bytes after esbuild's minifier. */
  minified: number;
  /** Bytes of the minified code after gzip -9. */
  gzipped: number;
}

export function gzipSize(code: string): number {
  return gzipSync(code, { level: 9 }).length;
}

/** Minified + gzipped size of ESM code, minified by esbuild as a bundler would. */
export async function sizeOf(code: string): Promise<Size> {
  const { code: minified } = await transform(code, { minify: true, format: 'esm', target: 'es2022', loader: 'js' });
  return {
    raw: Buffer.byteLength(code),
    minified: Buffer.byteLength(minified),
    gzipped: gzipSize(minified),
  };
}

/**
 * The size of a package's ESM build (`dist/index.js`, the whole package, its
 * dependencies excluded). A build split into chunks (@backprop/data's entry
 * points share code) is bundled first, so the chunks its index imports count.
 */
export async function packageSize(pkg: WorkspacePackage): Promise<Size> {
  const index = join(pkg.dir, 'dist', 'index.js');
  const code = readFileSync(index, 'utf8');
  if (!/\bfrom\s*['"]\.\.?\//.test(code)) return sizeOf(code);
  const result = await build({
    entryPoints: [index],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    external: Object.keys(pkg.manifest.dependencies ?? {}),
    logLevel: 'silent',
  });
  return sizeOf(result.outputFiles[0].text);
}

/** "12.3 kB" (1 kB = 1000 bytes, as npm and bundlephobia count). */
export function formatKb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}
