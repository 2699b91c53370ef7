import { checkFloat } from './dtype';
import { ValueError, describe } from './errors';
import { NDArray } from './ndarray';
import { empty } from './ops/operand';

/**
 * A trainable array and its gradient: what layers own and optimizers update.
 * It lives here, in the array core, so that `@backprop/optimizers` never needs
 * `@backprop/layers` (as a variable lives in a tensor core).
 *
 * `grad` has the value's shape and dtype, starts at zero, and is *added* into
 * by every backward pass (PyTorch's accumulation) until `zeroGrad()`.
 * Optimizers update `value` in place, so references to it stay valid.
 */
/** Marks Parameters so `instanceof Parameter` holds across copies of this package (see NDArray). */
const PARAMETER = Symbol.for('@backprop/ndarray:Parameter');

export class Parameter {
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PARAMETER] === true;
  }

  get [PARAMETER](): true {
    return true;
  }

  /** The name in a state dict: `weight` inside its layer, `0.weight` once a `Sequential` owns the layer. */
  name: string;
  readonly value: NDArray;
  readonly grad: NDArray;

  constructor(value: NDArray, name = 'param') {
    if (!(value instanceof NDArray)) {
      throw new ValueError(`Parameter: value must be an NDArray, got ${describe(value)}`);
    }
    checkFloat('Parameter', 'value', value.dtype);
    this.value = value;
    this.name = name;
    this.grad = empty(value.shape, value.dtype);
  }

  get shape(): readonly number[] {
    return this.value.shape;
  }

  get dtype(): NDArray['dtype'] {
    return this.value.dtype;
  }

  get size(): number {
    return this.value.size;
  }

  zeroGrad(): void {
    this.grad.fill(0);
  }
}
