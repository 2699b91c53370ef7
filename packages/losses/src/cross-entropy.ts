import {
  DTypeError,
  NDArray,
  ValueError,
  accumulatorDType,
  checkFinite,
  checkNumber,
  div,
  formatShape,
  logSoftmax,
  logSoftmaxBackward,
  mul,
  nllLoss,
  nllLossBackward,
  shapesEqual,
  sub,
  sum,
  where,
} from '@backprop/ndarray';
import { type ClassIndices, type ClassLayout, checkClassWeight, classIndexArray, classLayout, lossFromSums } from './class-targets';
import { Loss, type LossOptions } from './loss';
import type { BackwardArgs, LossValue, Reduction, ScalarReduction } from './reduction';
import { Scratch } from './scratch';
import { TargetDistribution } from './target-distribution';
import { checkInput, checkSameDType, checkWeightOption } from './validate';

/** Options of {@link CrossEntropyLoss}. */
export interface CrossEntropyLossOptions<R extends Reduction = ScalarReduction> extends LossOptions<R> {
  /** Per-class weight of shape [C]: rescales each class's terms (and, under 'mean', the divisor). */
  weight?: NDArray;
  /** A target value that contributes nothing (nor to the 'mean' divisor; 0 under 'none'); default −100. Index targets only. */
  ignoreIndex?: number;
  /** ε in [0, 1]: the target becomes (1 − ε)·onehot + ε/C; default 0. */
  labelSmoothing?: number;
}

/** A cross-entropy target: class indices ([B], [B, d1, …], or [] or a number for [C] logits) or class probabilities (the logits' shape). */
export type CrossEntropyTarget = NDArray | ClassIndices | number;

/**
 * Cross-entropy on raw logits: a max-subtracted log-softmax over the class
 * dimension followed by the negative log-likelihood, as PyTorch's
 * `torch.nn.CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)`.
 *
 * Logits are [B, C], [C] (unbatched) or [B, C, d1, …, dK] (classes along
 * dimension 1, as PyTorch; a 2-D [C, d1] is read as [B, C], as there).
 * Targets are either class indices of the logits' shape without the class
 * dimension ([B], [] or [B, d1, …, dK]: an int32 NDArray, a float NDArray of
 * integer values, a `number[]`, an integer typed array, or a number for [C]
 * logits) or class probabilities of the logits' shape (soft labels).
 *
 * With indices, ℓᵢ = (1 − ε)·w[yᵢ]·(−log p[yᵢ]) + (ε/C)·Σ_c w[c]·(−log p[c])
 * (0 where yᵢ is `ignoreIndex`), and 'mean' divides the sum by Σ w[yᵢ] over
 * the targets that are not `ignoreIndex` (the count of such targets without
 * weights). With probabilities q, ℓᵢ = −Σ_c w[c]·q'[c]·log p[c],
 * q' = (1 − ε)q + ε/C, and 'mean' divides by the number of rows B·d1·….
 * 'none' returns the ℓᵢ, an array of the index target's shape, with no
 * divisor; `backward(outputGrad)` then takes an array of that shape.
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
 *
 * // Per pixel: logits [N, C, H, W], labels an int32 [N, H, W]; a loss per pixel.
 * const perPixel = new CrossEntropyLoss({ reduction: 'none', ignoreIndex: 255 });
 * const losses = perPixel.forward(scores, labels);          // [N, H, W]
 * model.backward(perPixel.backward(mask));                  // mask [N, H, W]
 * ```
 */
export class CrossEntropyLoss<R extends Reduction = 'mean'> extends Loss<R> {
  /** The per-class weight, if any. */
  readonly weight: NDArray | undefined;
  /** The target value that is skipped. */
  readonly ignoreIndex: number;
  /** The label-smoothing ε. */
  readonly labelSmoothing: number;

  private readonly scratch = new Scratch();
  private readonly distribution = new TargetDistribution(this.scratch);
  /**
   * What backward needs from the last forward: log p, the divisor, the
   * layout, and the target: int32 class indices, or the distribution A built
   * from class probabilities.
   */
  private saved:
    | { logp: NDArray; divisor: number | NDArray; layout: ClassLayout; picks: NDArray; a?: undefined }
    | { logp: NDArray; divisor: number; layout: ClassLayout; a: NDArray; picks?: undefined }
    | undefined;

  constructor(options: CrossEntropyLossOptions<R> = {}) {
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
  override forward(logits: NDArray, target: CrossEntropyTarget): LossValue<R> {
    const prepared = this.prepare(logits, target);
    if (prepared.terms !== undefined) return prepared.terms as LossValue<R>;
    const { logp, picks, layout } = prepared;
    const value =
      picks === undefined
        ? this.lossOnProbabilities(logp, target as NDArray, layout)
        : this.lossOnIndices(logp, picks, layout);
    return (logits.dtype === 'float32' ? Math.fround(value) : value) as LossValue<R>;
  }

  protected override computeOnDevice(logits: NDArray, target: CrossEntropyTarget): NDArray {
    const prepared = this.prepare(logits, target);
    if (prepared.terms !== undefined) return prepared.terms;
    const { logp, picks, layout } = prepared;
    if (picks === undefined) {
      const a = this.distribution.fromProbabilities(target as NDArray, layout, this.weight, this.labelSmoothing);
      const divisor = this.reduction === 'mean' ? layout.rows : 1;
      this.saved = { logp, a, divisor, layout };
      // (0 − Σ A·log p) / divisor, the sum taken on the device.
      const loss = sub(0, sum(this.terms(a, logp)));
      return divisor === 1 ? loss : div(loss, divisor, loss);
    }
    const classes = picks.reshape(layout.targetShape);
    const sums = nllLoss(logp, classes, { weight: this.weight, axis: layout.axis }, this.scratch.take('sums', [3], accumulatorDType(logp.dtype)));
    const mean = this.reduction === 'mean';
    const { loss, divisor } = lossFromSums(sums, logp.dtype, { mean, labelSmoothing: this.labelSmoothing, classes: layout.classes });
    this.saved = { logp, picks: classes, divisor, layout };
    return loss;
  }

  /**
   * Validates the pair and takes log p; under 'none' returns the terms (and keeps what backward needs), else log p
   * and the int32 class indices (none for class probabilities).
   */
  private prepare(
    logits: NDArray,
    target: CrossEntropyTarget,
  ): { terms: NDArray; logp?: undefined; picks?: undefined; layout?: undefined } | { terms?: undefined; logp: NDArray; picks: NDArray | undefined; layout: ClassLayout } {
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
      if (target.dtype === 'int32') {
        throw new DTypeError(
          `${op}: target is int32 with the logits' shape ${formatShape(logits.shape)}; expected class indices of shape ` +
            `${formatShape(layout.targetShape)} or class probabilities of the logits' shape and dtype (${logits.dtype})`,
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
    if (this.reduction === 'none') {
      const terms =
        picks === undefined
          ? this.termsOnProbabilities(logp, target as NDArray, layout)
          : this.termsOnIndices(logp, picks, layout);
      return { terms };
    }
    return { logp, picks, layout };
  }

  /**
   * dLoss/dLogits for the last `forward`: scaled by the number `outputGrad`
   * (default 1) under 'mean' and 'sum'; under 'none', each row's gradient
   * times its entry of the array `outputGrad` (the shape `forward` returned).
   */
  override backward(...args: BackwardArgs<R>): NDArray {
    const saved = this.saved;
    if (saved === undefined) return this.notReady();
    const { logp, divisor, layout } = saved;
    const axis = layout.axis;
    const outputGrad = this.checkOutputGrad(args[0], layout.targetShape, logp.dtype);
    // Under 'none' the factor is per row, laid out to broadcast along the classes.
    const rows = outputGrad instanceof NDArray ? outputGrad.reshape(layout.rowShape) : undefined;
    // On a device the 'mean' divisor Σ w_y was never read: the gradient is divided by it there.
    const onDevice = divisor instanceof NDArray ? divisor : undefined;
    const scale = rows === undefined ? this.gradScale(outputGrad as number, onDevice === undefined ? (divisor as number) : 1) : 1;
    const g = this.scratch.like('g', logp);
    if (saved.picks !== undefined) {
      // dLoss/dlog p: −scale·((1 − ε)·w_y·onehot(y) + (ε/C)·w) on counted rows, torch's nll_loss_backward.
      nllLossBackward(logp, saved.picks, scale, { weight: this.weight, labelSmoothing: this.labelSmoothing, axis }, g);
      if (rows !== undefined) mul(g, rows, g);
      if (onDevice !== undefined) div(g, onDevice, g);
    } else {
      // dLoss/dlog p = 0 − A·scale: +0, as torch's, where A is 0 (−A·scale would give −0).
      const a = saved.a;
      const factor = rows ?? this.scratch.scalar('scale', scale, a.dtype);
      sub(this.scratch.constant(0, a.dtype), mul(a, factor, g), g);
    }
    return logSoftmaxBackward(g, logp, axis);
  }

  /**
   * 'none' on class indices: ℓᵢ = Σ_c G·log p over the class axis, a new
   * array of the target's shape, where G = −((1 − ε)·w_y·onehot(y) + (ε/C)·w)
   * on counted rows and 0 on ignored ones is dLoss/dlog p for ℓ summed (ndarray's
   * nllLossBackward with scale 1).
   */
  private termsOnIndices(logp: NDArray, picks: NDArray, layout: ClassLayout): NDArray {
    const target = picks.reshape(layout.targetShape);
    const options = { weight: this.weight, labelSmoothing: this.labelSmoothing, axis: layout.axis };
    const g = nllLossBackward(logp, target, 1, options, this.scratch.like('g', logp));
    this.saved = { logp, picks: target, divisor: 1, layout };
    return sum(this.terms(g, logp), layout.axis);
  }

  /** 'none' on class probabilities: ℓᵢ = 0 − Σ_c A·log p over the class axis, a new array of the rows' shape. */
  private termsOnProbabilities(logp: NDArray, q: NDArray, layout: ClassLayout): NDArray {
    const a = this.distribution.fromProbabilities(q, layout, this.weight, this.labelSmoothing);
    this.saved = { logp, a, divisor: 1, layout };
    const total = sum(this.terms(a, logp), layout.axis);
    return sub(this.scratch.constant(0, total.dtype), total, total);
  }

  private lossOnIndices(logp: NDArray, picks: NDArray, layout: ClassLayout): number {
    // [Σ w_y·log p_y, Σ Σ_c w_c·log p_c, Σ w_y] over the counted rows, read back once.
    const target = picks.reshape(layout.targetShape);
    const sums = nllLoss(logp, target, { weight: this.weight, axis: layout.axis }, this.scratch.take('sums', [3], accumulatorDType(logp.dtype))).data;
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
    this.saved = { logp, picks: target, divisor, layout };
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
    this.saved = { logp, a, divisor, layout };
    return (0 - total) / divisor;
  }
}
