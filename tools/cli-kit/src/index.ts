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

/** A bad command line: the message names the flag and the value; the process exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** `--flag`'s value as an integer from `min` to `max`, or a {@link UsageError} that names the flag, the range and the value. */
export function integerFlag(flag: string, value: string, min: number, max: number): number {
  const n = /^\+?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** `--flag`'s value when it is one of `allowed`, or a {@link UsageError} that lists them and names the closest. */
export function choiceFlag<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got '${value}'${didYouMean(value, allowed, (v) => `'${v}'`)}`);
  }
  return value as T;
}

/** Where an app's report goes: stdout, or anything with `write` (tests capture it). */
export interface ReportStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Control characters (C0 with newline and tab, DEL, C1) and the bidirectional marks and overrides. */
function isUnprintable(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * `text` safe to write to a terminal on one line: every control character
 * (escape sequences move the cursor, recolour, retitle or clear the screen;
 * a newline fakes a line of output) and every bidirectional override is
 * written as a visible `\x1b` / `\u202e`. Anything read from a file goes
 * through it before it is printed.
 */
export function printable(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (!isUnprintable(code)) out += char;
    else out += code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/**
 * How a command that threw ends, as its exit code: a {@link UsageError} prints
 * its message and where the usage is (2); an error of one of `expected` (a
 * missing or corrupt file, a run that diverged) prints one line, made
 * {@link printable} since it may quote a file (1); anything else is a bug and
 * is thrown again.
 */
export function exitCodeFor(
  app: string,
  error: unknown,
  stderr: ReportStream,
  // biome-ignore lint/suspicious/noExplicitAny: error classes with any constructor.
  expected: readonly (abstract new (...args: any[]) => Error)[],
): number {
  if (error instanceof UsageError) {
    stderr.write(`${app}: ${error.message}\nRun with --help for usage.\n`);
    return error.exitCode;
  }
  if (expected.some((kind) => error instanceof kind)) {
    stderr.write(`${app}: ${printable((error as Error).message)}\n`);
    return 1;
  }
  throw error;
}

/** Linear interpolation of `values` onto `width` points, so a chart of a few points still draws a readable line. */
export function stretch(values: readonly number[], width: number): number[] {
  if (values.length <= 1) return new Array(width).fill(values[0] ?? 0);
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const t = (i / (width - 1)) * (values.length - 1);
    const lo = Math.floor(t);
    const hi = Math.min(lo + 1, values.length - 1);
    out.push(values[lo] + (values[hi] - values[lo]) * (t - lo));
  }
  return out;
}
