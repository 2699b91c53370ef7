import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type PackedPackage, packPackages, packTypeDependencies } from '../src/pack';
import { publishedPackages } from '../src/repo';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Every published package, packed once with `pnpm pack`. */
    packed: PackedPackage[];
    /** The third-party packages our packages' types need (`@webgpu/types`), packed from the workspace's copies with `npm pack`. */
    packedTypes: PackedPackage[];
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const destination = mkdtempSync(join(tmpdir(), 'backprop-pack-'));
  const published = publishedPackages();
  const [packed, packedTypes] = await Promise.all([packPackages(published, destination), packTypeDependencies(published, destination)]);
  project.provide('packed', [...packed.values()]);
  project.provide('packedTypes', [...packedTypes.values()]);
  return () => rmSync(destination, { recursive: true, force: true });
}
