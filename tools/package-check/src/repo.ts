import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo's root directory (this file is tools/package-check/src/repo.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The fields of a package.json that the checks read. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  type?: string;
  sideEffects?: boolean;
  main?: string;
  module?: string;
  types?: string;
  exports?: unknown;
  files?: string[];
  repository?: { type: string; url: string; directory?: string };
  homepage?: string;
  bugs?: unknown;
  engines?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

/** A package of the workspace. */
export interface WorkspacePackage {
  name: string;
  version: string;
  /** Absolute path of its directory. */
  dir: string;
  /** Its path relative to the repository root, with forward slashes (`packages/layers`). */
  relativeDir: string;
  manifest: Manifest;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/**
 * The directory globs of pnpm-workspace.yaml (`packages/*`, `apps/*`, ...).
 * Only the `dir/*` form is used in this repository, so only it is supported.
 */
export function workspaceGlobs(root = repoRoot): string[] {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const section = yaml.split(/^packages:\s*$/m)[1]?.split(/^\S/m)[0] ?? '';
  const globs = [...section.matchAll(/^\s+-\s+['"]?([^'"\s#]+)['"]?/gm)].map((m) => m[1]);
  for (const glob of globs) {
    if (!/^[\w.-]+\/\*$/.test(glob)) {
      throw new Error(`pnpm-workspace.yaml: only "dir/*" globs are supported here, got ${glob}`);
    }
  }
  return globs;
}

/** Every package of the workspace (not the root), sorted by path. */
export function workspacePackages(root = repoRoot): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const glob of workspaceGlobs(root)) {
    const parent = glob.slice(0, -2);
    let entries: string[];
    try {
      entries = readdirSync(join(root, parent));
    } catch {
      continue;
    }
    for (const entry of entries.sort()) {
      const relativeDir = `${parent}/${entry}`;
      let manifest: Manifest;
      try {
        manifest = readJson<Manifest>(join(root, relativeDir, 'package.json'));
      } catch {
        continue; // a directory without package.json (tools/torch-fixtures) is not a package
      }
      found.push({
        name: manifest.name,
        version: manifest.version,
        dir: join(root, relativeDir),
        relativeDir,
        manifest,
      });
    }
  }
  return found;
}

/**
 * The entry points a package exports besides the root, and the dist file each
 * builds to: `@backprop/ndarray/test` (`dist/test.*`, the helpers the
 * packages' tests share), `@backprop/data/mnist` (`dist/mnist.*`),
 * `@backprop/data/mnist/node` (`dist/mnist-node.*`), `@backprop/data/names`
 * (`dist/names.*`) and `@backprop/data/names/node` (`dist/names-node.*`);
 * the others have none.
 */
export const SUBPATH_EXPORTS: Record<string, Record<string, string>> = {
  '@backprop/ndarray': { './test': 'test' },
  '@backprop/data': { './mnist': 'mnist', './mnist/node': 'mnist-node', './names': 'names', './names/node': 'names-node' },
};

/** Every import specifier of a package: its name, then `name/subpath` for each subpath export. */
export function entrySpecifiers(name: string): string[] {
  return [name, ...Object.keys(SUBPATH_EXPORTS[name] ?? {}).map((subpath) => `${name}${subpath.slice(1)}`)];
}

/**
 * The third-party dependencies a package may have: only types its .d.ts
 * references, no code. `@backprop/webgpu`'s declarations name WebGPU's types
 * (`GPUDevice`, `GPU`), which are `@webgpu/types`' globals: its .d.ts starts
 * with `/// <reference types="@webgpu/types" />`, so a user's `tsc` loads
 * them with no setup, and nothing of it runs. Every other runtime dependency
 * is one of our packages.
 */
export const TYPE_DEPENDENCIES: Record<string, readonly string[]> = {
  '@backprop/webgpu': ['@webgpu/types'],
};

/**
 * The packages whose code needs a GPU: the install test imports and
 * type-checks them, and runs what works without one (not their README's
 * example).
 */
export const GPU_PACKAGES: readonly string[] = ['@backprop/webgpu'];

/** The packages users install: every workspace package that is not private. */
export function publishedPackages(root = repoRoot): WorkspacePackage[] {
  return workspacePackages(root).filter((p) => !p.manifest.private);
}

/**
 * A package and every one of our packages it needs at run time among
 * `packages`, itself first. A third-party dependency must be one of its
 * TYPE_DEPENDENCIES (types, no code), which are left out here:
 * `typeDependencies` lists them.
 */
export function withDependencies(name: string, packages: readonly WorkspacePackage[]): string[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const order: string[] = [];
  const visit = (current: string) => {
    if (order.includes(current)) return;
    const pkg = byName.get(current);
    if (!pkg) throw new Error(`${current} is not a published package of this workspace`);
    order.push(current);
    for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) {
      if (!TYPE_DEPENDENCIES[current]?.includes(dep)) visit(dep);
    }
  };
  visit(name);
  return order;
}

/** The TYPE_DEPENDENCIES of some of our packages, each once, sorted. */
export function typeDependencies(names: readonly string[]): string[] {
  return [...new Set(names.flatMap((name) => TYPE_DEPENDENCIES[name] ?? []))].sort();
}
