/**
 * The initialisation `torch.nn.Linear` and `torch.nn.Conv2d` share
 * (`reset_parameters`), in torch's order of draws (internal).
 */
import { type Generator, type NDArray, defaultGenerator, fillUniform } from '@backprop/ndarray';
import { calculateFanInAndFanOut, kaimingUniform } from './init';

/**
 * The weight by kaiming-uniform with a = √5, then the bias (when there is
 * one) from U(−1/√fan_in, 1/√fan_in). A fan-in of 0 (a Linear with no inputs)
 * gives the bound 0, as Linear's does; a Conv2d always has a fan-in.
 */
export function resetAffineParameters(weight: NDArray, bias: NDArray | null, rng: Generator = defaultGenerator): void {
  kaimingUniform(weight, { a: Math.sqrt(5) }, rng);
  if (bias) {
    const [fanIn] = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    fillUniform(bias, -bound, bound, rng);
  }
}
