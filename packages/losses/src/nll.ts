import { type NDArray, ValueError, checkNumber, formatShape, zeros } from '@backprop/ndarray';
import {
  type ClassIndices,
  type ClassLayout,
  IGNORED,
  checkClassWeight,
  classLayout,
  ensureInt32,
  readClassIndices,
} from './class-targets';
import { Loss, type LossOptions } from './loss';
import { checkInput, checkWeightOption } from './validate';

/** Options of {@link NLLLoss}. */
export interface NLLLossOptions extends LossOptions {
  /** Per-class weight of shape [C]: rescales each class's terms (and, under 'mean', the divisor). */
  weight?: NDArray;
  /** A target value that contributes nothing (nor to the 'mean' divisor); default −100. */
  ignoreIndex?: number;
}

/**
 * Negative log-likelihood on log-probabilities (the output of a log-softmax):
 * ℓᵢ = −w[yᵢ]·x[i, yᵢ]; 'mean' divides the sum by Σ w[yᵢ] over the targets
 * that are not `ignoreIndex`. Input [B, C], [C] or [B, C, d1, …]; targets are
 * class indices as for {@link CrossEntropyLoss}, which is this loss after a
 * log-softmax. PyTorch: `torch.nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')`.
 *
 * @example
 * ```ts
 * const nll = new NLLLoss();
 * nll.forward(logProbabilities, labels);
 * const grad = nll.backward();  // −w[y]/Σw at each target, 0 elsewhere
 * ```
 */
export class NLLLoss extends Loss {
  /** The per-class weight, if any. */
  readonly weight: NDArray | undefined;
  /** The target value that is skipped. */
  readonly ignoreIndex: number;

  private targets = new Int32Array(0);
  private savedShape: readonly number[] | undefined;
  private savedDType: 'float32' | 'float64' = 'float32';
  private layout: ClassLayout | undefined;
  private divisor = 1;

  constructor(options: NLLLossOptions = {}) {
    super('NLLLoss', options, ['reduction', 'weight', 'ignoreIndex']);
    this.weight = checkWeightOption('NLLLoss', 'weight', options?.weight);
    this.ignoreIndex = checkNumber('NLLLoss', 'ignoreIndex', options?.ignoreIndex ?? -100, { integer: true });
  }

  /** The loss of log-probabilities `input` against class indices. */
  override forward(input: NDArray, target: NDArray | ClassIndices | number): number {
    const op = this.op;
    this.savedShape = undefined;
    checkInput(op, 'prediction', input);
    const layout = classLayout(op, input);
    checkClassWeight(op, this.weight, input, layout.classes);
    this.targets = ensureInt32(this.targets, layout.rows);
    readClassIndices(op, target, input, layout, this.ignoreIndex, this.targets, false);
    const x = input.data;
    const w = this.weight?.data;
    const { outer, classes: C, inner } = layout;
    let total = 0;
    let weightTotal = 0;
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < inner; s++) {
        const y = this.targets[o * inner + s];
        if (y === IGNORED) continue;
        const wy = w === undefined ? 1 : w[y];
        total -= wy * x[o * C * inner + y * inner + s];
        weightTotal += wy;
      }
    }
    if (this.reduction === 'mean' && weightTotal === 0) {
      throw new ValueError(
        `${op}: ${layout.rows === 0 ? `prediction of shape ${formatShape(input.shape)} holds no samples` : `every target is ignoreIndex (${this.ignoreIndex}) or has weight 0`}, ` +
          `so the 'mean' reduction would divide by zero (PyTorch returns NaN); expected at least one counted target, or reduction 'sum'`,
      );
    }
    this.divisor = this.reduction === 'mean' ? weightTotal : 1;
    this.layout = layout;
    this.savedShape = input.shape;
    this.savedDType = input.dtype;
    const value = total / this.divisor;
    return input.dtype === 'float32' ? Math.fround(value) : value;
  }

  /** dLoss/dInput for the last `forward`, scaled by `outputGrad`. */
  override backward(outputGrad = 1): NDArray {
    const shape = this.savedShape;
    const layout = this.layout;
    if (shape === undefined || layout === undefined) return this.notReady();
    const scale = this.gradScale(outputGrad, this.divisor);
    const result = zeros(shape, { dtype: this.savedDType });
    const grad = result.data;
    const w = this.weight?.data;
    const { outer, classes: C, inner } = layout;
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < inner; s++) {
        const y = this.targets[o * inner + s];
        if (y === IGNORED) continue;
        grad[o * C * inner + y * inner + s] = -scale * (w === undefined ? 1 : w[y]);
      }
    }
    return result;
  }
}
