import { type NDArray, type TypedArray, checkFinite } from '@backprop/ndarray';
import { broadcastIndex, checkSameDType } from './validate';

/**
 * An optional weight array read as if broadcast to the prediction's shape,
 * without materialising the broadcast: the index map is built once per
 * prediction shape, so a training loop allocates nothing per step. The weight's
 * values are read live, so changing them in place takes effect (as a PyTorch
 * buffer would).
 */
export class WeightBroadcast {
  /** The weight's values, or undefined when there is no weight. */
  readonly data: TypedArray | undefined;
  private map: Int32Array | null = null;
  private shapeKey: string | undefined;

  constructor(
    private readonly op: string,
    private readonly name: string,
    private readonly weight: NDArray | undefined,
  ) {
    this.data = weight?.data;
  }

  /** Checks the weight against this prediction (dtype, broadcastable shape) and readies `at`. */
  prepare(prediction: NDArray): void {
    const weight = this.weight;
    if (weight === undefined) return;
    checkSameDType(this.op, 'prediction', prediction, this.name, weight);
    // Read live, so checked at every forward: a NaN set in place must not turn into a NaN loss.
    checkFinite(this.op, this.name, weight);
    const key = prediction.shape.join(',');
    if (key !== this.shapeKey) {
      this.map = broadcastIndex(this.op, this.name, weight.shape, prediction.shape);
      this.shapeKey = key;
    }
  }

  /** The weight that applies to flat prediction position `i` (call `prepare` first). */
  at(i: number): number {
    const data = this.data as TypedArray;
    return this.map === null ? data[i] : data[this.map[i]];
  }
}
