import { type NDArray, ValueError, checkNumber, formatShape, nllLoss, nllLossBackward } from '@backprop/ndarray';
import { type ClassIndices, checkClassWeight, classIndexArray, classLayout } from './class-targets';
import { Loss, type LossOptions } from './loss';
import { Scratch } from './scratch';
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
 * log-softmax: ndarray's `nllLoss` and `nllLossBackward` kernels, torch's
 * `nll_loss` forward and backward.
 * PyTorch: `torch.nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')`.
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

  private readonly scratch = new Scratch();
  /** What backward needs from the last forward: the input, the class indices, the divisor and the class axis. */
  private saved: { input: NDArray; picks: NDArray; divisor: number; axis: number } | undefined;

  constructor(options: NLLLossOptions = {}) {
    super('NLLLoss', options, ['reduction', 'weight', 'ignoreIndex']);
    this.weight = checkWeightOption('NLLLoss', 'weight', options?.weight);
    this.ignoreIndex = checkNumber('NLLLoss', 'ignoreIndex', options?.ignoreIndex ?? -100, { integer: true });
  }

  /** The loss of log-probabilities `input` against class indices. */
  override forward(input: NDArray, target: NDArray | ClassIndices | number): number {
    const op = this.op;
    this.saved = undefined;
    checkInput(op, 'prediction', input);
    const layout = classLayout(op, input);
    checkClassWeight(op, this.weight, input, layout.classes);
    const picks = classIndexArray(op, target, input, layout, this.ignoreIndex, this.scratch, false);
    // [Σ w_y·x_y, (unused), Σ w_y] over the counted rows, read back once.
    const classes = picks.reshape(layout.targetShape);
    const sums = nllLoss(input, classes, { weight: this.weight, axis: layout.axis }, this.scratch.take('sums', [3], 'float64')).data;
    const total = sums[0];
    const weightTotal = sums[2];
    if (this.reduction === 'mean' && weightTotal === 0) {
      throw new ValueError(
        `${op}: ${layout.rows === 0 ? `prediction of shape ${formatShape(input.shape)} holds no samples` : `every target is ignoreIndex (${this.ignoreIndex}) or has weight 0`}, ` +
          `so the 'mean' reduction would divide by zero (PyTorch returns NaN); expected at least one counted target, or reduction 'sum'`,
      );
    }
    const divisor = this.reduction === 'mean' ? weightTotal : 1;
    this.saved = { input, picks: classes, divisor, axis: layout.axis };
    // 0 − total, not −total: nothing counted (every target ignored, under 'sum') is +0, as torch's.
    const value = (0 - total) / divisor;
    return input.dtype === 'float32' ? Math.fround(value) : value;
  }

  /** dLoss/dInput for the last `forward`, scaled by `outputGrad`. */
  override backward(outputGrad = 1): NDArray {
    const saved = this.saved;
    if (saved === undefined) return this.notReady();
    const { input, picks, divisor, axis } = saved;
    // −scale·w_y at each counted target, +0 everywhere else (as torch's).
    return nllLossBackward(input, picks, this.gradScale(outputGrad, divisor), { weight: this.weight, axis });
  }
}
