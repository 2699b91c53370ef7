import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstJsBlock } from '../src/consumers';
import { publishedPackages } from '../src/repo';
import { SIZE_COMMAND } from '../src/sizes';

describe.each(publishedPackages())('$name README', (pkg) => {
  const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');

  it('says what it is, how to install it, shows an example, its API, how it relates to the others, and its size', () => {
    expect(readme).toMatch(new RegExp(`^# ${pkg.name}\\n\\n\\S`));
    const deps = Object.keys(pkg.manifest.dependencies ?? {});
    expect(readme).toContain(`npm install ${[pkg.name, ...deps].join(' ')}`);
    // Its first js block is run against the packed tarballs by install.test.ts.
    expect(firstJsBlock(readme)).toMatch(new RegExp(`from '${pkg.name}'`));
    expect(readme).toMatch(/^## API/m);
    expect(readme).toMatch(/^## How it (fits|relates)/m);
    expect(readme).toMatch(new RegExp(`^Size: .*minified \\+ gzipped.*\`${SIZE_COMMAND}\``, 'm'));
  });
});
