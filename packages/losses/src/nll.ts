import { type NDArray, ValueError, checkNumber, formatShape, mul, sub } from '@backprop/ndarray';
import { type ClassIndices, checkClassWeight, classIndexArray, classLayout } from './class-targets';
import { Loss, type LossOptions } from './loss';
import { Scratch } from './scratch';
import { TargetDistribution } from './target-distribution';
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
 * log-softmax: the same target distribution A = w[y]·onehot(y), the loss
 * −Σ A·x / divisor and the gradient −A / divisor.
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
  private readonly distribution = new TargetDistribution(this.scratch);
  /** What backward needs from the last forward: A and the divisor. */
  private saved: { a: NDArray; divisor: number } | undefined;

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
    const { a, rowWeight } = this.distribution.fromIndices(picks, input, layout, this.weight, 0);
    const [total, weightTotal] = this.scratch.sumsToHost([mul(a, input, this.scratch.like('product', input)), rowWeight]);
    if (this.reduction === 'mean' && weightTotal === 0) {
      throw new ValueError(
        `${op}: ${layout.rows === 0 ? `prediction of shape ${formatShape(input.shape)} holds no samples` : `every target is ignoreIndex (${this.ignoreIndex}) or has weight 0`}, ` +
          `so the 'mean' reduction would divide by zero (PyTorch returns NaN); expected at least one counted target, or reduction 'sum'`,
      );
    }
    const divisor = this.reduction === 'mean' ? weightTotal : 1;
    this.saved = { a, divisor };
    // 0 − total, not −total: nothing counted (every target ignored, under 'sum') is +0, as torch's.
    const value = (0 - total) / divisor;
    return input.dtype === 'float32' ? Math.fround(value) : value;
  }

  /** dLoss/dInput for the last `forward`, scaled by `outputGrad`. */
  override backward(outputGrad = 1): NDArray {
    const saved = this.saved;
    if (saved === undefined) return this.notReady();
    const { a, divisor } = saved;
    const scale = this.scratch.scalar('scale', this.gradScale(outputGrad, divisor), a.dtype);
    // 0 − A·scale: +0, as torch's, where A is 0 (−A·scale would give −0).
    return sub(this.scratch.constant(0, a.dtype), mul(a, scale, this.scratch.like('g', a)));
  }
}
