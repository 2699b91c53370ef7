/**
 * `printSizes` prints each package's minified + gzipped ESM size, and what a bundle that
 * imports only `Linear` costs. With --write, also updates the "Size:" line of
 * each package README.
 *
 * Run it as `pnpm --filter @backprop/package-check sizes [--write]` (src/sizes-cli.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, formatKb, gzipSize, packageSize } from './bundle';
import { publishedPackages } from './repo';

export const SIZE_COMMAND = 'pnpm --filter @backprop/package-check sizes';

/** The README line that records a package's size. */
export function sizeLine(gzipped: number, minified: number, hasDependencies: boolean): string {
  return (
    `Size: ${formatKb(gzipped)} minified + gzipped (${formatKb(minified)} minified), ` +
    `the whole ESM build${hasDependencies ? ' without its dependencies' : ''}; a bundler keeps only what you import. ` +
    `Measured with \`${SIZE_COMMAND}\`.`
  );
}

export async function printSizes(): Promise<void> {
  const write = process.argv.includes('--write');
  const packages = publishedPackages();
  console.log('package                 raw        minified   min+gzip');
  for (const pkg of packages) {
    const size = await packageSize(pkg);
    console.log(
      `${pkg.name.padEnd(22)}  ${formatKb(size.raw).padStart(9)}  ${formatKb(size.minified).padStart(9)}  ${formatKb(size.gzipped).padStart(9)}`,
    );
    if (write) {
      const readme = join(pkg.dir, 'README.md');
      const text = readFileSync(readme, 'utf8');
      if (!/^Size: .*$/m.test(text)) throw new Error(`${readme} has no line starting with "Size: " to update`);
      writeFileSync(readme, text.replace(/^Size: .*$/m, sizeLine(size.gzipped, size.minified, Object.keys(pkg.manifest.dependencies ?? {}).length > 0)));
    }
  }
  const here = fileURLToPath(new URL('.', import.meta.url));
  const entry = "import { Linear } from '@backprop/layers';\nexport const model = new Linear(784, 10);\n";
  const alone = await bundle(entry, here, { minify: true, external: ['@backprop/ndarray'] });
  const whole = await bundle(entry, here, { minify: true });
  console.log(`\nimport { Linear } from '@backprop/layers', bundled and minified:`);
  console.log(`  layers' code only (ndarray external)  ${formatKb(gzipSize(alone)).padStart(9)} gzipped`);
  console.log(`  with the ndarray code it uses         ${formatKb(gzipSize(whole)).padStart(9)} gzipped`);
}
