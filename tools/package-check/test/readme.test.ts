import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstJsBlock } from '../src/consumers';
import { relativeLinks } from '../src/links';
import { publishedPackages, withDependencies } from '../src/repo';
import { SIZE_COMMAND } from '../src/sizes';

describe.each(publishedPackages())('$name README', (pkg) => {
  const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');

  it('says what it is, how to install it, shows an example, its API, how it relates to the others, and its size', () => {
    expect(readme).toMatch(new RegExp(`^# ${pkg.name}\\n\\n\\S`));
    // Our packages it depends on, which a user imports too; a types-only dependency (@webgpu/types) comes by itself.
    const deps = Object.keys(pkg.manifest.dependencies ?? {}).filter((dep) => dep.startsWith('@backprop/'));
    expect(readme).toContain(`npm install ${[pkg.name, ...deps].join(' ')}`);
    // Its first js block is run against the packed tarballs by install.test.ts.
    expect(firstJsBlock(readme)).toMatch(new RegExp(`from '${pkg.name}'`));
    expect(readme).toMatch(/^## API/m);
    expect(readme).toMatch(/^## How it (fits|relates)/m);
    expect(readme).toMatch(new RegExp(`^Size: .*minified \\+ gzipped.*\`${SIZE_COMMAND}\``, 'm'));
  });

  it('says how to install it before it is on npm: packed with every @backprop package it needs', () => {
    const needed = withDependencies(pkg.name, publishedPackages());
    expect(readme).toContain(`pnpm turbo run build --filter=${pkg.name}...`);
    expect(readme).toContain(`pnpm ${needed.map((name) => `--filter ${name}`).join(' ')} pack --pack-destination /tmp/backprop-tarballs`);
    expect(readme).toContain('npm install /tmp/backprop-tarballs/*.tgz');
  });

  it('links only to absolute URLs and its own anchors, which work on the npm page too', () => {
    expect(relativeLinks(readme)).toEqual([]);
  });
});

describe('relativeLinks', () => {
  it('finds every link that works only inside the repository', () => {
    const markdown = [
      'Built on [`@backprop/ndarray`](../ndarray) and [the design](./DESIGN.md "why").',
      '![a chart](docs/chart.svg) and [contributing][c]; <a href="../../CONTRIBUTING.md">more</a>',
      '<img src="logo.png">',
      '',
      '[c]: ../../CONTRIBUTING.md',
    ].join('\n');
    expect(relativeLinks(markdown)).toEqual(['../ndarray', './DESIGN.md', 'docs/chart.svg', '../../CONTRIBUTING.md', '../../CONTRIBUTING.md', 'logo.png']);
  });

  it('lets absolute URLs, anchors and code through', () => {
    const markdown = [
      '[ndarray](https://github.com/backprop-js/backprop/tree/main/packages/ndarray), [API](#api),',
      '[mail](mailto:a@b.c), [cdn](//cdn.example/x.js), <https://example.com>, <a href="#top">top</a>',
      'Call `SCHEDULERS[name](opt, options)` or ``a[0](b)``.',
      '```js',
      'const s = new SCHEDULERS[config.scheduler](opt, config.schedule);',
      '[x]: ./not-a-definition',
      '```',
      '~~~',
      'f[1](../also-code)',
      '~~~',
    ].join('\n');
    expect(relativeLinks(markdown)).toEqual([]);
    expect(() => relativeLinks(undefined as unknown as string)).toThrow('relativeLinks: expected markdown text, got undefined');
  });
});
