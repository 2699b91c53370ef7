import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedPackages, repoRoot, workspacePackages } from '../src/repo';
import { type Bump, changesetText, versionInSandbox } from '../src/versioning';

const published = publishedPackages();
const everyone = workspacePackages();

function bump(version: string, kind: Bump): string {
  const [major, minor, patch] = version.split('.').map(Number);
  if (kind === 'major') return `${major + 1}.0.0`;
  if (kind === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

/** The published packages that list `name` as a runtime dependency. */
function dependantsOf(name: string): string[] {
  return published.filter((p) => p.manifest.dependencies?.[name]).map((p) => p.name);
}

describe('changesets: independent versions', () => {
  it('are configured: no fixed or linked groups, dependants patched, private packages left alone', () => {
    const config = JSON.parse(readFileSync(join(repoRoot, '.changeset/config.json'), 'utf8'));
    expect(config.fixed).toEqual([]);
    expect(config.linked).toEqual([]);
    expect(config.updateInternalDependencies).toBe('patch');
    expect(config.___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH).toEqual({ updateInternalDependents: 'always' });
    expect(config.privatePackages).toEqual({ version: false, tag: false });
    const scripts = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts;
    expect(scripts).toMatchObject({ changeset: 'changeset', 'version-packages': 'changeset version' });
    expect(scripts.release).toMatch(/changeset publish/);
  });

  it('give every published package a CHANGELOG.md', () => {
    for (const pkg of published) {
      expect(readFileSync(join(pkg.dir, 'CHANGELOG.md'), 'utf8')).toMatch(new RegExp(`^# ${pkg.name}\\n`));
    }
  });

  it('version a leaf package alone: a minor change to @backprop/losses bumps only losses', async () => {
    expect(dependantsOf('@backprop/losses')).toEqual([]);
    const result = await versionInSandbox({
      'demo-losses': changesetText({ '@backprop/losses': 'minor' }, 'Add `KLDivLoss`.'),
    });
    for (const pkg of everyone) {
      const expected = pkg.name === '@backprop/losses' ? bump(pkg.version, 'minor') : pkg.version;
      expect(result.after.get(pkg.name), pkg.name).toBe(expected);
    }
    const changelog = result.changelogs.get('@backprop/losses')!;
    expect(changelog).toContain(`## ${bump(result.before.get('@backprop/losses')!, 'minor')}\n\n### Minor Changes`);
    expect(changelog).toContain('Add `KLDivLoss`.');
    for (const pkg of published.filter((p) => p.name !== '@backprop/losses')) {
      expect(result.changelogs.get(pkg.name)).toBe(readFileSync(join(pkg.dir, 'CHANGELOG.md'), 'utf8'));
    }
  });

  for (const kind of ['minor', 'patch'] as const) {
    it(`version a dependency with its dependants: a ${kind} to @backprop/ndarray patches layers, losses, optimizers, data, onnx and webgpu`, async () => {
      const ndarray = '@backprop/ndarray';
      const dependants = dependantsOf(ndarray);
      expect(dependants.sort()).toEqual([
        '@backprop/data',
        '@backprop/layers',
        '@backprop/losses',
        '@backprop/onnx',
        '@backprop/optimizers',
        '@backprop/webgpu',
      ]);
      const result = await versionInSandbox({
        [`demo-ndarray-${kind}`]: changesetText({ [ndarray]: kind }, 'Faster `matmul` for skinny matrices.'),
      });
      const newNdarray = bump(result.before.get(ndarray)!, kind);
      for (const pkg of everyone) {
        const expected =
          pkg.name === ndarray ? newNdarray : dependants.includes(pkg.name) ? bump(pkg.version, 'patch') : pkg.version;
        // Private packages (apps, this tool) are never versioned.
        expect(result.after.get(pkg.name), pkg.name).toBe(expected);
      }
      expect(result.changelogs.get(ndarray)).toContain(`## ${newNdarray}\n`);
      expect(result.changelogs.get(ndarray)).toContain('Faster `matmul` for skinny matrices.');
      for (const name of dependants) {
        const changelog = result.changelogs.get(name)!;
        expect(changelog).toContain(`## ${result.after.get(name)}\n\n### Patch Changes\n\n- Updated dependencies\n  - ${ndarray}@${newNdarray}`);
        // The workspace range stays symbolic; `pnpm publish` writes ^<new version> into the tarball.
        expect(result.manifests.get(name)!.dependencies?.[ndarray]).toBe('workspace:^');
      }
    });
  }

  it('the pending changesets name published packages and bump exactly those and their dependants', async () => {
    const dir = join(repoRoot, '.changeset');
    const pending = Object.fromEntries(
      readdirSync(dir)
        .filter((f) => f.endsWith('.md') && f !== 'README.md')
        .map((f) => [f.slice(0, -3), readFileSync(join(dir, f), 'utf8')]),
    );
    const bumps = new Map<string, Bump>();
    for (const [id, text] of Object.entries(pending)) {
      const match = /^---\n([\s\S]*?)\n---\n\n?(\S[\s\S]*)$/.exec(text);
      expect(match, `${id}.md is a changeset: front matter, then a summary`).not.toBeNull();
      for (const line of match![1].split('\n')) {
        const release = /^["']?(@backprop\/[\w-]+)["']?:\s*(patch|minor|major)$/.exec(line.trim());
        expect(release, `${id}.md: ${line}`).not.toBeNull();
        const [, name, kind] = release! as unknown as [string, string, Bump];
        expect(published.map((p) => p.name), `${id}.md names ${name}`).toContain(name);
        const order: Bump[] = ['patch', 'minor', 'major'];
        const previous = bumps.get(name);
        if (!previous || order.indexOf(kind) > order.indexOf(previous)) bumps.set(name, kind);
      }
    }
    const result = await versionInSandbox(pending);
    for (const pkg of everyone) {
      const direct = bumps.get(pkg.name);
      const dependant = [...bumps.keys()].some((name) => pkg.manifest.dependencies?.[name]) && !pkg.manifest.private;
      const expected = direct ? bump(pkg.version, direct) : dependant ? bump(pkg.version, 'patch') : pkg.version;
      expect(result.after.get(pkg.name), pkg.name).toBe(expected);
    }
  });
});
