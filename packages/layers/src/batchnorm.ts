import {
  type DType,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  Slot,
  ValueError,
  add,
  cast,
  checkChoice,
  checkNumber,
  checkOptions,
  copyInto,
  describe,
  div,
  formatShape,
  mean,
  mul,
  ones,
  sqrt,
  sub,
  sum,
  variance,
  zeros,
} from '@backprop/ndarray';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { pythonFloat } from './python-repr';

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d}. */
export interface BatchNormOptions {
  /** Added to the variance before its square root, default 1e-5. */
  eps?: number;
  /**
   * Weight of the batch statistics in the running averages, default 0.1:
   * `running = (1 − momentum)·running + momentum·batch`. `null` keeps the
   * cumulative average instead (the factor is 1 / numBatchesTracked), as torch's `momentum=None`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` and shift `bias` (default true). */
  affine?: boolean;
  /**
   * Keep running statistics for evaluation (default true). Without them the
   * layer has no buffers and normalises with the batch's statistics in
   * evaluation mode too.
   */
  trackRunningStats?: boolean;
  /** Parameter and buffer dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Accepted for the same options as Linear; torch's initialisation (weight 1, bias 0) draws nothing. */
  rng?: Generator;
}

export const BATCHNORM_OPTIONS = ['eps', 'momentum', 'affine', 'trackRunningStats', 'dtype', 'rng'] as const;

/**
 * What {@link BatchNorm1d} and {@link BatchNorm2d} share, as torch's
 * `_BatchNorm`: a subclass only says which input ranks it takes.
 *
 * The input is [N, C, *] with C = `numFeatures`. In training mode each
 * channel is normalised with the mean and the biased variance of its N·L
 * values (L the product of the trailing dimensions),
 * y = (x − mean) / √(var + eps) · weight + bias, and the running statistics
 * are updated with the batch mean and the unbiased variance (var · n/(n − 1)):
 * running = (1 − m)·running + m·batch, m = momentum or 1/numBatchesTracked.
 * In evaluation mode the running statistics take the batch's place (and the
 * layer is an affine map of its input); without running statistics
 * (`trackRunningStats: false`) the batch's are used in both modes.
 *
 * Backward in training mode is the full batch-statistics gradient,
 * dx = weight/√(var + eps) · (g − mean(g) − x̂·mean(g·x̂)) per channel, and
 * in evaluation mode g · weight/√(var + eps); dweight += Σ g·x̂, dbias += Σ g.
 *
 * Buffers, in torch's state-dict order after `weight` and `bias`:
 * `running_mean` (zeros), `running_var` (ones), both of the layer's dtype,
 * and `num_batches_tracked`, an int32 0-d array (torch's is int64).
 */
export abstract class BatchNormBase extends NeuralLayer {
  readonly numFeatures: number;
  readonly eps: number;
  /** The running averages' momentum, or null for the cumulative average. */
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly dtype: DType;
  /** [numFeatures], ones at first; null when created with `{ affine: false }`. */
  readonly weight: Parameter | null;
  /** [numFeatures], zeros at first; null when created with `{ affine: false }`. */
  readonly bias: Parameter | null;
  /** The buffer `running_mean` [numFeatures]; null without `trackRunningStats`. Updated in place. */
  readonly runningMean: NDArray | null;
  /** The buffer `running_var` [numFeatures]; null without `trackRunningStats`. Updated in place. */
  readonly runningVar: NDArray | null;
  /** The buffer `num_batches_tracked`, an int32 0-d array; null without `trackRunningStats`. */
  readonly numBatchesTracked: NDArray | null;

  /** What the last forward pass leaves for backward: x̂ as [N, C, L], 1/√(var + eps) as [1, C, 1], and how it normalised. */
  readonly #normalized = new Slot();
  readonly #invStd = new Slot();
  #saved?: { normalized: NDArray; invStd: NDArray; batchStats: boolean; inputShape: readonly number[] };
  /** Scratch: the batch mean and variance, per-channel sums, a full-size product. */
  readonly #mean = new Slot();
  readonly #variance = new Slot();
  readonly #channelA = new Slot();
  readonly #channelB = new Slot();
  readonly #scale = new Slot();
  readonly #product = new Slot();
  /** The numbers the formulas use, as 0-d arrays (a number operand would be a new 0-d array on every call). */
  /** The cumulative average's factor 1/numBatchesTracked and 1 − factor (momentum null), computed per step. */
  readonly #factor = new Slot();
  readonly #keep = new Slot();

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const op = `${this.typeName}(${describe(numFeatures)})`;
    checkOptions(op, options, BATCHNORM_OPTIONS);
    this.numFeatures = checkSize(op, 'numFeatures', numFeatures, 1);
    this.eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
    this.momentum =
      options.momentum === null ? null : checkNumber(op, 'momentum', options.momentum ?? 0.1, { min: 0, max: 1 });
    this.affine = checkBoolean(op, 'affine', options.affine ?? true);
    this.trackRunningStats = checkBoolean(op, 'trackRunningStats', options.trackRunningStats ?? true);
    this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    checkRng(op, options.rng);
    const dtype = this.dtype;
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype }), 'weight') : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype }), 'bias') : null;
    const track = this.trackRunningStats;
    this.runningMean = track ? this.registerBuffer('running_mean', zeros([numFeatures], { dtype })) : null;
    this.runningVar = track ? this.registerBuffer('running_var', ones([numFeatures], { dtype })) : null;
    this.numBatchesTracked = track ? this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' })) : null;
  }

  /** Running mean 0, running variance 1, no batches tracked, in place, as torch's `reset_running_stats`. */
  resetRunningStats(): void {
    this.runningMean?.fill(0);
    this.runningVar?.fill(1);
    this.numBatchesTracked?.fill(0);
  }

  /** The running statistics reset, weight 1 and bias 0, as torch's `reset_parameters`. */
  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.value.fill(1);
    this.bias?.value.fill(0);
  }

  /** Throws unless the input has a rank this layer takes (the subclass's `_check_input_dim`). */
  protected abstract checkInputRank(input: NDArray): void;

  override extraRepr(): string {
    const momentum = this.momentum === null ? 'None' : pythonFloat(this.momentum);
    return (
      `${this.numFeatures}, eps=${pythonFloat(this.eps)}, momentum=${momentum}, ` +
      `affine=${this.affine ? 'True' : 'False'}, track_running_stats=${this.trackRunningStats ? 'True' : 'False'}`
    );
  }

  protected override label(): string {
    return `${this.typeName}(${this.numFeatures})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    this.checkInputRank(input);
    const c = this.numFeatures;
    if (input.shape[1] !== c) {
      throw new ShapeError(
        `${op}: expected ${c} channels in dimension 1 of the input, got shape ${formatShape(input.shape)}`,
      );
    }
    checkDTypeMatch(op, 'input', input, this.dtype);
    const dtype = this.dtype;
    const n = input.shape[0];
    const l = input.shape.slice(2).reduce((p, d) => p * d, 1);
    const x = input.reshape([n, c, l]);
    const perChannel = [1, c, 1];
    const useBatchStats = this.training || this.runningMean === null;
    if (useBatchStats && n * l <= 1) {
      throw new ValueError(
        `${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(input.shape)} ` +
          `(${n * l} value${n * l === 1 ? '' : 's'} per channel); use a batch of 2 or more, or eval()`,
      );
    }
    const eps = this.eps;
    const invStd = this.#invStd.take(perChannel, dtype);
    let center: NDArray;
    if (useBatchStats) {
      center = mean(x, [0, 2], true, this.#mean.take(perChannel, dtype));
      const batchVariance = variance(x, [0, 2], { correction: 0, keepDims: true, out: this.#variance.take(perChannel, dtype) });
      if (this.training && this.runningMean !== null) this.updateRunningStats(center, batchVariance, n * l);
      add(batchVariance, eps, invStd);
    } else {
      center = this.runningMean!.reshape(perChannel);
      add(this.runningVar!.reshape(perChannel), eps, invStd);
    }
    div(1, sqrt(invStd, invStd), invStd);
    const normalized = this.#normalized.take(x.shape, dtype);
    mul(sub(x, center, normalized), invStd, normalized);
    const out = this.output(options, input.shape, dtype);
    const out3 = out.reshape(x.shape);
    if (this.weight && this.bias) {
      add(mul(normalized, this.weight.value.reshape(perChannel), out3), this.bias.value.reshape(perChannel), out3);
    } else {
      copyInto(out3, normalized);
    }
    this.#saved = { normalized, invStd, batchStats: useBatchStats, inputShape: input.shape };
    return out;
  }

  /**
   * num_batches_tracked += 1, then running = (1 − m)·running + m·batch with
   * the unbiased variance, in place (`loadStateDict` writes into the same arrays).
   */
  private updateRunningStats(batchMean: NDArray, batchVariance: NDArray, count: number): void {
    const c = this.numFeatures;
    const dtype = this.dtype;
    const tracked = this.numBatchesTracked!;
    add(tracked, 1, tracked);
    let factor: NDArray | number;
    let keep: NDArray | number;
    if (this.momentum === null) {
      // The cumulative average: factor 1/num_batches_tracked, computed as a 0-d array (no read-back).
      factor = this.#factor.take([], dtype);
      div(1, cast(tracked, dtype, factor), factor);
      keep = sub(1, factor, this.#keep.take([], dtype));
    } else {
      factor = this.momentum;
      keep = 1 - this.momentum;
    }
    const unbiased = mul(batchVariance, count / (count - 1), this.#channelB.take([1, c, 1], dtype));
    const scratch = this.#channelA.take([c], dtype);
    for (const [running, batch] of [
      [this.runningMean!, batchMean],
      [this.runningVar!, unbiased],
    ] as const) {
      // torch: momentum·batch + (1 − momentum)·running.
      add(mul(batch.reshape([c]), factor, scratch), mul(running, keep, running), running);
    }
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#saved?.inputShape, this.dtype);
    const { normalized, invStd, batchStats: batch } = this.#saved!;
    const dtype = this.dtype;
    const c = this.numFeatures;
    const g = grad.reshape(normalized.shape);
    const wantInput = options?.inputGrad !== false;
    // Σ g·x̂ and Σ g per channel: the weight's and bias's gradients, and what the batch-statistics dx subtracts.
    let sumGX: NDArray | undefined;
    let sumG: NDArray | undefined;
    if (this.affine || (batch && wantInput)) {
      sumGX = sum(mul(g, normalized, this.#product.take(g.shape, dtype)), [0, 2], false, this.#channelA.take([c], dtype));
      sumG = sum(g, [0, 2], false, this.#channelB.take([c], dtype));
      if (this.weight && this.bias) {
        add(this.weight.grad, sumGX, this.weight.grad);
        add(this.bias.grad, sumG, this.bias.grad);
      }
    }
    if (!wantInput) return undefined;
    const perChannel = [1, c, 1];
    const scale = this.weight ? mul(invStd, this.weight.value.reshape(perChannel), this.#scale.take(perChannel, dtype)) : invStd;
    const dx = this.output(options, grad.shape, dtype);
    const dx3 = dx.reshape(g.shape);
    if (batch) {
      // dx = weight·invStd·(g − Σg/K − x̂·Σ(g·x̂)/K), K = N·L values per channel.
      const count = g.shape[0] * g.shape[2];
      const meanGX = div(sumGX!, count, sumGX).reshape(perChannel);
      const meanG = div(sumG!, count, sumG).reshape(perChannel);
      sub(sub(g, mul(normalized, meanGX, dx3), dx3), meanG, dx3);
      mul(dx3, scale, dx3);
    } else {
      mul(g, scale, dx3);
    }
    return dx;
  }
}

/**
 * Batch normalisation over a [N, C] or [N, C, L] input, as
 * `torch.nn.BatchNorm1d(numFeatures, eps, momentum, affine, track_running_stats)`:
 * each of the C channels is normalised over N (and L); see {@link BatchNormBase}.
 *
 * @example
 * const bn = new BatchNorm1d(128);
 * const y = bn.forward(randn([32, 128]));   // training: batch statistics, running stats updated
 * bn.eval();
 * bn.forward(randn([1, 128]));              // evaluation: the running statistics
 */
export class BatchNorm1d extends BatchNormBase {
  override get typeName(): string {
    return this.namedAs(BatchNorm1d, 'BatchNorm1d');
  }

  protected checkInputRank(input: NDArray): void {
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new ShapeError(
        `${this.label()}: expected a 2-D [N, ${this.numFeatures}] or 3-D [N, ${this.numFeatures}, L] input, ` +
          `got shape ${formatShape(input.shape)} (${input.ndim}-D)`,
      );
    }
  }
}

/**
 * Batch normalisation over a [N, C, H, W] input, as
 * `torch.nn.BatchNorm2d(numFeatures, eps, momentum, affine, track_running_stats)`:
 * each of the C channels is normalised over N, H and W; see {@link BatchNormBase}.
 *
 * @example
 * const model = new Sequential(new Conv2d(1, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU());
 * model.forward(randn([16, 1, 28, 28]));     // [16, 8, 28, 28]
 * model.stateDict()['1.running_mean'];       // [8], updated by that training pass
 */
export class BatchNorm2d extends BatchNormBase {
  override get typeName(): string {
    return this.namedAs(BatchNorm2d, 'BatchNorm2d');
  }

  protected checkInputRank(input: NDArray): void {
    if (input.ndim !== 4) {
      throw new ShapeError(
        `${this.label()}: expected a 4-D [N, ${this.numFeatures}, H, W] input, got shape ${formatShape(input.shape)} (${input.ndim}-D)`,
      );
    }
  }
}
