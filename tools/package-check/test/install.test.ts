import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsumerProject } from '../src/consumer';
import {
  consumerTsconfig,
  firstJsBlock,
  listExportsCjs,
  listExportsEsm,
  trainCjs,
  trainEsm,
  typedConsumers,
} from '../src/consumers';
import { publishedPackages, withDependencies } from '../src/repo';

const packed = new Map(inject('packed').map((p) => [p.name, p]));
const workspace = publishedPackages();

interface Scenario {
  label: string;
  /** What the user asked for. */
  wanted: string;
  /** The tarballs installed: the package and its dependencies, nothing else. */
  packages: string[];
}

const scenarios: Scenario[] = [
  ...workspace.map((p) => ({
    label: `${p.name} alone`,
    wanted: p.name,
    packages: withDependencies(p.name, workspace),
  })),
  { label: 'all four together', wanted: 'all', packages: workspace.map((p) => p.name) },
];

describe.each(scenarios)('$label, installed from its tarballs into a fresh npm project', (scenario) => {
  const project = new ConsumerProject(scenario.wanted.replace(/^@backprop\//, ''));
  const tarballs = scenario.packages.map((name) => packed.get(name)!.tarball);

  beforeAll(async () => {
    await project.install(tarballs);
  });
  afterAll(() => project.remove());

  it('installs offline, with exactly the packages it needs', () => {
    expect(project.installedScope()).toEqual([...scenario.packages].sort());
    for (const name of scenario.packages) {
      const installed = JSON.parse(project.readInstalled(name, 'package.json'));
      expect(installed.version).toBe(packed.get(name)!.version);
      for (const [dep, range] of Object.entries<string>(installed.dependencies ?? {})) {
        expect(range, `${name} → ${dep}`).toMatch(/^\^\d+\.\d+\.\d+$/);
      }
    }
  });

  it('imports with ESM and requires with CJS, with the same exports as the workspace build', async () => {
    project.write('exports.mjs', listExportsEsm(scenario.packages));
    project.write('exports.cjs', listExportsCjs(scenario.packages));
    const esm = JSON.parse(await project.node('exports.mjs'));
    const cjs = JSON.parse(await project.node('exports.cjs'));
    for (const name of scenario.packages) {
      const built = Object.keys(await import(name)).sort();
      expect(built.length).toBeGreaterThan(5);
      expect(esm[name], `${name} from import`).toEqual(built);
      expect(cjs[name], `${name} from require`).toEqual(built);
    }
  });

  it('type-checks a consumer against the shipped .d.ts: node16 from ESM and CJS, and bundler', async () => {
    const files: Record<'node16' | 'bundler', string[]> = { node16: [], bundler: [] };
    for (const name of scenario.packages) {
      const short = name.replace(/^@backprop\//, '');
      const code = typedConsumers[name];
      // .mts resolves the "import" condition (index.d.ts), .cts the "require" one (index.d.cts).
      files.node16.push(project.write(`ts/${short}.mts`, code), project.write(`ts/${short}.cts`, code));
      files.bundler.push(project.write(`ts/${short}.ts`, code));
    }
    project.write('tsconfig.node16.json', consumerTsconfig('node16', files.node16));
    project.write('tsconfig.bundler.json', consumerTsconfig('bundler', files.bundler));
    await Promise.all([project.tsc('tsconfig.node16.json'), project.tsc('tsconfig.bundler.json')]);
  });

  if (scenario.wanted === 'all') {
    it('trains a tiny Sequential with ESM and with CJS: the loss falls, identically in both', async () => {
      project.write('train.mjs', trainEsm);
      project.write('train.cjs', trainCjs);
      const [esm, cjs] = await Promise.all([project.node('train.mjs'), project.node('train.cjs')]);
      const losses: number[] = JSON.parse(esm);
      expect(losses).toHaveLength(30);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0] / 4);
      expect(JSON.parse(cjs)).toEqual(losses);
    });

    it('passes arrays and parameters between the CommonJS and ES module builds', async () => {
      // One process, two copies of every class: layers (ESM) gets an array made by
      // ndarray's CJS build, and the CJS optimizer gets the ESM layer's parameters.
      project.write(
        'mixed.mjs',
        `import { createRequire } from 'node:module';
import * as esmNd from '@backprop/ndarray';
import { Linear } from '@backprop/layers';
const require = createRequire(import.meta.url);
const cjsNd = require('@backprop/ndarray');
const { SGD } = require('@backprop/optimizers');
const x = cjsNd.array([[1, 2, 3]]);
const layer = new Linear(3, 2, { rng: new esmNd.TorchGenerator(0) });
const y = layer.forward(x);
layer.backward(cjsNd.onesLike(y));
const before = Array.from(layer.weight.value.data);
new SGD(layer.parameters(), { lr: 0.1 }).step();
console.log(JSON.stringify({
  twoClasses: cjsNd.NDArray !== esmNd.NDArray,
  crossInstanceof: x instanceof esmNd.NDArray && layer.weight instanceof cjsNd.Parameter,
  outputShape: y.shape,
  moved: Array.from(layer.weight.value.data).every((w, i) => w !== before[i]),
}));
`,
      );
      expect(JSON.parse(await project.node('mixed.mjs'))).toEqual({
        twoClasses: true,
        crossInstanceof: true,
        outputShape: [1, 2],
        moved: true,
      });
    });
  } else {
    it("runs the README's example", async () => {
      const source = workspace.find((p) => p.name === scenario.wanted)!;
      const example = firstJsBlock(readFileSync(join(source.dir, 'README.md'), 'utf8'));
      expect(example, 'a ```js block in the README').toBeDefined();
      project.write('readme-example.mjs', example!);
      const output = await project.node('readme-example.mjs');
      expect(output.length).toBeGreaterThan(0);
    });
  }
});
