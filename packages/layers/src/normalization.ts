import {
  type DType,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  Slot,
  ValueError,
  add,
  checkChoice,
  checkNumber,
  checkOptions,
  describe,
  formatShape,
  layerNorm,
  layerNormBackward,
  mul,
  ones,
  shapesEqual,
  sum,
  zeros,
} from '@backprop/ndarray';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { pythonFloat, pythonTuple } from './python-repr';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance before its square root, default 1e-5. */
  eps?: number;
  /** Learn an elementwise `weight` (ones) and `bias` (zeros) of the normalized shape (default true). */
  elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, learn the `bias` too (default true); `false` is torch ≥ 2.1's `bias=False`. */
  bias?: boolean;
  /** Parameter dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Accepted for the same options as Linear; torch's initialisation (weight 1, bias 0) draws nothing. */
  rng?: Generator;
}

export const LAYERNORM_OPTIONS = ['eps', 'elementwiseAffine', 'bias', 'dtype', 'rng'] as const;

/**
 * Layer normalisation, as `torch.nn.LayerNorm(normalizedShape, eps, elementwise_affine, bias)`:
 * each input is normalised over its trailing `normalizedShape` dimensions,
 * y = (x − mean)/√(var + eps) · weight + bias with the biased variance, in
 * training and evaluation mode alike (no running statistics).
 *
 * The input is [*, ...normalizedShape]; `weight` and `bias` have the
 * normalized shape. Forward and backward are ndarray's `layerNorm` and
 * `layerNormBackward` (torch's `native_layer_norm` and its backward):
 * dx = invStd/F·(F·ĝ − Σĝ − x̂·Σĝ·x̂) with ĝ = g·weight over the F normalised
 * elements, dweight += Σ g·x̂, dbias += Σ g over the leading dimensions.
 *
 * @example
 * const ln = new LayerNorm(64);
 * const y = ln.forward(randn([8, 10, 64]));   // each of the 80 rows has mean 0, variance ≈ 1
 */
export class LayerNorm extends NeuralLayer {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly dtype: DType;
  /** The normalized shape, ones at first; null when created with `{ elementwiseAffine: false }`. */
  readonly weight: Parameter | null;
  /** The normalized shape, zeros at first; null with `{ elementwiseAffine: false }` or `{ bias: false }`. */
  readonly bias: Parameter | null;

  /** The last input and its per-row statistics, for backward. */
  #saved?: { input: NDArray; mean: NDArray; invStd: NDArray };
  /** Each row's mean and 1/√(var + eps), kept for backward. */
  readonly #mean = new Slot();
  readonly #invStd = new Slot();

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    const op = `LayerNorm(${Array.isArray(shape) ? formatShape(shape) : describe(normalizedShape)})`;
    checkOptions(op, options, LAYERNORM_OPTIONS);
    if (!Array.isArray(shape) || shape.length === 0) {
      throw new ValueError(`${op}: normalizedShape must be a positive integer or a non-empty array of them, got ${describe(normalizedShape)}`);
    }
    this.normalizedShape = shape.map((d, i) => checkSize(op, `normalizedShape[${i}]`, d, 1));
    this.eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
    this.elementwiseAffine = checkBoolean(op, 'elementwiseAffine', options.elementwiseAffine ?? true);
    const bias = checkBoolean(op, 'bias', options.bias ?? true);
    this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    checkRng(op, options.rng);
    const dtype = this.dtype;
    this.weight = this.elementwiseAffine ? new Parameter(ones(this.normalizedShape, { dtype }), 'weight') : null;
    this.bias = this.elementwiseAffine && bias ? new Parameter(zeros(this.normalizedShape, { dtype }), 'bias') : null;
  }

  /** Weight 1 and bias 0, as torch's `reset_parameters`. */
  resetParameters(): void {
    this.weight?.value.fill(1);
    this.bias?.value.fill(0);
  }

  override get typeName(): string {
    return this.namedAs(LayerNorm, 'LayerNorm');
  }

  override extraRepr(): string {
    return `${pythonTuple(this.normalizedShape)}, eps=${pythonFloat(this.eps)}, elementwise_affine=${this.elementwiseAffine ? 'True' : 'False'}`;
  }

  protected override label(): string {
    const shape = this.normalizedShape.length === 1 ? String(this.normalizedShape[0]) : formatShape(this.normalizedShape);
    return `${this.typeName}(${shape})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    const k = this.normalizedShape.length;
    if (input.ndim < k || !shapesEqual(input.shape.slice(input.ndim - k), this.normalizedShape)) {
      throw new ShapeError(
        `${op}: expected an input whose trailing dimensions are ${formatShape(this.normalizedShape)} ` +
          `(shape [*, ${this.normalizedShape.join(', ')}]), got ${formatShape(input.shape)}`,
      );
    }
    checkDTypeMatch(op, 'input', input, this.dtype);
    const out = this.output(options, input.shape, this.dtype);
    const rows = input.shape.slice(0, input.ndim - k);
    const { mean, invStd } = layerNorm(input, this.normalizedShape, {
      weight: this.weight?.value,
      bias: this.bias?.value,
      eps: this.eps,
      out,
      mean: this.#mean.take(rows, this.dtype),
      invStd: this.#invStd.take(rows, this.dtype),
    });
    this.#saved = { input, mean, invStd };
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#saved?.input.shape, this.dtype);
    const { input, mean, invStd } = this.#saved!;
    const inputGrad = options?.inputGrad !== false;
    return layerNormBackward(grad, input, { mean, invStd }, {
      weight: this.weight?.value,
      weightGrad: this.weight?.grad,
      biasGrad: this.bias?.grad,
      inputGrad,
      out: inputGrad ? this.output(options, input.shape, this.dtype) : undefined,
    });
  }
}

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  /** Added to the variance before its square root, default 1e-5. */
  eps?: number;
  /** Learn a per-channel `weight` (ones) and `bias` (zeros) (default true). */
  affine?: boolean;
  /** Parameter dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Accepted for the same options as Linear; torch's initialisation (weight 1, bias 0) draws nothing. */
  rng?: Generator;
}

export const GROUPNORM_OPTIONS = ['eps', 'affine', 'dtype', 'rng'] as const;

/**
 * Group normalisation, as `torch.nn.GroupNorm(numGroups, numChannels, eps, affine)`:
 * the C channels of a [N, C, *] input are split into `numGroups` groups of
 * C/G consecutive channels, each sample's group is normalised over its
 * channels and trailing dimensions (biased variance), then each channel is
 * scaled and shifted: y = x̂ · weight[c] + bias[c]. The same in training
 * and evaluation mode.
 *
 * Computed as ndarray's `layerNorm` (without affine) on the input seen as
 * [N, G, C/G · L], then the per-channel affine; backward is
 * `layerNormBackward` of g·weight, with dweight += Σ g·x̂ and dbias += Σ g
 * over N and L.
 *
 * @example
 * const gn = new GroupNorm(2, 8);
 * gn.forward(randn([4, 8, 5, 5]));   // [4, 8, 5, 5]: 2 groups of 4 channels per sample
 */
export class GroupNorm extends NeuralLayer {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly dtype: DType;
  /** [numChannels], ones at first; null when created with `{ affine: false }`. */
  readonly weight: Parameter | null;
  /** [numChannels], zeros at first; null when created with `{ affine: false }`. */
  readonly bias: Parameter | null;

  /** The last input as [N, G, C/G·L], its per-group statistics, and x̂ (affine only). */
  #saved?: { input: NDArray; grouped: NDArray; mean: NDArray; invStd: NDArray; normalized?: NDArray };
  readonly #normalized = new Slot();
  /** Each group's mean and 1/√(var + eps), kept for backward. */
  readonly #mean = new Slot();
  readonly #invStd = new Slot();
  readonly #product = new Slot();
  readonly #channelSum = new Slot();

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    const op = `GroupNorm(${describe(numGroups)}, ${describe(numChannels)})`;
    checkOptions(op, options, GROUPNORM_OPTIONS);
    this.numGroups = checkSize(op, 'numGroups', numGroups, 1);
    this.numChannels = checkSize(op, 'numChannels', numChannels, 1);
    if (numChannels % numGroups !== 0) {
      throw new ValueError(
        `${op}: numChannels must be divisible by numGroups, got ${numChannels} channels in ${numGroups} groups`,
      );
    }
    this.eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
    this.affine = checkBoolean(op, 'affine', options.affine ?? true);
    this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    checkRng(op, options.rng);
    const dtype = this.dtype;
    this.weight = this.affine ? new Parameter(ones([numChannels], { dtype }), 'weight') : null;
    this.bias = this.affine ? new Parameter(zeros([numChannels], { dtype }), 'bias') : null;
  }

  /** Weight 1 and bias 0, as torch's `reset_parameters`. */
  resetParameters(): void {
    this.weight?.value.fill(1);
    this.bias?.value.fill(0);
  }

  override get typeName(): string {
    return this.namedAs(GroupNorm, 'GroupNorm');
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pythonFloat(this.eps)}, affine=${this.affine ? 'True' : 'False'}`;
  }

  protected override label(): string {
    return `${this.typeName}(${this.numGroups}, ${this.numChannels})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    const op = this.label();
    checkArrayArg(op, 'input', input);
    const c = this.numChannels;
    if (input.ndim < 2 || input.shape[1] !== c) {
      throw new ShapeError(
        `${op}: expected an input [N, ${c}, *] with ${c} channels in dimension 1, got shape ${formatShape(input.shape)}`,
      );
    }
    checkDTypeMatch(op, 'input', input, this.dtype);
    const dtype = this.dtype;
    const n = input.shape[0];
    const l = input.shape.slice(2).reduce((p, d) => p * d, 1);
    const g = this.numGroups;
    const grouped = input.reshape([n, g, (c / g) * l]);
    const out = this.output(options, input.shape, dtype);
    // Without affine the normalised values are the output; with it, x̂ is kept for dweight.
    const normalized = this.affine ? this.#normalized.take(grouped.shape, dtype) : out.reshape(grouped.shape);
    const { mean, invStd } = layerNorm(grouped, [grouped.shape[2]], {
      eps: this.eps,
      out: normalized,
      mean: this.#mean.take([n, g], dtype),
      invStd: this.#invStd.take([n, g], dtype),
    });
    if (this.weight && this.bias) {
      const perChannel = [1, c, 1];
      const out3 = out.reshape([n, c, l]);
      add(mul(normalized.reshape([n, c, l]), this.weight.value.reshape(perChannel), out3), this.bias.value.reshape(perChannel), out3);
    }
    this.#saved = { input, grouped, mean, invStd, normalized: this.affine ? normalized : undefined };
    return out;
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#saved?.input.shape, this.dtype);
    const { input, grouped, mean, invStd, normalized } = this.#saved!;
    const dtype = this.dtype;
    const c = this.numChannels;
    const n = input.shape[0];
    const l = input.shape.slice(2).reduce((p, d) => p * d, 1);
    let groupedGrad = grad.reshape(grouped.shape);
    if (this.weight && this.bias) {
      const perChannel = [1, c, 1];
      const g3 = grad.reshape([n, c, l]);
      const product = this.#product.take(g3.shape, dtype);
      const channelSum = this.#channelSum.take([c], dtype);
      add(this.weight.grad, sum(mul(g3, normalized!.reshape(g3.shape), product), [0, 2], false, channelSum), this.weight.grad);
      add(this.bias.grad, sum(g3, [0, 2], false, channelSum), this.bias.grad);
      if (options?.inputGrad === false) return undefined;
      // dL/dx̂ = g·weight, then layerNorm's backward without affine.
      groupedGrad = mul(g3, this.weight.value.reshape(perChannel), product).reshape(grouped.shape);
    } else if (options?.inputGrad === false) {
      return undefined;
    }
    const dx = this.output(options, input.shape, dtype);
    layerNormBackward(groupedGrad, grouped, { mean, invStd }, { out: dx.reshape(grouped.shape) });
    return dx;
  }
}
