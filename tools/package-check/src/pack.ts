import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cleanEnv, run } from './exec';
import { type Manifest, TYPE_DEPENDENCIES, type WorkspacePackage, readJson } from './repo';
import { readTarball } from './tar';

/** One packed package: its tarball and the manifest inside it. */
export interface PackedPackage {
  name: string;
  version: string;
  tarball: string;
  /** package/package.json from the tarball: what npm will see. */
  manifest: Manifest;
  /** Every path in the tarball, without the leading `package/`. */
  files: string[];
}

/**
 * Packs each package with `pnpm pack` (which turns `workspace:` ranges into
 * semver ranges, as `pnpm publish` does) into `destination`.
 * The packages must be built: `pnpm pack` ships whatever `dist/` holds.
 */
export async function packPackages(
  packages: readonly WorkspacePackage[],
  destination: string,
): Promise<Map<string, PackedPackage>> {
  for (const pkg of packages) {
    if (!existsSync(join(pkg.dir, 'dist', 'index.js'))) {
      throw new Error(
        `${pkg.name} is not built (${pkg.relativeDir}/dist/index.js is missing): run \`pnpm build\` or \`turbo run test --filter=@backprop/package-check\`, which builds it first`,
      );
    }
  }
  const entries = await Promise.all(
    packages.map(async (pkg): Promise<[string, PackedPackage]> => {
      const out = join(destination, pkg.name.replace(/^@/, '').replace('/', '-'));
      mkdirSync(out, { recursive: true });
      await run('pnpm', ['pack', '--pack-destination', out], { cwd: pkg.dir, env: cleanEnv() });
      const tarballs = readdirSync(out).filter((f) => f.endsWith('.tgz'));
      if (tarballs.length !== 1) {
        throw new Error(`pnpm pack of ${pkg.name} wrote ${tarballs.join(', ') || 'nothing'}`);
      }
      const tarball = join(out, tarballs[0]);
      const contents = readTarball(tarball);
      const manifestBytes = contents.get('package/package.json');
      if (!manifestBytes) throw new Error(`${tarball} has no package/package.json`);
      return [
        pkg.name,
        {
          name: pkg.name,
          version: pkg.version,
          tarball,
          manifest: JSON.parse(manifestBytes.toString('utf8')) as Manifest,
          files: [...contents.keys()].map((f) => f.replace(/^package\//, '')).sort(),
        },
      ];
    }),
  );
  const packed = new Map(entries);
  return packed;
}

/** The directory of `name` as `from` resolves it: the nearest node_modules/<name> above it. */
function installedDir(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed where ${from} resolves it: run \`pnpm install\``);
  }
}

/**
 * Packs the third-party TYPE_DEPENDENCIES of `packages` (`@webgpu/types`)
 * from the copies the workspace installed, with `npm pack`, so that a consumer
 * project installs them offline beside our tarballs, as the registry would
 * serve them.
 */
export async function packTypeDependencies(
  packages: readonly WorkspacePackage[],
  destination: string,
): Promise<Map<string, PackedPackage>> {
  const sources = new Map<string, string>();
  for (const pkg of packages) {
    for (const dep of TYPE_DEPENDENCIES[pkg.name] ?? []) {
      if (!pkg.manifest.dependencies?.[dep]) throw new Error(`${pkg.name}: TYPE_DEPENDENCIES names ${dep}, which is not one of its dependencies`);
      if (!sources.has(dep)) sources.set(dep, installedDir(dep, pkg.dir));
    }
  }
  const entries = await Promise.all(
    [...sources].map(async ([name, dir]): Promise<[string, PackedPackage]> => {
      const out = join(destination, 'third-party', name.replace(/^@/, '').replace('/', '-'));
      mkdirSync(out, { recursive: true });
      await run('npm', ['pack', dir, '--pack-destination', out, '--ignore-scripts', '--offline'], {
        cwd: out,
        env: cleanEnv({ npm_config_cache: join(out, '.npm-cache'), npm_config_update_notifier: 'false' }),
      });
      const tarballs = readdirSync(out).filter((f) => f.endsWith('.tgz'));
      if (tarballs.length !== 1) throw new Error(`npm pack of ${name} wrote ${tarballs.join(', ') || 'nothing'}`);
      const tarball = join(out, tarballs[0]);
      const contents = readTarball(tarball);
      const manifest = readJson<Manifest>(join(dir, 'package.json'));
      return [
        name,
        { name, version: manifest.version, tarball, manifest, files: [...contents.keys()].map((f) => f.replace(/^package\//, '')).sort() },
      ];
    }),
  );
  return new Map(entries);
}
