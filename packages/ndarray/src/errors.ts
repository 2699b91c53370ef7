/**
 * Error types shared by every backprop package. Each message names the
 * operation, what it was given and what it expected, so a user can fix the
 * call without reading our source.
 */

/** Shapes that do not fit the operation (broadcasting, matmul, a layer's input). */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Arrays of different dtypes mixed in one operation, or a dtype an operation does not take. */
export class DTypeError extends TypeError {
  override name = 'DTypeError';
}

/** An option, argument or value outside what the operation accepts (unknown option, NaN, out of range). */
export class ValueError extends RangeError {
  override name = 'ValueError';
}

/** `[8, 3]`: how every error message writes a shape. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Rejects options an operation does not know, so a typo such as `{ momentun: 0.9 }`
 * fails at once instead of being silently ignored.
 */
export function checkOptions(
  op: string,
  options: object | undefined,
  known: readonly string[],
): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(`${op}: options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ValueError(
        `${op}: unknown option '${key}'; expected one of ${known.map((k) => `'${k}'`).join(', ')}`,
      );
    }
  }
}

/** Throws unless `value` is one of `allowed`; names the option and the choices. */
export function checkChoice<T extends string>(
  op: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new ValueError(
      `${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/** Throws unless `value` is a boolean, naming the option. */
export function checkBoolean(op: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new ValueError(`${op}: ${name} must be true or false, got ${describe(value)}`);
  }
  return value;
}

/**
 * Throws unless `value` is a finite number within the bounds.
 * `min`/`max` are inclusive unless `exclusiveMin`/`exclusiveMax` say otherwise.
 */
export function checkNumber(
  op: string,
  name: string,
  value: unknown,
  bounds: {
    min?: number;
    max?: number;
    exclusiveMin?: boolean;
    exclusiveMax?: boolean;
    integer?: boolean;
  } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${op}: ${name} must be a finite number, got ${describe(value)}`);
  }
  if (bounds.integer && !Number.isInteger(value)) {
    throw new ValueError(`${op}: ${name} must be an integer, got ${value}`);
  }
  const { min, max } = bounds;
  if (min !== undefined && (bounds.exclusiveMin ? value <= min : value < min)) {
    throw new ValueError(
      `${op}: ${name} must be ${bounds.exclusiveMin ? '>' : '>='} ${min}, got ${value}`,
    );
  }
  if (max !== undefined && (bounds.exclusiveMax ? value >= max : value > max)) {
    throw new ValueError(
      `${op}: ${name} must be ${bounds.exclusiveMax ? '<' : '<='} ${max}, got ${value}`,
    );
  }
  return value;
}

/** A short, readable description of any value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return `a function ${value.name || '(anonymous)'}`;
  // Recognised by its fields, not its class name, which a bundler may rename.
  const a = value as { shape?: unknown; dtype?: unknown; storage?: unknown };
  if (Array.isArray(a.shape) && typeof a.dtype === 'string' && typeof a.storage === 'object' && a.storage !== null) {
    return `an NDArray of shape ${formatShape(a.shape)} (${a.dtype})`;
  }
  const ctor = (value as object).constructor?.name;
  if (ctor === 'Object' || ctor === undefined) return `an object with keys ${JSON.stringify(Object.keys(value as object))}`;
  return `${/^[AEIOU]/.test(ctor) ? 'an' : 'a'} ${ctor}`;
}
