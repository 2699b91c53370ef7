import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type PackedPackage, packPackages } from '../src/pack';
import { publishedPackages } from '../src/repo';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Every published package, packed once with `pnpm pack`. */
    packed: PackedPackage[];
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const destination = mkdtempSync(join(tmpdir(), 'backprop-pack-'));
  const packed = await packPackages(publishedPackages(), destination);
  project.provide('packed', [...packed.values()]);
  return () => rmSync(destination, { recursive: true, force: true });
}
