import { type NDArray, add, mul } from '@backprop/ndarray';
import type { ClassLayout } from './class-targets';
import type { Scratch } from './scratch';

/**
 * The target distribution A of cross-entropy on class probabilities q, an
 * array of the prediction's shape: A = w·((1 − ε)·q + ε/C); the loss is
 * −Σ A·log p / rows, and its gradient with respect to log p is −A / rows.
 * (On class indices, ndarray's `nllLoss` kernels compute the same without
 * forming A.)
 *
 * w is the per-class weight (1 without one), laid along the class axis so the
 * ops' broadcasting applies it; every array is scratch, kept between calls.
 */
export class TargetDistribution {
  constructor(private readonly scratch: Scratch) {}

  /** A for class probabilities `q` (the prediction's shape): w·((1 − ε)·q + ε/C). */
  fromProbabilities(q: NDArray, layout: ClassLayout, weight: NDArray | undefined, epsilon: number): NDArray {
    const s = this.scratch;
    const dtype = q.dtype;
    let a = q;
    if (epsilon > 0) {
      a = s.like('a', q);
      add(mul(q, s.constant(1 - epsilon, dtype), a), s.constant(epsilon / layout.classes, dtype), a);
    }
    if (weight !== undefined) a = mul(a, weight.reshape(layout.classShape), s.like('a', q));
    return a;
  }
}
