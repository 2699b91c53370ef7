/**
 * How the names reach the page: the pack the Vite plugin
 * (plugins/baby-names.ts) ships and the worker reads. The names themselves,
 * their vocabulary, the fixed split and the encoding are
 * `@backprop/data/names`, as for apps/charlm. Browser-safe: no Node module.
 */
import { NamesDataError } from '@backprop/data/names';

/** The first line of a names pack: the magic, then the number of names. */
const MAGIC = 'BPNAMES1';

/**
 * The names as a pack: `BPNAMES1 <count>` and one name a line (UTF-8). The
 * plugin gzips it; 30,294 names are 220 kB of text and about 80 kB gzipped.
 */
export function packNames(names: readonly string[]): Uint8Array {
  for (const name of names) {
    if (!/^[a-z]+$/.test(name)) throw new NamesDataError(`packNames: a name is lower-case letters a-z, got ${JSON.stringify(name)}`);
  }
  return new TextEncoder().encode(`${MAGIC} ${names.length}\n${names.join('\n')}\n`);
}

/** Reads a pack written by {@link packNames}; anything else is a `NamesDataError` saying what was found. */
export function unpackNames(bytes: Uint8Array): string[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const lines = text.split('\n');
  const header = /^BPNAMES1 (\d+)$/.exec(lines[0]);
  if (header === null) throw new NamesDataError(`not a names pack: expected the first line '${MAGIC} <count>', got ${JSON.stringify(lines[0].slice(0, 40))}`);
  if (lines.at(-1) !== '') throw new NamesDataError('the names pack is cut short: it does not end with a newline');
  const names = lines.slice(1, -1);
  if (names.length !== Number(header[1])) throw new NamesDataError(`the names pack says ${header[1]} names but holds ${names.length}`);
  const bad = names.findIndex((name) => !/^[a-z]+$/.test(name));
  if (bad >= 0) throw new NamesDataError(`name ${bad + 1} of the pack is ${JSON.stringify(names[bad].slice(0, 40))}; expected lower-case letters a-z`);
  return names;
}
