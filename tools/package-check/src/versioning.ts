import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanEnv, run } from './exec';
import { type Manifest, readJson, repoRoot, workspacePackages } from './repo';

export type Bump = 'patch' | 'minor' | 'major';

export interface VersionResult {
  /** Version of every workspace package before and after `changeset version`, by name. */
  before: Map<string, string>;
  after: Map<string, string>;
  /** CHANGELOG.md of every package that has one, after. */
  changelogs: Map<string, string>;
  /** package.json of every package, after. */
  manifests: Map<string, Manifest>;
  /** What `changeset version` printed. */
  output: string;
}

/** A changeset file's text, in the format `pnpm changeset` writes. */
export function changesetText(releases: Record<string, Bump>, summary: string): string {
  const lines = Object.entries(releases).map(([name, bump]) => `"${name}": ${bump}`);
  return `---\n${lines.join('\n')}\n---\n\n${summary}\n`;
}

/**
 * Runs `changeset version` on a copy of the workspace's manifests (root
 * package.json, pnpm-workspace.yaml, .changeset/config.json, and each package's
 * package.json and CHANGELOG.md) in a temporary directory, with only the given
 * changesets pending. The repository itself is never touched.
 */
export async function versionInSandbox(changesets: Record<string, string>): Promise<VersionResult> {
  const sandbox = mkdtempSync(join(tmpdir(), 'backprop-changesets-'));
  try {
    for (const file of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
      mkdirSync(dirname(join(sandbox, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(sandbox, file));
    }
    const packages = workspacePackages();
    for (const pkg of packages) {
      mkdirSync(join(sandbox, pkg.relativeDir), { recursive: true });
      for (const file of ['package.json', 'CHANGELOG.md']) {
        const source = join(pkg.dir, file);
        if (existsSync(source)) cpSync(source, join(sandbox, pkg.relativeDir, file));
      }
    }
    // The changelog generator named in config.json resolves from the sandbox.
    symlinkSync(join(repoRoot, 'node_modules'), join(sandbox, 'node_modules'), 'junction');
    for (const [id, text] of Object.entries(changesets)) {
      writeFileSync(join(sandbox, '.changeset', `${id}.md`), text);
    }

    const rootRequire = createRequire(join(repoRoot, 'package.json'));
    const cliMain = rootRequire.resolve('@changesets/cli');
    const bin = join(dirname(cliMain), '..', 'bin.js');
    const { stdout, stderr } = await run(process.execPath, [bin, 'version'], { cwd: sandbox, env: cleanEnv() });

    const result: VersionResult = {
      before: new Map(packages.map((p) => [p.name, p.version])),
      after: new Map(),
      changelogs: new Map(),
      manifests: new Map(),
      output: stdout + stderr,
    };
    for (const pkg of packages) {
      const manifest = readJson<Manifest>(join(sandbox, pkg.relativeDir, 'package.json'));
      result.after.set(pkg.name, manifest.version);
      result.manifests.set(pkg.name, manifest);
      const changelog = join(sandbox, pkg.relativeDir, 'CHANGELOG.md');
      if (existsSync(changelog)) result.changelogs.set(pkg.name, readFileSync(changelog, 'utf8'));
    }
    return result;
  } finally {
    // Unlink the node_modules link first, so removing the sandbox cannot reach the repository's.
    rmSync(join(sandbox, 'node_modules'), { force: true });
    rmSync(sandbox, { recursive: true, force: true });
  }
}
