/**
 * Numbers and tuples as Python's `repr` writes them, so `String(layer)` reads
 * as torch's `print(module)` (internal).
 */

/**
 * A float as `repr(float)`: `1e-05`, `0.0001`, `0.1`, `1.0`, `1e+16`, `nan`,
 * `inf`. Python switches to exponent notation below 1e-4 and from 1e16;
 * JavaScript's `String` only below 1e-6 and from 1e21.
 */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() gives the shortest digits that read back as x, as repr does.
  const [digits, exponentText] = x.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+';
    return `${digits}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = String(x);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** A number as Python prints an int when it is whole (`1`, `20`), else as a float (`0.5`). */
export function pythonNumber(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 1e16 ? String(x) : pythonFloat(x);
}

/** A tuple as Python prints it: `(3, 3)`, and a one-element tuple `(3,)`. */
export function pythonTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}
