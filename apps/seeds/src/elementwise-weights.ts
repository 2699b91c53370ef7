import { NeuralLayer } from '@backprop/layers';
import { type NDArray, Parameter, ShapeError, add, formatShape, mul, sum } from '@backprop/ndarray';

/**
 * y = x ⊙ w with one weight per feature: the second layer of seed notebook 001
 * (`L2 = L1A * w2`). It is also the example of a layer written outside the
 * packages: assign the parameters (that makes them the layer's), keep what
 * backward needs, add into each parameter's grad and return the input's
 * gradient.
 */
export class ElementwiseWeights extends NeuralLayer {
  readonly weight: Parameter;
  private input?: NDArray;

  constructor(weights: NDArray) {
    super();
    this.weight = new Parameter(weights.clone(), 'weight');
  }

  forward(input: NDArray): NDArray {
    const n = this.weight.size;
    if (input.shape[input.ndim - 1] !== n) {
      throw new ShapeError(`${this.toString()}: expected input whose last dimension is ${n}, got ${formatShape(input.shape)}`);
    }
    this.input = input;
    return mul(input, this.weight.value);
  }

  backward(outputGrad: NDArray): NDArray {
    if (!this.input) throw new Error(`${this.toString()}: backward() called before forward()`);
    // dL/dw sums over every leading (batch) dimension; dL/dx is the grad scaled by w.
    const leading = [...Array(outputGrad.ndim - 1).keys()];
    add(this.weight.grad, sum(mul(outputGrad, this.input), leading), this.weight.grad);
    return mul(outputGrad, this.weight.value);
  }

  /** What `String(layer)` shows in the parentheses: `ElementwiseWeights(3)`. */
  override extraRepr(): string {
    return `${this.weight.size}`;
  }
}
