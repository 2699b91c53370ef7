/**
 * Where a float32 formula loses its digits in the tails (log(1 + y) for a
 * tiny y, 1 + erf(x) far below 0, tanh near 0), the kernels keep them: the conformance
 * suite's tolerance is absolute below 1, so this checks relative errors.
 */
import { NDArray, gelu, geluBackward, mish, ones, softplus, tanh } from '@backprop/ndarray';
import { it } from 'vitest';
import { both, expectWithin, useGpu } from './reference';

useGpu();

/** Down to −9 for log(1 + eˣ); GELU only to −5, past which the reference itself (1 + erf in double, torch's formula) rounds to 0. */
const DEEP = new NDArray(Float32Array.from([-9, -7.5, -6, -5, -4, -3, -2.5, 1e-3, -1e-3, 1e-6]), [10]);
const SMALL = new NDArray(Float32Array.from([1e-4, -3e-3, 0.05, -0.099, 0.1, 0.2, 2, -9, 30]), [9]);
const GELU = new NDArray(Float32Array.from([-5, -4.5, -4, -3.5, -3, -2.5, 1e-3, -1e-3, 1e-6]), [9]);

it.each([
  ['gelu', GELU, (x: NDArray) => gelu(x)],
  ['geluBackward', GELU, (x: NDArray) => geluBackward(ones(x.shape), x)],
  ['softplus', DEEP, (x: NDArray) => softplus(x)],
  ['mish', DEEP, (x: NDArray) => mish(x)],
  ['tanh', SMALL, (x: NDArray) => tanh(x)],
] as const)('%s keeps a relative error below 1e-5 in its tails', async (_, values, op) => {
  const { expected, actual } = await both([values], op);
  expectWithin(actual, expected, (j) => 1e-5 * Math.abs(expected[j]));
});
