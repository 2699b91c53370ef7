import { closest, distance } from 'fastest-levenshtein';

/**
 * The known name a mistyped one most likely meant, or `undefined` when none
 * is close: the nearest by Levenshtein distance (the first of a tie, in the
 * order given), kept when at most two fifths of the typed characters (at least
 * one) would have to change. So `modle` → `model` and `cnm` → `cnn`, while
 * `x` or `lbfgs` suggest nothing rather than a guess. Case is ignored.
 */
export function suggest(given: string, known: readonly string[]): string | undefined {
  if (typeof given !== 'string') throw new TypeError(`suggest: given must be a string, got ${typeof given}`);
  if (!Array.isArray(known) || known.some((name) => typeof name !== 'string')) {
    throw new TypeError('suggest: known must be an array of strings');
  }
  if (known.length === 0 || given === '') return undefined;
  const lower = given.toLowerCase();
  const best = closest(lower, known.map((name) => name.toLowerCase()));
  if (distance(lower, best) > Math.max(1, Math.floor(given.length * 0.4))) return undefined;
  return known[known.findIndex((name) => name.toLowerCase() === best)];
}

/**
 * The end of a usage error that names the likely intended name: ` (did you
 * mean --model?)`, with `render` writing the name as the user would type it
 * (`(name) => \`--${name}\``, or quoted values); `''` when {@link suggest}
 * finds none.
 *
 * @example
 * `unknown flag --modle${didYouMean('modle', ['model', 'epochs'], (f) => `--${f}`)}`
 * // 'unknown flag --modle (did you mean --model?)'
 */
export function didYouMean(given: string, known: readonly string[], render: (name: string) => string = (name) => name): string {
  const best = suggest(given, known);
  return best === undefined ? '' : ` (did you mean ${render(best)}?)`;
}
