import { Loss } from '@backprop/losses';
import { type NDArray, checkFinite, checkSameShape, sub } from '@backprop/ndarray';

/**
 * ½·Σ(a − y)²: seed notebook 001's `l2_loss(L2A, y).sum()`, and the example of
 * a loss written outside the packages. Its gradient is simply a − y.
 */
export class HalfSumSquaredError extends Loss {
  private difference?: NDArray;

  constructor() {
    super('HalfSumSquaredError', { reduction: 'sum' }, ['reduction']);
  }

  forward(prediction: NDArray, target: NDArray): number {
    checkSameShape(this.op, 'prediction', prediction, 'target', target);
    checkFinite(this.op, 'prediction', prediction);
    checkFinite(this.op, 'target', target);
    this.difference = sub(prediction, target);
    let total = 0;
    for (const d of this.difference.data) total += 0.5 * d * d;
    return total;
  }

  backward(outputGrad = 1): NDArray {
    if (!this.difference) return this.notReady();
    const grad = this.difference.clone();
    for (let i = 0; i < grad.size; i++) grad.data[i] *= outputGrad;
    return grad;
  }
}
