import {
  NDArray,
  ValueError,
  checkFinite,
  checkNumber,
  formatShape,
  logSoftmax,
  logSoftmaxBackward,
  mul,
  nllLoss,
  nllLossBackward,
  shapesEqual,
  sub,
  where,
} from '@backprop/ndarray';
import { type ClassIndices, type ClassLayout, checkClassWeight, classIndexArray, classLayout } from './class-targets';
import { Loss, type LossOptions } from './loss';
import { Scratch } from './scratch';
import { TargetDistribution } from './target-distribution';
import { checkInput, checkSameDType, checkWeightOption } from './validate';

/** Options of {@link CrossEntropyLoss}. */
export interface CrossEntropyLossOptions extends LossOptions {
  /** Per-class weight of shape [C]: rescales each class's terms (and, under 'mean', the divisor). */
  weight?: NDArray;
  /** A target value that contributes nothing (nor to the 'mean' divisor); default −100. Index targets only. */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target becomes (1 − ε)·onehot + ε/C; default 0. */
  labelSmoothing?: number;
}

/** A cross-entropy target: class indices ([B], [B, d1, …] or a number for [C] logits) or class probabilities (the logits' shape). */
export type CrossEntropyTarget = NDArray | ClassIndices | number;

/**
 * Cross-entropy on raw logits: a max-subtracted log-softmax over the class
 * dimension followed by the negative log-likelihood, as PyTorch's
 * `torch.nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)`.
 *
 * Logits are [B, C], [C] (unbatched) or [B, C, d1, …]. Targets are either
 * class indices (an NDArray of integer values, a `number[]`, an integer typed
 * array, or a number for [C] logits) or class probabilities of the logits'
 * shape (soft labels).
 *
 * With indices, ℓᵢ = (1 − ε)·w[yᵢ]·(−log p[yᵢ]) + (ε/C)·Σ_c w[c]·(−log p[c]),
 * and 'mean' divides the sum by Σ w[yᵢ] over the targets that are not
 * `ignoreIndex` (the count of such targets without weights). With
 * probabilities q, ℓᵢ = −Σ_c w[c]·q'[c]·log p[c], q' = (1 − ε)q + ε/C, and
 * 'mean' divides by the number of rows B·d1·….
 *
 * Both are one composition of ops: log p = logSoftmax(logits), a target
 * distribution A of the logits' shape (see {@link TargetDistribution}), the
 * loss −Σ A·log p / divisor, and the gradient
 * `logSoftmaxBackward(−A / divisor, log p)` = softmax·ΣA − A, over the divisor.
 * Repeated calls of one shape allocate only the returned gradient; an int32
 * NDArray target is never read on the host.
 *
 * @example
 * ```ts
 * const ce = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = ce.forward(logits, labels);   // logits [64, 10], labels Uint8Array(64)
 * model.backward(ce.backward());
 * ```
 */
export class CrossEntropyLoss extends Loss {
  /** The per-class weight, if any. */
  readonly weight: NDArray | undefined;
  /** The target value that is skipped. */
  readonly ignoreIndex: number;
  /** The label-smoothing ε. */
  readonly labelSmoothing: number;

  private readonly scratch = new Scratch();
  private readonly distribution = new TargetDistribution(this.scratch);
  /**
   * What backward needs from the last forward: log p, the divisor, the class
   * axis, and the target: int32 class indices, or the distribution A built
   * from class probabilities.
   */
  private saved:
    | { logp: NDArray; divisor: number; axis: number; picks: NDArray; a?: undefined }
    | { logp: NDArray; divisor: number; axis: number; a: NDArray; picks?: undefined }
    | undefined;

  constructor(options: CrossEntropyLossOptions = {}) {
    super('CrossEntropyLoss', options, ['reduction', 'weight', 'ignoreIndex', 'labelSmoothing']);
    this.weight = checkWeightOption('CrossEntropyLoss', 'weight', options?.weight);
    this.ignoreIndex = checkNumber('CrossEntropyLoss', 'ignoreIndex', options?.ignoreIndex ?? -100, {
      integer: true,
    });
    this.labelSmoothing = checkNumber('CrossEntropyLoss', 'labelSmoothing', options?.labelSmoothing ?? 0, {
      min: 0,
      max: 1,
    });
  }

  /** The loss of `logits` against class indices or class probabilities. */
  override forward(logits: NDArray, target: CrossEntropyTarget): number {
    const op = this.op;
    this.saved = undefined;
    checkInput(op, 'prediction', logits);
    const layout = classLayout(op, logits);
    checkClassWeight(op, this.weight, logits, layout.classes);
    const isProbabilities = target instanceof NDArray && shapesEqual(target.shape, logits.shape);
    let picks: NDArray | undefined;
    if (isProbabilities) {
      if (this.ignoreIndex >= 0) {
        // PyTorch refuses this too: a valid class index cannot be ignored in a probability target.
        throw new ValueError(
          `${op}: ignoreIndex ${this.ignoreIndex} applies to class-index targets only, but the target has the ` +
            `logits' shape ${formatShape(logits.shape)} and is read as class probabilities; expected a negative ignoreIndex or class indices of shape ${formatShape(layout.targetShape)}`,
        );
      }
      checkSameDType(op, 'prediction', logits, 'target', target);
      checkFinite(op, 'target', target);
    } else {
      picks = classIndexArray(op, target, logits, layout, this.ignoreIndex, this.scratch, true);
    }
    if (this.reduction === 'mean' && layout.rows === 0) {
      throw new ValueError(
        `${op}: prediction of shape ${formatShape(logits.shape)} holds no samples, and their mean is undefined; ` +
          `expected at least one (or reduction 'sum')`,
      );
    }
    const logp = logSoftmax(logits, layout.axis, this.scratch.like('logp', logits));
    const value =
      picks === undefined
        ? this.lossOnProbabilities(logp, target as NDArray, layout)
        : this.lossOnIndices(logp, picks, layout);
    return logits.dtype === 'float32' ? Math.fround(value) : value;
  }

  /** dLoss/dLogits for the last `forward`, scaled by `outputGrad`. */
  override backward(outputGrad = 1): NDArray {
    const saved = this.saved;
    if (saved === undefined) return this.notReady();
    const { logp, divisor, axis } = saved;
    const scale = this.gradScale(outputGrad, divisor);
    const g = this.scratch.like('g', logp);
    if (saved.picks !== undefined) {
      // dLoss/dlog p: −scale·((1 − ε)·w_y·onehot(y) + (ε/C)·w) on counted rows, torch's nll_loss_backward.
      nllLossBackward(logp, saved.picks, scale, { weight: this.weight, labelSmoothing: this.labelSmoothing, axis }, g);
    } else {
      // dLoss/dlog p = 0 − A·scale: +0, as torch's, where A is 0 (−A·scale would give −0).
      const a = saved.a;
      sub(this.scratch.constant(0, a.dtype), mul(a, this.scratch.scalar('scale', scale, a.dtype), g), g);
    }
    return logSoftmaxBackward(g, logp, axis);
  }

  private lossOnIndices(logp: NDArray, picks: NDArray, layout: ClassLayout): number {
    // [Σ w_y·log p_y, Σ Σ_c w_c·log p_c, Σ w_y] over the counted rows, read back once.
    const target = picks.reshape(layout.targetShape);
    const sums = nllLoss(logp, target, { weight: this.weight, axis: layout.axis }, this.scratch.take('sums', [3], 'float64')).data;
    const eps = this.labelSmoothing;
    const total = eps > 0 ? (1 - eps) * sums[0] + (eps / layout.classes) * sums[1] : sums[0];
    const weightTotal = sums[2];
    let divisor = 1;
    if (this.reduction === 'mean') {
      if (weightTotal === 0) {
        throw new ValueError(
          `${this.op}: every target is ignoreIndex (${this.ignoreIndex}) or has weight 0, so the 'mean' ` +
            `reduction would divide by zero (PyTorch returns NaN); expected at least one counted target, or reduction 'sum'`,
        );
      }
      divisor = weightTotal;
    }
    this.saved = { logp, picks: target, divisor, axis: layout.axis };
    // 0 − total, not −total: nothing counted (every target ignored, under 'sum') is +0, as torch's.
    return (0 - total) / divisor;
  }

  /**
   * A·log p, and 0 wherever A is 0 even if log p is −∞ (in float32, a logit
   * some 1e38 below its row's largest): a class that is not a target costs
   * nothing, as in torch's NLL, which picks the target's entry instead.
   */
  private terms(a: NDArray, logp: NDArray): NDArray {
    const product = mul(a, logp, this.scratch.like('product', logp));
    return where(a, product, this.scratch.constant(0, a.dtype), product);
  }

  private lossOnProbabilities(logp: NDArray, q: NDArray, layout: ClassLayout): number {
    const a = this.distribution.fromProbabilities(q, layout, this.weight, this.labelSmoothing);
    const [total] = this.scratch.sumsToHost([this.terms(a, logp)]);
    const divisor = this.reduction === 'mean' ? layout.rows : 1;
    this.saved = { logp, a, divisor, axis: layout.axis };
    return (0 - total) / divisor;
  }
}
