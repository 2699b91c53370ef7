import { NDArray, type TypedArray, ValueError, zeros, checkFinite, checkNumber, formatShape, shapesEqual } from '@backprop/ndarray';
import {
  type ClassIndices,
  type ClassLayout,
  IGNORED,
  checkClassWeight,
  classLayout,
  ensureFloat64,
  ensureInt32,
  readClassIndices,
} from './class-targets';
import { Loss, type LossOptions } from './loss';
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
 * The softmax is computed once in `forward` and kept; `backward` is one pass
 * writing (softmax·Sᵢ − aᵢ)/divisor. Repeated calls of one shape allocate only
 * the returned gradient.
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

  // Scratch kept between calls: exp(x − max) per element, 1/Σexp per row, and
  // Σ_c w_c·q'_c per row for probability targets.
  private exps = new Float64Array(0);
  private rowInv = new Float64Array(0);
  private targets = new Int32Array(0);
  private rowScale = new Float64Array(0);
  private savedShape: readonly number[] | undefined;
  private savedDType: 'float32' | 'float64' = 'float32';
  private layout: ClassLayout | undefined;
  private probabilityTarget: NDArray | undefined;
  private divisor = 1;
  private rowLse = 0;

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
    this.savedShape = undefined;
    this.probabilityTarget = undefined;
    checkInput(op, 'prediction', logits);
    const layout = classLayout(op, logits);
    checkClassWeight(op, this.weight, logits, layout.classes);
    const isProbabilities = target instanceof NDArray && shapesEqual(target.shape, logits.shape);
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
      this.targets = ensureInt32(this.targets, layout.rows);
      readClassIndices(op, target, logits, layout, this.ignoreIndex, this.targets, true);
    }
    if (this.reduction === 'mean' && layout.rows === 0) {
      throw new ValueError(
        `${op}: prediction of shape ${formatShape(logits.shape)} holds no samples, and their mean is undefined; ` +
          `expected at least one (or reduction 'sum')`,
      );
    }
    this.exps = ensureFloat64(this.exps, logits.size);
    this.rowInv = ensureFloat64(this.rowInv, layout.rows);
    if (isProbabilities) this.rowScale = ensureFloat64(this.rowScale, layout.rows);
    const value = isProbabilities
      ? this.forwardProbabilities(logits, target as NDArray, layout)
      : this.forwardIndices(logits, layout);
    this.layout = layout;
    this.savedShape = logits.shape;
    this.savedDType = logits.dtype;
    return logits.dtype === 'float32' ? Math.fround(value) : value;
  }

  /** dLoss/dLogits for the last `forward`, scaled by `outputGrad`: one pass over the kept softmax. */
  override backward(outputGrad = 1): NDArray {
    const shape = this.savedShape;
    const layout = this.layout;
    if (shape === undefined || layout === undefined) return this.notReady();
    const scale = this.gradScale(outputGrad, this.divisor);
    const result = zeros(shape, { dtype: this.savedDType });
    const grad = result.data;
    const { outer, classes: C, inner } = layout;
    const exps = this.exps;
    const rowInv = this.rowInv;
    const w = this.weight?.data;
    const q = this.probabilityTarget?.data;
    const eps = this.labelSmoothing;
    const spread = eps / C;
    let weightSum = C;
    if (w !== undefined) {
      weightSum = 0;
      for (let c = 0; c < C; c++) weightSum += w[c];
    }
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < inner; s++) {
        const row = o * inner + s;
        const base = o * C * inner + s;
        if (q !== undefined) {
          // ∂/∂x_k of −Σ_c w_c q'_c log p_c is p_k·Σ_c w_c q'_c − w_k q'_k.
          const rowScale = this.rowScale[row] * rowInv[row];
          for (let c = 0, k = base; c < C; c++, k += inner) {
            const qc = eps > 0 ? q[k] * (1 - eps) + spread : q[k];
            grad[k] = scale * (exps[k] * rowScale - (w === undefined ? qc : w[c] * qc));
          }
          continue;
        }
        const y = this.targets[row];
        if (y === IGNORED) continue;
        // ℓ = Σ_c a_c·(−log p_c) with a = (1 − ε)·w_y·onehot(y) + (ε/C)·w, so ∂ℓ/∂x_k = p_k·Σa − a_k.
        const wy = w === undefined ? 1 : w[y];
        const rowScale = ((1 - eps) * wy + spread * weightSum) * rowInv[row];
        if (w === undefined) {
          for (let c = 0, k = base; c < C; c++, k += inner) grad[k] = scale * (exps[k] * rowScale - spread);
        } else {
          for (let c = 0, k = base; c < C; c++, k += inner) grad[k] = scale * (exps[k] * rowScale - spread * w[c]);
        }
        const k = base + y * inner;
        grad[k] = scale * (exps[k] * rowScale - spread * wy - (1 - eps) * wy);
      }
    }
    return result;
  }

  /**
   * The softmax pass shared by both target kinds, for the row starting at
   * `base`: stores e_c = exp(x_c − max) in `exps` and 1/Σe in `rowInv` (so
   * p_c = e_c/Σe is never written out) and returns the max; lse = log Σe is
   * left in `rowLse`. Callers form log p_c = (x_c − max) − lse in PyTorch's
   * order: forming max + lse first would lose the small log-probabilities of
   * huge logits.
   */
  private softmaxRow(x: TypedArray, base: number, C: number, inner: number, row: number): number {
    const exps = this.exps;
    let max = x[base];
    for (let c = 1, k = base + inner; c < C; c++, k += inner) if (x[k] > max) max = x[k];
    let sum = 0;
    for (let c = 0, k = base; c < C; c++, k += inner) {
      const e = Math.exp(x[k] - max);
      exps[k] = e;
      sum += e;
    }
    this.rowInv[row] = 1 / sum;
    this.rowLse = Math.log(sum);
    return max;
  }

  private forwardIndices(logits: NDArray, layout: ClassLayout): number {
    const x = logits.data;
    const { outer, classes: C, inner } = layout;
    const targets = this.targets;
    const w = this.weight?.data;
    const eps = this.labelSmoothing;
    let nllSum = 0;
    let smoothSum = 0;
    let weightTotal = 0;
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < inner; s++) {
        const row = o * inner + s;
        const base = o * C * inner + s;
        const max = this.softmaxRow(x, base, C, inner, row);
        const y = targets[row];
        if (y === IGNORED) continue;
        const lse = this.rowLse;
        const wy = w === undefined ? 1 : w[y];
        nllSum -= wy * (x[base + y * inner] - max - lse);
        weightTotal += wy;
        if (eps > 0) smoothSum -= weightedLogProbSum(x, base, C, inner, max, lse, w);
      }
    }
    if (this.reduction === 'mean') {
      if (weightTotal === 0) {
        throw new ValueError(
          `${this.op}: every target is ignoreIndex (${this.ignoreIndex}) or has weight 0, so the 'mean' ` +
            `reduction would divide by zero (PyTorch returns NaN); expected at least one counted target, or reduction 'sum'`,
        );
      }
      this.divisor = weightTotal;
    } else {
      this.divisor = 1;
    }
    const nll = nllSum / this.divisor;
    // PyTorch: (1 − ε)·nll + (Σ smooth / divisor)·(ε/C).
    return eps > 0 ? (1 - eps) * nll + (smoothSum / this.divisor) * (eps / C) : nll;
  }

  private forwardProbabilities(logits: NDArray, target: NDArray, layout: ClassLayout): number {
    const x = logits.data;
    const q = target.data;
    const { outer, classes: C, inner, rows } = layout;
    const w = this.weight?.data;
    const eps = this.labelSmoothing;
    const spread = eps / C;
    let total = 0;
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < inner; s++) {
        const row = o * inner + s;
        const base = o * C * inner + s;
        const max = this.softmaxRow(x, base, C, inner, row);
        const lse = this.rowLse;
        let rowSum = 0;
        for (let c = 0, k = base; c < C; c++, k += inner) {
          const qc = eps > 0 ? q[k] * (1 - eps) + spread : q[k];
          const wq = w === undefined ? qc : qc * w[c];
          total -= (x[k] - max - lse) * wq;
          rowSum += wq;
        }
        this.rowScale[row] = rowSum;
      }
    }
    this.divisor = this.reduction === 'mean' ? rows : 1;
    this.probabilityTarget = target;
    return total / this.divisor;
  }
}

/** Σ_c w_c·log p_c of one row (w_c = 1 without weights), log p_c = (x_c − max) − lse. */
function weightedLogProbSum(
  x: TypedArray,
  base: number,
  C: number,
  inner: number,
  max: number,
  lse: number,
  w: TypedArray | undefined,
): number {
  let sum = 0;
  if (w === undefined) {
    for (let c = 0, k = base; c < C; c++, k += inner) sum += x[k] - max - lse;
  } else {
    for (let c = 0, k = base; c < C; c++, k += inner) sum += (x[k] - max - lse) * w[c];
  }
  return sum;
}
