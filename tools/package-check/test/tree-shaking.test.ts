import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, formatKb, packageSize } from '../src/bundle';
import { publishedPackages } from '../src/repo';

// Bare imports resolve from here to the workspace's built packages, as from an app's node_modules.
const resolveDir = fileURLToPath(new URL('.', import.meta.url));

/** Names that exist only in the convolution and pooling code (the layers, and the ndarray ops they call). */
const CONV_AND_POOLING = ['im2col', 'col2im', 'Conv2d', 'MaxPool2d', 'AvgPool2d'];

/**
 * The bundle without its import statements of external packages: esbuild keeps
 * a module's whole import clause from an external package (ndarray's im2col
 * is named there even when the code that called it was dropped), and what
 * matters is the code that is left.
 */
function withoutExternalImports(code: string, external: readonly string[]): string {
  return code.replace(/^import\s*\{[^}]*\}\s*from\s*["']([^"']+)["'];?$/gm, (line, from: string) => (external.includes(from) ? '' : line));
}

describe.each([
  { label: 'ndarray left external', external: ['@backprop/ndarray'] },
  { label: 'ndarray bundled too', external: [] },
])('a bundle that imports only Linear ($label)', ({ external }) => {
  it("leaves out Conv2d's im2col kernel and the pooling layers", async () => {
    const code = await bundle(
      "import { Linear } from '@backprop/layers';\nexport const model = new Linear(784, 10);\n",
      resolveDir,
      { external },
    );
    expect(code).toMatch(/\bLinear = class\b|\bclass Linear\b/);
    const kept = withoutExternalImports(code, external);
    for (const name of CONV_AND_POOLING) expect(kept, name).not.toContain(name);
  });

  it('keeps them when Conv2d and MaxPool2d are imported (the check can see them)', async () => {
    const code = await bundle(
      "import { Conv2d, MaxPool2d } from '@backprop/layers';\nexport const layers = [new Conv2d(1, 8, 3), new MaxPool2d(2)];\n",
      resolveDir,
      { external },
    );
    const kept = withoutExternalImports(code, external);
    for (const name of ['im2col', 'col2im', 'Conv2d', 'MaxPool2d']) expect(kept, name).toContain(name);
    expect(kept).not.toContain('AvgPool2d');
  });
});

it('measures each package: minified + gzipped ESM build', async () => {
  const rows: string[] = [];
  for (const pkg of publishedPackages()) {
    const size = await packageSize(pkg);
    expect(size.minified).toBeLessThan(size.raw);
    expect(size.gzipped).toBeLessThan(size.minified);
    rows.push(`${pkg.name.padEnd(22)} ${formatKb(size.gzipped).padStart(8)} min+gzip (${formatKb(size.minified)} min)`);
  }
  console.log(rows.join('\n'));
});

describe('@backprop/data: the browser-safe entry points leave the Node-only reader out', () => {
  const nodeOnly = ['node:fs', 'readFileSync', 'createRequire', 'mnistDigitsDir'];

  it('a bundle of everything in @backprop/data (browser platform) holds no Node module and no MNIST code', async () => {
    const code = await bundle("export * from '@backprop/data';\n", resolveDir, { external: ['@backprop/ndarray'], platform: 'browser' });
    expect(code).toMatch(/\bDataLoader = class\b|\bclass DataLoader\b/);
    for (const name of [...nodeOnly, 'MnistDataError', 'prepareDigits']) expect(code, name).not.toContain(name);
  });

  it('a bundle of @backprop/data/mnist (what the playground worker imports) holds the split but nothing of the reader', async () => {
    const code = await bundle(
      "import { prepareDigits } from '@backprop/data/mnist';\nimport { DataLoader } from '@backprop/data';\nexport { prepareDigits, DataLoader };\n",
      resolveDir,
      { external: ['@backprop/ndarray'], platform: 'browser' },
    );
    expect(code).toContain('prepareDigits');
    for (const name of nodeOnly) expect(code, name).not.toContain(name);
  });

  it('a bundle that imports only DataLoader leaves out trainStep, evaluate and randomSplit', async () => {
    const code = await bundle("import { DataLoader } from '@backprop/data';\nexport const make = (d) => new DataLoader(d);\n", resolveDir, {
      external: ['@backprop/ndarray'],
    });
    expect(code).toMatch(/\bDataLoader = class\b|\bclass DataLoader\b/);
    for (const name of ['trainStep', 'DivergedError', 'evaluate', 'argmaxRow', 'randomSplit']) expect(code, name).not.toContain(name);
  });
});
