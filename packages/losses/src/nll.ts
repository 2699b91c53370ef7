import {
  NDArray,
  ValueError,
  accumulatorDType,
  add,
  checkNumber,
  div,
  formatShape,
  mul,
  nllLoss,
  nllLossBackward,
  sum,
} from '@backprop/ndarray';
import { type ClassIndices, type ClassLayout, checkClassWeight, classIndexArray, classLayout, lossFromSums } from './class-targets';
import { Loss, type LossOptions } from './loss';
import type { BackwardArgs, LossValue, Reduction, ScalarReduction } from './reduction';
import { Scratch } from './scratch';
import { checkInput, checkWeightOption } from './validate';

/** Options of {@link NLLLoss}. */
export interface NLLLossOptions<R extends Reduction = ScalarReduction> extends LossOptions<R> {
  /** Per-class weight of shape [C]: rescales each class's terms (and, under 'mean', the divisor). */
  weight?: NDArray;
  /** A target value that contributes nothing (nor to the 'mean' divisor; 0 under 'none'); default −100. */
  ignoreIndex?: number;
}

/**
 * Negative log-likelihood on log-probabilities (the output of a log-softmax):
 * ℓᵢ = −w[yᵢ]·x[i, yᵢ] (0 where yᵢ is `ignoreIndex`); 'mean' divides the sum
 * by Σ w[yᵢ] over the targets that are not `ignoreIndex`, 'none' returns the
 * ℓᵢ as an array of the target's shape. Input [B, C], [C] or
 * [B, C, d1, …, dK]; targets are class indices as for
 * {@link CrossEntropyLoss}, which is this loss after a log-softmax: ndarray's
 * `nllLoss` and `nllLossBackward` kernels, torch's `nll_loss` forward and
 * backward.
 * PyTorch: `torch.nn.NLLLoss(weight=None, ignore_index=-100, reduction='mean')`.
 *
 * @example
 * ```ts
 * const nll = new NLLLoss();
 * nll.forward(logProbabilities, labels);
 * const grad = nll.backward();  // −w[y]/Σw at each target, 0 elsewhere
 *
 * const perSample = new NLLLoss({ reduction: 'none' });
 * perSample.forward(logProbabilities, labels);   // [B]
 * perSample.backward(sampleWeights);             // [B] in, [B, C] out
 * ```
 */
export class NLLLoss<R extends Reduction = 'mean'> extends Loss<R> {
  /** The per-class weight, if any. */
  readonly weight: NDArray | undefined;
  /** The target value that is skipped. */
  readonly ignoreIndex: number;

  private readonly scratch = new Scratch();
  /** What backward needs from the last forward: the input, the class indices, the divisor and the layout. */
  private saved: { input: NDArray; picks: NDArray; divisor: number | NDArray; layout: ClassLayout } | undefined;

  constructor(options: NLLLossOptions<R> = {}) {
    super('NLLLoss', options, ['reduction', 'weight', 'ignoreIndex']);
    this.weight = checkWeightOption('NLLLoss', 'weight', options?.weight);
    this.ignoreIndex = checkNumber('NLLLoss', 'ignoreIndex', options?.ignoreIndex ?? -100, { integer: true });
  }

  /** The loss of log-probabilities `input` against class indices. */
  override forward(input: NDArray, target: NDArray | ClassIndices | number): LossValue<R> {
    const prepared = this.prepare(input, target);
    if (prepared.terms !== undefined) return prepared.terms as LossValue<R>;
    const { classes, layout } = prepared;
    // [Σ w_y·x_y, (unused), Σ w_y] over the counted rows, read back once.
    const sums = nllLoss(input, classes, { weight: this.weight, axis: layout.axis }, this.scratch.take('sums', [3], accumulatorDType(input.dtype))).data;
    const total = sums[0];
    const weightTotal = sums[2];
    if (this.reduction === 'mean' && weightTotal === 0) {
      throw new ValueError(
        `${this.op}: ${layout.rows === 0 ? `prediction of shape ${formatShape(input.shape)} holds no samples` : `every target is ignoreIndex (${this.ignoreIndex}) or has weight 0`}, ` +
          `so the 'mean' reduction would divide by zero (PyTorch returns NaN); expected at least one counted target, or reduction 'sum'`,
      );
    }
    const divisor = this.reduction === 'mean' ? weightTotal : 1;
    this.saved = { input, picks: classes, divisor, layout };
    // 0 − total, not −total: nothing counted (every target ignored, under 'sum') is +0, as torch's.
    const value = (0 - total) / divisor;
    return (input.dtype === 'float32' ? Math.fround(value) : value) as LossValue<R>;
  }

  protected override computeOnDevice(input: NDArray, target: NDArray | ClassIndices | number): NDArray {
    const prepared = this.prepare(input, target);
    if (prepared.terms !== undefined) return prepared.terms;
    const { classes, layout } = prepared;
    const sums = nllLoss(input, classes, { weight: this.weight, axis: layout.axis }, this.scratch.take('sums', [3], accumulatorDType(input.dtype)));
    const { loss, divisor } = lossFromSums(sums, input.dtype, { mean: this.reduction === 'mean', labelSmoothing: 0, classes: layout.classes });
    this.saved = { input, picks: classes, divisor, layout };
    return loss;
  }

  /** Validates the pair; under 'none' returns the terms (and keeps what backward needs), else the class indices to sum. */
  private prepare(
    input: NDArray,
    target: NDArray | ClassIndices | number,
  ): { terms: NDArray; classes?: undefined; layout?: undefined } | { terms?: undefined; classes: NDArray; layout: ClassLayout } {
    const op = this.op;
    this.saved = undefined;
    checkInput(op, 'prediction', input);
    const layout = classLayout(op, input);
    checkClassWeight(op, this.weight, input, layout.classes);
    const picks = classIndexArray(op, target, input, layout, this.ignoreIndex, this.scratch, false);
    const classes = picks.reshape(layout.targetShape);
    if (this.reduction === 'none') {
      // ℓᵢ = Σ_c G·x over the classes, G = −w_y·onehot(y) (0 on ignored rows): nllLossBackward with scale 1.
      const g = nllLossBackward(input, classes, 1, { weight: this.weight, axis: layout.axis }, this.scratch.like('g', input));
      this.saved = { input, picks: classes, divisor: 1, layout };
      return { terms: sum(mul(g, input, g), layout.axis) };
    }
    return { classes, layout };
  }

  /**
   * dLoss/dInput for the last `forward`: scaled by the number `outputGrad`
   * (default 1) under 'mean' and 'sum'; under 'none', each row's gradient
   * times its entry of the array `outputGrad` (the shape `forward` returned).
   */
  override backward(...args: BackwardArgs<R>): NDArray {
    const saved = this.saved;
    if (saved === undefined) return this.notReady();
    const { input, picks, divisor, layout } = saved;
    const outputGrad = this.checkOutputGrad(args[0], layout.targetShape, input.dtype);
    const options = { weight: this.weight, axis: layout.axis };
    if (outputGrad instanceof NDArray) {
      // −w_y·outputGradᵢ at each counted target, +0 elsewhere: torch's nll_loss_backward under 'none'.
      // The + 0 turns the −0 of 0·(a negative factor) into torch's +0.
      const g = nllLossBackward(input, picks, 1, options);
      return add(mul(g, outputGrad.reshape(layout.rowShape), g), this.scratch.constant(0, g.dtype), g);
    }
    // −scale·w_y at each counted target, +0 everywhere else (as torch's).
    if (divisor instanceof NDArray) {
      // On a device the 'mean' divisor Σ w_y was never read: divide by it there.
      const g = nllLossBackward(input, picks, this.gradScale(outputGrad, 1), options);
      return div(g, divisor, g);
    }
    return nllLossBackward(input, picks, this.gradScale(outputGrad, divisor), options);
  }
}
