/**
 * numpy's `str(array)` for float arrays (numpy >= 1.14 defaults: precision 8,
 * floatmode 'maxprec', line width 75, summarised past 1000 elements with 3 edge
 * items), so a value printed here reads like the notebook it was ported from.
 */
import type { DType } from './dtype';

interface Printable {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: ArrayLike<number>;
}

const PRECISION = 8;
const LINE_WIDTH = 75;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
/**
 * The most dimensions printed element by element: numpy 2's limit
 * (NPY_MAXDIMS), so every array numpy can hold prints as numpy prints it. An
 * array of more dimensions prints as `[...]`: its nesting (a bracket, an indent
 * and a blank line per axis) would otherwise grow with a hostile rank.
 */
export const MAX_PRINTED_NDIM = 64;

export interface FormatOptions {
  /** Text the caller prints before the array, so wrapped lines align under it. */
  prefix?: string;
  separator?: string;
}

export function formatArray(array: Printable, options: FormatOptions = {}): string {
  // numpy prints every zero-size array as `[]`, whatever its shape; nothing
  // below may walk a dimension of one, which may be huge ([2147483648, 0]).
  if (isZeroSize(array.shape)) return '[]';
  if (array.shape.length > MAX_PRINTED_NDIM) return '[...]';
  const separator = options.separator ?? (options.prefix ? ', ' : ' ');
  const { shape, data } = array;
  const summarize = data.length > THRESHOLD;
  const shown = summarize ? collectShown(shape, data) : Array.from(data);
  const format = array.dtype === 'int32' ? intFormatter(shown) : floatFormatter(shown, array.dtype);
  if (shape.length === 0) return format(data[0]);

  const strides = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const hangingIndent = ' '.repeat(1 + (options.prefix?.length ?? 0));

  const recurse = (axis: number, offset: number, indent: string, width: number): string => {
    const axesLeft = shape.length - axis;
    const n = shape[axis];
    const nextIndent = `${indent} `;
    const nextWidth = width - 1;
    const showSummary = summarize && 2 * EDGE_ITEMS < n;
    const indices = showSummary
      ? [...range(0, EDGE_ITEMS), -1, ...range(n - EDGE_ITEMS, n)]
      : range(0, n);
    let s = '';
    if (axesLeft === 1) {
      const elemWidth = width - Math.max(separator.trimEnd().length, 1);
      let line = indent;
      indices.forEach((i, k) => {
        const word = i < 0 ? '...' : format(data[offset + i * strides[axis]]);
        const isLast = k === indices.length - 1;
        [s, line] = extendLine(s, line, word, isLast ? width - 1 : elemWidth, indent);
        if (!isLast) line += separator;
      });
      s += line;
    } else {
      const lineSep = separator.trimEnd() + '\n'.repeat(axesLeft - 1);
      indices.forEach((i, k) => {
        const nested =
          i < 0 ? '...' : recurse(axis + 1, offset + i * strides[axis], nextIndent, nextWidth);
        s += indent + nested + (k === indices.length - 1 ? '' : lineSep);
      });
    }
    return `[${s.slice(indent.length)}]`;
  };
  return recurse(0, 0, hangingIndent, LINE_WIDTH);
}

/**
 * numpy's `repr(array)`, with the dtype always shown: `array([1., 2.], dtype=float32)`.
 * A zero-size array shows its shape unless it is `(0,)`, as numpy's does:
 * `array([], shape=(2, 0), dtype=float32)`; an array of more than
 * {@link MAX_PRINTED_NDIM} dimensions shows how many: `array([...], ndim=100000, dtype=float32)`.
 */
export function formatRepr(array: Printable): string {
  const body = formatArray(array, { prefix: 'array(' });
  const { shape } = array;
  let extra = '';
  if (shape.length > MAX_PRINTED_NDIM) extra = `, ndim=${shape.length}`;
  else if (isZeroSize(shape) && shape.length !== 1) extra = `, shape=(${shape.join(', ')})`;
  return `array(${body}${extra}, dtype=${array.dtype})`;
}

function isZeroSize(shape: readonly number[]): boolean {
  return shape.includes(0);
}

function extendLine(
  s: string,
  line: string,
  word: string,
  width: number,
  indent: string,
): [string, string] {
  // numpy does not wrap when the line holds nothing but the indent: it would not help.
  if (line.length + word.length > width && line.length > indent.length) {
    s += `${line.trimEnd()}\n`;
    line = indent;
  }
  return [s, line + word];
}

function range(start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(i);
  return out;
}

/** The values a summarised print shows: the edge items along every axis. */
function collectShown(shape: readonly number[], data: ArrayLike<number>): number[] {
  const out: number[] = [];
  const walk = (axis: number, offset: number, stride: number): void => {
    if (axis === shape.length) {
      out.push(data[offset]);
      return;
    }
    const n = shape[axis];
    const inner = stride / n;
    const idx = 2 * EDGE_ITEMS < n ? [...range(0, EDGE_ITEMS), ...range(n - EDGE_ITEMS, n)] : range(0, n);
    for (const i of idx) walk(axis + 1, offset + i * inner, inner);
  };
  walk(0, 0, data.length);
  return out;
}

/** Significant digits of the shortest decimal that reads back as `x` in its dtype. */
function shortestSignificant(x: number, dtype: DType): number {
  if (x === 0) return 1;
  if (dtype === 'float64') return x.toExponential().split('e')[0].replace(/[-.]/g, '').length;
  for (let p = 1; p < 9; p++) {
    if (Math.fround(Number(x.toExponential(p - 1))) === x) return p;
  }
  return 9;
}

function exponentOf(x: number): number {
  return x === 0 ? 0 : Number(x.toExponential().split('e')[1]);
}

function signOf(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** `1.5`, `2.`, `0.12345679`: the shortest digits, at most PRECISION after the point. */
function positional(x: number, dtype: DType): string {
  const a = Math.abs(x);
  const frac = Math.max(0, shortestSignificant(a, dtype) - 1 - exponentOf(a));
  let s = a.toFixed(Math.min(PRECISION, frac));
  if (!s.includes('.')) s += '.';
  else s = s.replace(/0+$/, '');
  return signOf(x) + s;
}

/** `[mantissa, exponent]` for scientific notation, mantissa trimmed like positional(). */
function scientific(x: number, dtype: DType): [string, number] {
  const a = Math.abs(x);
  const digits = Math.min(PRECISION, shortestSignificant(a, dtype) - 1);
  const [m, e] = a.toExponential(digits).split('e');
  let mantissa = m.includes('.') ? m.replace(/0+$/, '') : `${m}.`;
  mantissa = signOf(x) + mantissa;
  return [mantissa, Number(e)];
}

/** numpy's integer columns: every value right-aligned to the widest. */
function intFormatter(values: number[]): (x: number) => string {
  const width = Math.max(1, ...values.map((v) => String(v).length));
  return (x) => String(x).padStart(width);
}

function floatFormatter(values: number[], dtype: DType): (x: number) => string {
  const finite = values.filter(Number.isFinite);
  const nonZero = finite.map(Math.abs).filter((v) => v !== 0);
  const maxVal = nonZero.length ? Math.max(...nonZero) : 0;
  const minVal = nonZero.length ? Math.min(...nonZero) : 0;
  const expFormat = maxVal >= 1e8 || (nonZero.length > 0 && (minVal < 1e-4 || maxVal / minVal > 1e3));
  const nonFinite = (x: number): string => (Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');

  // numpy widens the integer part so that nan, inf and -inf fit the column.
  const hasNonFinite = finite.length !== values.length;
  const negInf = values.some((x) => x === Number.NEGATIVE_INFINITY);
  const fitNonFinite = (padLeft: number, padRight: number): number =>
    hasNonFinite ? Math.max(padLeft, 3 - (padRight + 1), 3 + (negInf ? 1 : 0) - (padRight + 1)) : padLeft;

  if (expFormat) {
    const parts = finite.map((x) => scientific(x, dtype));
    const precision = Math.max(0, ...parts.map(([m]) => m.split('.')[1].length));
    const expSize = Math.max(2, ...parts.map(([, e]) => String(Math.abs(e)).length));
    const padRight = precision + 2 + expSize;
    const padLeft = fitNonFinite(Math.max(0, ...parts.map(([m]) => m.split('.')[0].length)), padRight);
    const width = padLeft + 1 + padRight;
    return (x) => {
      if (!Number.isFinite(x)) return nonFinite(x).padStart(width);
      const [m, e] = scientific(x, dtype);
      const [int, frac] = m.split('.');
      const exp = `e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(expSize, '0')}`;
      return `${int.padStart(padLeft)}.${frac.padEnd(precision, '0')}${exp}`;
    };
  }
  const strs = finite.map((x) => positional(x, dtype));
  const padRight = Math.max(0, ...strs.map((s) => s.split('.')[1].length));
  const padLeft = fitNonFinite(Math.max(0, ...strs.map((s) => s.split('.')[0].length)), padRight);
  return (x) => {
    if (!Number.isFinite(x)) return nonFinite(x).padStart(padLeft + 1 + padRight);
    const [int, frac] = positional(x, dtype).split('.');
    return `${int.padStart(padLeft)}.${frac.padEnd(padRight)}`;
  };
}
