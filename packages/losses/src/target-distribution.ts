import { type Backend, type NDArray, add, arange, equal, getBackend, mul, sum } from '@backprop/ndarray';
import type { ClassLayout } from './class-targets';
import type { Scratch } from './scratch';

/**
 * The target distribution A of a classification loss, an array of the
 * prediction's shape: the loss is −Σ A·log p / divisor, and its gradient with
 * respect to log p is −A / divisor. CrossEntropyLoss and NLLLoss are this one
 * composition; they differ only in where log p comes from.
 *
 * - Class indices y: A = (1 − ε)·w[y]·onehot(y) + (ε/C)·w on every counted
 *   row, a zero row where y is `ignoreIndex`; 'mean' divides by Σ w[y].
 * - Class probabilities q: A = w·((1 − ε)·q + ε/C); 'mean' divides by the rows.
 *
 * w is the per-class weight (1 without one), laid along the class axis so the
 * ops' broadcasting applies it; every array is scratch, kept between calls.
 */
export class TargetDistribution {
  private range: NDArray | undefined;
  private rangeKey = '';
  private rangeBackend: Backend | undefined;

  constructor(private readonly scratch: Scratch) {}

  /**
   * A for class indices `picks` (int32, the layout's rowShape; −1 matches no
   * class), and Σ_c w[c]·onehot(y)[c] per row: w[y], or 0 on an ignored row.
   */
  fromIndices(
    picks: NDArray,
    prediction: NDArray,
    layout: ClassLayout,
    weight: NDArray | undefined,
    epsilon: number,
  ): { a: NDArray; rowWeight: NDArray } {
    const s = this.scratch;
    const dtype = prediction.dtype;
    const w = weight?.reshape(layout.classShape);
    // onehot(y): picks [.., 1, ..] against 0..C−1 [1, C, 1..] (a comparison may write any dtype).
    const a = equal(picks, this.classRange(layout), s.like('a', prediction));
    const counted = epsilon > 0 && w !== undefined ? sum(a, layout.axis, true, s.take('counted', layout.rowShape, dtype)) : undefined;
    if (w !== undefined) mul(a, w, a);
    const rowWeight = sum(a, layout.axis, true, s.take('rowWeight', layout.rowShape, dtype));
    if (epsilon > 0) {
      // (1 − ε)·w[y]·onehot(y) + (ε/C)·w on counted rows (counted = rowWeight without a weight: 1 or 0).
      const spread = s.constant(epsilon / layout.classes, dtype);
      const smoothing =
        w === undefined
          ? mul(rowWeight, spread, s.take('smoothing', layout.rowShape, dtype))
          : mul(counted as NDArray, mul(w, spread, s.take('spread', layout.classShape, dtype)), s.like('smoothing', prediction));
      add(mul(a, s.constant(1 - epsilon, dtype), a), smoothing, a);
    }
    return { a, rowWeight };
  }

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

  /** 0, 1, …, C − 1 (int32) along the class axis, made once per layout and backend. */
  private classRange(layout: ClassLayout): NDArray {
    const key = layout.classShape.join(',');
    const backend = getBackend();
    if (this.range === undefined || key !== this.rangeKey || backend !== this.rangeBackend) {
      this.range = arange(0, layout.classes, 1, { dtype: 'int32' }).reshape(layout.classShape);
      this.rangeKey = key;
      this.rangeBackend = backend;
    }
    return this.range;
  }
}
