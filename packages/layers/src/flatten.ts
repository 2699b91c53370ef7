import { type NDArray, ShapeError, ValueError, checkNumber, formatShape } from '@backprop/ndarray';
import { checkArrayArg, checkOutputGrad } from './checks';
import { NeuralLayer } from './layer';

/**
 * Flattens dimensions `startDim`..`endDim` (inclusive, negative counting from
 * the end) into one, as `torch.nn.Flatten(start_dim=1, end_dim=-1)`: [N, C, H, W]
 * becomes [N, C·H·W], keeping the batch dimension. The output shares the
 * input's data (a view); backward reshapes the gradient back.
 *
 * @example new Flatten().forward(zeros([32, 1, 5, 5])).shape    // [32, 25]
 * @example new Flatten(0, 2).forward(zeros([32, 1, 5, 5])).shape // [160, 5]
 */
export class Flatten extends NeuralLayer {
  readonly startDim: number;
  readonly endDim: number;
  #inputShape?: readonly number[];
  #outputShape?: readonly number[];
  #dtype?: NDArray['dtype'];

  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = checkNumber('Flatten', 'startDim', startDim, { integer: true });
    this.endDim = checkNumber('Flatten', 'endDim', endDim, { integer: true });
  }

  override get typeName(): string {
    return this.namedAs(Flatten, 'Flatten');
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }

  protected override label(): string {
    return `Flatten(${this.startDim}, ${this.endDim})`;
  }

  forward(input: NDArray): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    // A 0-d array flattens as if it had one dimension of size 1, as in torch.
    const ndim = Math.max(input.ndim, 1);
    const start = wrapDim(op, 'startDim', this.startDim, ndim, input.shape);
    const end = wrapDim(op, 'endDim', this.endDim, ndim, input.shape);
    if (start > end) {
      throw new ValueError(
        `${op}: startDim (dimension ${start}) comes after endDim (dimension ${end}) for an input of shape ${formatShape(input.shape)}`,
      );
    }
    const shape = input.ndim === 0 ? [1] : input.shape;
    let merged = 1;
    for (let d = start; d <= end; d++) merged *= shape[d];
    const outputShape = [...shape.slice(0, start), merged, ...shape.slice(end + 1)];
    this.#inputShape = input.shape;
    this.#outputShape = outputShape;
    this.#dtype = input.dtype;
    return input.reshape(outputShape);
  }

  backward(outputGrad: NDArray): NDArray {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#outputShape, this.#dtype ?? 'float32');
    return grad.reshape(this.#inputShape!);
  }
}

function wrapDim(op: string, name: string, dim: number, ndim: number, shape: readonly number[]): number {
  if (dim < -ndim || dim >= ndim) {
    throw new ShapeError(
      `${op}: ${name} ${dim} is out of range for an input of shape ${formatShape(shape)} ` +
        `(expected a dimension in [${-ndim}, ${ndim - 1}])`,
    );
  }
  return dim < 0 ? dim + ndim : dim;
}
