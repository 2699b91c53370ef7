/**
 * Option checks shared by the optimizers and schedulers. Every message names
 * the operation, the option, the value it got and the range it expected.
 *
 * @internal Not exported from the package.
 */
import { ValueError, describe } from '@backprop/ndarray';


/**
 * Throws unless `value` is a finite number in the interval, written the
 * mathematical way in the message: `[0, 1)`, `>= 0`, `> 0`.
 */
export function checkInterval(
  op: string,
  name: string,
  value: unknown,
  interval: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean; integer?: boolean } = {},
): number {
  const { min, max, minOpen = false, maxOpen = false, integer = false } = interval;
  let expected: string;
  if (min !== undefined && max !== undefined) {
    expected = `in ${minOpen ? '(' : '['}${min}, ${max}${maxOpen ? ')' : ']'}`;
  } else if (min !== undefined) {
    expected = `${minOpen ? '>' : '>='} ${min}`;
  } else if (max !== undefined) {
    expected = `${maxOpen ? '<' : '<='} ${max}`;
  } else {
    expected = 'finite';
  }
  if (integer) expected = expected === 'finite' ? 'an integer' : `an integer ${expected}`;
  else expected = expected === 'finite' ? 'a finite number' : `a number ${expected}`;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || (minOpen ? value > min : value >= min)) &&
    (max === undefined || (maxOpen ? value < max : value <= max));
  if (!ok) throw new ValueError(`${op}: ${name} must be ${expected}, got ${describe(value)}`);
  return value as number;
}

/** The learning rate: a finite number >= 0, as every torch optimizer requires. */
export function checkLr(op: string, value: unknown, name = 'lr'): number {
  return checkInterval(op, name, value, { min: 0 });
}

// Shared with every package: the one definition lives in @backprop/ndarray.
export { checkBoolean } from '@backprop/ndarray';
