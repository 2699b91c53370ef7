import {
  type DType,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  Slot,
  ValueError,
  add,
  broadcastShapes,
  checkBoolean,
  checkChoice,
  checkNumber,
  checkOptions,
  concat,
  defaultGenerator,
  describe,
  div,
  formatShape,
  gemm,
  mul,
  narrow,
  shapesEqual,
  sum,
  transpose,
  zeros,
} from '@backprop/ndarray';
import { pythonFloat } from './python-repr';
import {
  type AttentionGrads,
  AttentionScratch,
  type ScaledDotProductAttentionResult,
  attentionBackward,
  attentionBias,
  attentionForward,
  checkBroadcastsTo,
} from './attention-functional';
import { checkArrayArg, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { xavierUniform } from './init';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import { Linear } from './linear';

/** Options of {@link MultiheadAttention}. */
export interface MultiheadAttentionOptions {
  /** Learn the input and output projections' biases (default true). */
  bias?: boolean;
  /** Inputs and output are [N, L, E] (batch first) instead of torch's default [L, N, E]. */
  batchFirst?: boolean;
  /** Dropout probability on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Parameter dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Generator for the initial weights and the dropout masks; the global one (`manualSeed`) by default. */
  rng?: Generator;
}

const MHA_OPTIONS = ['bias', 'batchFirst', 'dropout', 'dtype', 'rng'] as const;

/** Options of {@link MultiheadAttention.forward} and {@link MultiheadAttention.attend}, as torch's `forward` arguments. */
export interface MultiheadAttentionForwardOptions extends ForwardOptions {
  /**
   * [N, S] (unbatched: [S]): which keys of each sequence to ignore. An int32
   * mask is torch's boolean one: 1 = padding (ignored), 0 = a real key; a
   * float mask (the inputs' dtype) is added to the scores.
   */
  keyPaddingMask?: NDArray;
  /**
   * [L, S], or [N·numHeads, L, S] (item n·numHeads + h for sequence n, head h;
   * unbatched: [numHeads, L, S]). An int32 mask is torch's boolean one for this
   * module: 1 = not allowed to attend (the opposite of
   * `scaledDotProductAttention`'s convention, as in torch); a float mask is
   * added to the scores.
   */
  attnMask?: NDArray;
  /** Mask every key after the query's position (torch 2.x's `is_causal`, applied here, not a hint). Not together with `attnMask`. */
  isCausal?: boolean;
  /** Keep the attention weights of this pass in {@link MultiheadAttention.attnWeights} (torch's `need_weights`; default false). */
  needWeights?: boolean;
  /** With `needWeights`: average over the heads ([N, L, S], default true) or keep each head ([N, numHeads, L, S]). */
  averageAttnWeights?: boolean;
}

const FORWARD_OPTIONS = ['into', 'keyPaddingMask', 'attnMask', 'isCausal', 'needWeights', 'averageAttnWeights'] as const;

/**
 * The output projection of {@link MultiheadAttention}: a `Linear`, named as
 * torch names its class (`NonDynamicallyQuantizableLinear`), so printing a
 * model reads as torch's.
 */
export class NonDynamicallyQuantizableLinear extends Linear {
  override get typeName(): string {
    return this.namedAs(NonDynamicallyQuantizableLinear, 'NonDynamicallyQuantizableLinear');
  }
}

/** What one forward pass leaves for backward. */
interface Pass {
  /** 'self': forward(x), one input and the packed projection; 'qkv': attend(query, key, value). */
  form: 'self' | 'qkv';
  /** The inputs as [rows, E] (one for 'self'), their shapes, and the weight slices [E, E] of 'qkv'. */
  inputs2d: NDArray[];
  inputShapes: (readonly number[])[];
  slices: NDArray[];
  batched: boolean;
  N: number;
  L: number;
  S: number;
  attention: ScaledDotProductAttentionResult;
  outputShape: readonly number[];
}

/**
 * Multi-head scaled dot-product attention, as
 * `torch.nn.MultiheadAttention(embedDim, numHeads, dropout, bias, batch_first=batchFirst)`:
 * the query, key and value are projected by `in_proj_weight` [3E, E] (q, k, v
 * stacked) and `in_proj_bias` [3E], split into `numHeads` heads of
 * E/numHeads features, each head attends with
 * softmax(q·kᵀ/√(E/numHeads) + mask)·v, and the heads are joined and
 * projected by `out_proj` (a Linear).
 *
 * Two ways to call it:
 * - `forward(x, options)`: self-attention, x used as query, key and value
 *   (torch's `mha(x, x, x)`), so it works as a layer inside a model;
 *   `backward(outputGrad)` returns dx, the sum of the three paths.
 * - `attend(query, key, value, options)`: torch's `mha(query, key, value)`,
 *   key and value of length S, query of length L; `backwardAttend(outputGrad)`
 *   returns `{ query, key, value }` gradients.
 *
 * Shapes: [L, N, E] (or [N, L, E] with `batchFirst`), or unbatched [L, E];
 * the output has the query's shape. State-dict keys are torch's:
 * `in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`.
 * Initialisation is torch's, draw for draw: `out_proj` is created first (a
 * Linear's draws), then `in_proj_weight` by xavier-uniform; both biases are 0.
 *
 * Masks (see {@link MultiheadAttentionForwardOptions}) follow torch 1.13's
 * module: int32 1 = masked out; float masks are added (a boolean and a float
 * mask combine by adding −∞, as torch's `masked_fill`). A query with every key
 * masked is an error here (torch returns NaN for it).
 *
 * Dropout (`dropout` > 0) zeroes attention weights in training mode only,
 * drawing from `rng` as `Dropout` does (torch's own stream, in a torch build
 * without MKL); in eval mode, or with dropout 0, the layer is deterministic.
 *
 * The order of operations is torch 1.13's `multi_head_attention_forward`: q
 * divided by √headDim, then q·kᵀ (+ mask), softmax, dropout, ·v. The layer
 * keeps its intermediate arrays (projections, heads, scores, weights, their
 * gradients, the causal mask and its constants) from call to call, so a
 * training step at a steady size allocates only what it returns: the output
 * (none inside a `Sequential`, which hands in a slot) and the input
 * gradient(s). What it returns is never overwritten later.
 *
 * @example
 * const mha = new MultiheadAttention(32, 4, { batchFirst: true });
 * const y = mha.forward(x, { isCausal: true, needWeights: true });   // x, y: [N, L, 32]
 * mha.attnWeights;                                                   // [N, L, L], averaged over heads
 * const dx = mha.backward(outputGrad);
 */
export class MultiheadAttention extends NeuralLayer {
  readonly embedDim: number;
  readonly numHeads: number;
  /** embedDim / numHeads: each head's features. */
  readonly headDim: number;
  readonly batchFirst: boolean;
  /** The dropout probability on the attention weights (training mode). */
  readonly dropout: number;
  readonly dtype: DType;
  /** Where the initial weights came from, and the dropout masks come from. */
  readonly rng: Generator;

  // Registered under torch's names (registerParameter/registerLayer); `declare` emits no field that would shadow them.
  /** [3·embedDim, embedDim]: the query, key and value projections, stacked. */
  declare readonly in_proj_weight: Parameter;
  /** [3·embedDim], or absent with `{ bias: false }`. */
  declare readonly in_proj_bias?: Parameter;
  /** The output projection, [embedDim, embedDim]. */
  declare readonly out_proj: NonDynamicallyQuantizableLinear;

  #pass?: Pass;
  #attnWeights: NDArray | null = null;

  // Scratch reused from call to call (a steady training step allocates only its output).
  /** Attention's own arrays, and its constants (the part indices, the causal mask). */
  readonly #scratch = new AttentionScratch();
  /** forward: the packed projection [rows, 3E]; backward: its gradient. attend: one part's projection or gradient [rows, E]. */
  readonly #packed = new Slot();
  /** The packed projection as heads [3, N, H, L, D] (q, k and v are views of it), and the three heads' gradients, joined. */
  readonly #heads = new Slot();
  readonly #partsGrad = new Slot();
  /** attend: the query, key and value heads [N, H, ·, D]. */
  readonly #parts = [new Slot(), new Slot(), new Slot()];
  /** The heads joined again [L, N, E] (or [N, L, E]): out_proj's input. */
  readonly #joined = new Slot();
  /** out_proj's input gradient, and it as heads [1, N, H, L, D]. */
  readonly #joinedGrad = new Slot();
  readonly #headsGrad = new Slot();
  /** Σ over rows of the packed gradient [3E]; attend: each part's weight [E, E] and bias [E] gradient, and them joined. */
  readonly #biasSum = new Slot();
  readonly #weightGrad = new Slot();
  /** The masks as additive biases: attnMask's, keyPaddingMask's, and both added. */
  readonly #attnMaskBias = new Slot();
  readonly #paddingBias = new Slot();
  readonly #combinedBias = new Slot();

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const op = `MultiheadAttention(${describe(embedDim)}, ${describe(numHeads)})`;
    checkOptions(op, options, MHA_OPTIONS);
    this.embedDim = checkSize(op, 'embedDim', embedDim, 1);
    this.numHeads = checkSize(op, 'numHeads', numHeads, 1);
    if (embedDim % numHeads !== 0) {
      throw new ValueError(`${op}: embedDim (${embedDim}) must be divisible by numHeads (${numHeads}); each head gets embedDim / numHeads features`);
    }
    this.headDim = embedDim / numHeads;
    const bias = checkBoolean(op, 'bias', options.bias ?? true);
    this.batchFirst = checkBoolean(op, 'batchFirst', options.batchFirst ?? false);
    this.dropout = checkNumber(op, 'dropout', options.dropout ?? 0, { min: 0, max: 1 });
    this.dtype = checkChoice(op, 'dtype', options.dtype ?? 'float32', ['float32', 'float64'] as const);
    this.rng = checkRng(op, options.rng);
    const dtype = this.dtype;
    this.registerParameter('in_proj_weight', new Parameter(zeros([3 * embedDim, embedDim], { dtype })));
    if (bias) this.registerParameter('in_proj_bias', new Parameter(zeros([3 * embedDim], { dtype })));
    // torch creates out_proj (its Linear draws its weight and bias) before _reset_parameters draws in_proj_weight.
    this.registerLayer('out_proj', new NonDynamicallyQuantizableLinear(embedDim, embedDim, { bias, dtype, rng: this.rng }));
    this.resetParameters(this.rng);
  }

  /**
   * torch's `_reset_parameters`: xavier-uniform `in_proj_weight`, zero
   * biases (`out_proj.weight` keeps the Linear's own initialisation).
   */
  resetParameters(rng: Generator = defaultGenerator): void {
    xavierUniform(this.in_proj_weight.value, {}, rng);
    this.in_proj_bias?.value.fill(0);
    this.out_proj.bias?.value.fill(0);
  }

  /** The input projection weight (`in_proj_weight`). */
  get inProjWeight(): Parameter {
    return this.in_proj_weight;
  }

  /** The input projection bias (`in_proj_bias`), or null without bias. */
  get inProjBias(): Parameter | null {
    return this.in_proj_bias ?? null;
  }

  /** The output projection (`out_proj`). */
  get outProj(): NonDynamicallyQuantizableLinear {
    return this.out_proj;
  }

  /**
   * The attention weights of the last forward pass that asked for them
   * (`needWeights: true`), after dropout as torch returns them: [N, L, S]
   * averaged over heads, or [N, numHeads, L, S] (unbatched: without N); null
   * when the last pass did not ask.
   */
  get attnWeights(): NDArray | null {
    return this.#attnWeights;
  }

  override get typeName(): string {
    return this.namedAs(MultiheadAttention, 'MultiheadAttention');
  }

  protected override label(): string {
    const extras = [
      this.in_proj_bias ? '' : 'bias: false',
      this.batchFirst ? 'batchFirst: true' : '',
      this.dropout > 0 ? `dropout: ${pythonFloat(this.dropout)}` : '',
    ].filter((s) => s !== '');
    return `${this.typeName}(${this.embedDim}, ${this.numHeads}${extras.length > 0 ? `, { ${extras.join(', ')} }` : ''})`;
  }

  /**
   * Self-attention: `input` is the query, the key and the value, as torch's
   * `mha(x, x, x, ...)[0]`. [L, N, E] ([N, L, E] with `batchFirst`) or [L, E].
   */
  forward(input: NDArray, options: MultiheadAttentionForwardOptions = {}): NDArray {
    const op = this.label();
    checkOptions(op, options, FORWARD_OPTIONS);
    const { batched, N, L } = this.checkInput(op, 'input', input);
    const { embedDim: E, numHeads: H, headDim: D, dtype } = this;
    const rows = input.size / E;
    const x2d = input.reshape([rows, E]);
    // One gemm for q, k and v ([rows, 3E]), as torch's packed in-projection.
    const packed = gemm(x2d, this.in_proj_weight.value, {
      transB: true,
      bias: this.in_proj_bias?.value,
      out: this.#packed.take([rows, 3 * E], dtype),
    });
    const heads = this.toHeads(packed, L, N, 3, batched, this.#heads);
    // q, k and v: views of the three parts of the heads (no copies).
    const [q, k, v] = [0, 1, 2].map((part) => narrow(heads, part, 1).reshape([N, H, L, D]));
    const attention = this.attention(op, q, k, v, options, batched, N, L, L);
    this.#pass = { form: 'self', inputs2d: [x2d], inputShapes: [input.shape], slices: [], batched, N, L, S: L, attention, outputShape: input.shape };
    return this.finish(attention, L, N, batched, input.shape, options);
  }

  /**
   * Attention of `query` [L, N, E] over `key` and `value` [S, N, E] (each
   * [N, ·, E] with `batchFirst`, or unbatched [L, E] / [S, E]), as torch's
   * `mha(query, key, value, ...)[0]`; the output has the query's shape. Its
   * backward pass is {@link backwardAttend}.
   */
  attend(query: NDArray, key: NDArray, value: NDArray, options: MultiheadAttentionForwardOptions = {}): NDArray {
    const op = `${this.label()}.attend`;
    checkOptions(op, options, FORWARD_OPTIONS);
    const qInfo = this.checkInput(op, 'query', query);
    const kInfo = this.checkInput(op, 'key', key);
    const vInfo = this.checkInput(op, 'value', value);
    const { batched, N, L } = qInfo;
    const S = kInfo.L;
    if (kInfo.batched !== batched || vInfo.batched !== batched || kInfo.N !== N || vInfo.N !== N || vInfo.L !== S) {
      throw new ShapeError(
        `${op}: query ${formatShape(query.shape)}, key ${formatShape(key.shape)} and value ${formatShape(value.shape)} do not fit together; ` +
          `expected ${this.layout('L')}, ${this.layout('S')} and ${this.layout('S')} (key and value of one length S, one batch N)`,
      );
    }
    const { embedDim: E, numHeads: H, headDim: D, dtype } = this;
    const inputs2d = [query, key, value].map((x) => x.reshape([x.size / E, E]));
    const weight3 = this.in_proj_weight.value.reshape([3, E, E]);
    const bias3 = this.in_proj_bias?.value.reshape([3, E]);
    const slices: NDArray[] = [];
    const [q, k, v] = this.#parts.map((slot, part) => {
      // This part's rows of the packed weight and bias, as views.
      const weight = narrow(weight3, part, 1).reshape([E, E]);
      const bias = bias3 === undefined ? undefined : narrow(bias3, part, 1).reshape([E]);
      slices.push(weight);
      const length = part === 0 ? L : S;
      const projected = gemm(inputs2d[part], weight, { transB: true, bias, out: this.#packed.take([length * N, E], dtype) });
      return this.toHeads(projected, length, N, 1, batched, slot).reshape([N, H, length, D]);
    });
    const attention = this.attention(op, q, k, v, options, batched, N, L, S);
    this.#pass = {
      form: 'qkv',
      inputs2d,
      inputShapes: [query.shape, key.shape, value.shape],
      slices,
      batched,
      N,
      L,
      S,
      attention,
      outputShape: query.shape,
    };
    return this.finish(attention, L, N, batched, query.shape, options);
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const pass = this.checkPass('backward', 'self', outputGrad);
    const inputGrad = options?.inputGrad ?? true;
    const { embedDim: E, numHeads: H, headDim: D, dtype } = this;
    const { query, key, value } = this.attentionBackward(pass, outputGrad);
    // [3, N, H, L, D] back to the packed [rows, 3E] layout of the projection.
    const joined = concat([query, key, value].map(expandHeads), 0, this.#partsGrad.take([3, pass.N, H, pass.L, D], dtype));
    const packedGrad = this.fromHeads(joined, pass.L, pass.N, 3, pass.batched, this.#packed);
    const x2d = pass.inputs2d[0];
    gemm(packedGrad, x2d, { transA: true, out: this.in_proj_weight.grad, beta: 1 });
    if (this.in_proj_bias) {
      add(this.in_proj_bias.grad, sum(packedGrad, 0, false, this.#biasSum.take([3 * E], dtype)), this.in_proj_bias.grad);
    }
    if (!inputGrad) return undefined;
    const dx = this.output(options, pass.inputShapes[0], dtype);
    gemm(packedGrad, this.in_proj_weight.value, { out: dx.reshape([x2d.shape[0], E]) });
    return dx;
  }

  /**
   * The backward pass of {@link attend}: adds every parameter's gradient and
   * returns dLoss/dQuery, dLoss/dKey and dLoss/dValue (each its input's
   * shape). With `{ inputGrad: false }` only the parameters' gradients.
   */
  backwardAttend(outputGrad: NDArray): AttentionGrads;
  backwardAttend(outputGrad: NDArray, options?: BackwardOptions): AttentionGrads | undefined;
  backwardAttend(outputGrad: NDArray, options?: BackwardOptions): AttentionGrads | undefined {
    const pass = this.checkPass('backwardAttend', 'qkv', outputGrad);
    const inputGrad = options?.inputGrad ?? true;
    const { embedDim: E, dtype } = this;
    const grads = this.attentionBackward(pass, outputGrad);
    const out: NDArray[] = [];
    // Each part's weight and bias gradient is written into its rows of one [3E, E] and one [3E] array, then
    // those are added: each element gets one addition, as index_add_ gives it.
    const weightGrads = this.#weightGrad.take([3 * E, E], dtype).reshape([3, E, E]);
    const biasGrads = this.#biasSum.take([3 * E], dtype).reshape([3, E]);
    [grads.query, grads.key, grads.value].forEach((headGrad, part) => {
      const g2d = this.fromHeads(expandHeads(headGrad), part === 0 ? pass.L : pass.S, pass.N, 1, pass.batched, this.#packed);
      gemm(g2d, pass.inputs2d[part], { transA: true, out: narrow(weightGrads, part, 1).reshape([E, E]) });
      if (this.in_proj_bias) sum(g2d, 0, false, narrow(biasGrads, part, 1).reshape([E]));
      if (inputGrad) out.push(gemm(g2d, pass.slices[part]).reshape(pass.inputShapes[part]));
    });
    const weightGrad = this.in_proj_weight.grad;
    add(weightGrad, weightGrads.reshape([3 * E, E]), weightGrad);
    if (this.in_proj_bias) {
      const biasGrad = this.in_proj_bias.grad;
      add(biasGrad, biasGrads.reshape([3 * E]), biasGrad);
    }
    return inputGrad ? { query: out[0], key: out[1], value: out[2] } : undefined;
  }

  /** Checks one input: its rank, embedDim and dtype; returns whether it is batched, N and its length. */
  private checkInput(op: string, name: string, x: unknown): { batched: boolean; N: number; L: number } {
    const input = checkArrayArg(op, name, x);
    const E = this.embedDim;
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== E) {
      throw new ShapeError(`${op}: ${name} has shape ${formatShape(input.shape)}; expected ${this.layout(name === 'query' || name === 'input' ? 'L' : 'S')}`);
    }
    checkDTypeMatch(op, name, input, this.dtype);
    if (input.ndim === 2) return { batched: false, N: 1, L: input.shape[0] };
    return this.batchFirst ? { batched: true, N: input.shape[0], L: input.shape[1] } : { batched: true, N: input.shape[1], L: input.shape[0] };
  }

  private layout(length: string): string {
    const E = this.embedDim;
    return `${this.batchFirst ? `[N, ${length}, ${E}]` : `[${length}, N, ${E}]`} or unbatched [${length}, ${E}]`;
  }

  /**
   * [rows, parts·E] (rows in the input's order) → [parts, N, H, length, D]
   * in `slot`'s array: heads become a batch dimension of the attention.
   */
  private toHeads(x2d: NDArray, length: number, N: number, parts: number, batched: boolean, slot: Slot): NDArray {
    const { numHeads: H, headDim: D } = this;
    const seqFirst = !batched || !this.batchFirst;
    const shape = seqFirst ? [length, N, parts, H, D] : [N, length, parts, H, D];
    return transpose(x2d.reshape(shape), seqFirst ? [2, 1, 3, 0, 4] : [2, 0, 3, 1, 4], slot.take([parts, N, H, length, D], x2d.dtype));
  }

  /** The inverse of {@link toHeads}: [parts, N, H, length, D] → [rows, parts·E], in `slot`'s array. */
  private fromHeads(heads: NDArray, length: number, N: number, parts: number, batched: boolean, slot: Slot): NDArray {
    const seqFirst = !batched || !this.batchFirst;
    const axes = seqFirst ? [3, 1, 0, 2, 4] : [1, 3, 0, 2, 4];
    const merged = transpose(heads, axes, slot.take(axes.map((axis) => heads.shape[axis]), heads.dtype));
    return merged.reshape([length * N, parts * this.embedDim]);
  }

  /** The masks as one additive bias broadcastable to [N, H, L, S], then scaled dot-product attention over the heads. */
  private attention(
    op: string,
    q: NDArray,
    k: NDArray,
    v: NDArray,
    options: MultiheadAttentionForwardOptions,
    batched: boolean,
    N: number,
    L: number,
    S: number,
  ): ScaledDotProductAttentionResult {
    const isCausal = checkBoolean(op, 'isCausal', options.isCausal ?? false);
    const H = this.numHeads;
    const scores = [N, H, L, S];
    const scratch = this.#scratch;
    let bias: NDArray | undefined;
    if (options.attnMask !== undefined) {
      if (isCausal) throw new ValueError(`${op}: give attnMask or isCausal, not both; add causalMask(L, S) to your mask instead`);
      const mask = attentionBias(op, 'attnMask', options.attnMask, this.dtype, 'mask', this.#attnMaskBias);
      const perHead = batched ? [N * H, L, S] : [H, L, S];
      if (shapesEqual(mask.shape, [L, S])) bias = mask;
      else if (shapesEqual(mask.shape, perHead)) bias = mask.reshape(scores);
      else {
        throw new ShapeError(`${op}: attnMask has shape ${formatShape(mask.shape)}; expected ${formatShape([L, S])} or ${formatShape(perHead)} ([L, S] or [${batched ? 'N·numHeads' : 'numHeads'}, L, S])`);
      }
    } else if (isCausal) {
      bias = scratch.causalMask(L, S, this.dtype);
    }
    if (options.keyPaddingMask !== undefined) {
      const mask = attentionBias(op, 'keyPaddingMask', options.keyPaddingMask, this.dtype, 'mask', this.#paddingBias);
      const expected = batched ? [N, S] : [S];
      if (!shapesEqual(mask.shape, expected)) {
        throw new ShapeError(`${op}: keyPaddingMask has shape ${formatShape(mask.shape)}; expected ${formatShape(expected)} (${batched ? '[N, S]' : '[S]'}: one entry per key)`);
      }
      const padding = mask.reshape([N, 1, 1, S]);
      bias = bias === undefined ? padding : add(bias, padding, this.#combinedBias.take(broadcastShapes(op, bias.shape, padding.shape), this.dtype));
    }
    if (bias !== undefined) checkBroadcastsTo(op, 'the combined mask', bias.shape, scores);
    const dropoutP = this.training ? this.dropout : 0;
    // torch 1.13 scales q before q·kᵀ (q / √headDim, in the dtype); q is this layer's own copy.
    div(q, Math.sqrt(this.headDim), q);
    return attentionForward(q, k, v, { attnMask: bias, scale: 1, dropoutP, rng: this.rng }, scratch);
  }


  /** Joins the heads, projects them by out_proj (into the caller's slot, if any), and keeps the weights when asked. */
  private finish(
    attention: ScaledDotProductAttentionResult,
    L: number,
    N: number,
    batched: boolean,
    outputShape: readonly number[],
    options: MultiheadAttentionForwardOptions,
  ): NDArray {
    const op = this.label();
    const needWeights = checkBoolean(op, 'needWeights', options.needWeights ?? false);
    const average = checkBoolean(op, 'averageAttnWeights', options.averageAttnWeights ?? true);
    this.#attnWeights = null;
    if (needWeights) {
      // torch returns the weights after dropout: what multiplied the values. New arrays: the caller keeps them.
      const { weights, dropoutMask } = attention;
      const used = dropoutMask === null ? weights : mul(weights, dropoutMask);
      const w = average ? div(sum(used, 1), this.numHeads) : used === weights ? weights.clone() : used; // torch: sum(dim=1) / num_heads
      this.#attnWeights = batched ? w : w.reshape(w.shape.slice(1));
    }
    const joined = this.fromHeads(expandHeads(attention.output), L, N, 1, batched, this.#joined);
    return this.out_proj.forward(joined.reshape(outputShape), { into: options.into });
  }

  private checkPass(method: string, form: Pass['form'], outputGrad: unknown): Pass {
    const pass = this.#pass;
    const op = `${this.label()}.${method}`;
    if (pass !== undefined && pass.form !== form) {
      throw new ValueError(
        `${op}: the last forward pass was ${pass.form === 'self' ? 'forward(x)' : 'attend(query, key, value)'}; ` +
          `its backward pass is ${pass.form === 'self' ? 'backward(outputGrad)' : 'backwardAttend(outputGrad)'}`,
      );
    }
    checkOutputGrad(this.label(), outputGrad, pass?.outputShape, this.dtype);
    return pass!;
  }

  /** out_proj's backward (adding its gradients), then attention's: the heads' gradients [N, H, ·, D]. */
  private attentionBackward(pass: Pass, outputGrad: NDArray): AttentionGrads {
    const joinedGrad = this.out_proj.backward(outputGrad, { into: this.#joinedGrad }) as NDArray; // inputGrad is on: never undefined
    const headsGrad = this.toHeads(joinedGrad, pass.L, pass.N, 1, pass.batched, this.#headsGrad);
    const grads = attentionBackward(headsGrad.reshape(headsGrad.shape.slice(1)), pass.attention, this.#scratch);
    div(grads.query, Math.sqrt(this.headDim), grads.query); // through q / √headDim
    return grads;
  }
}

/** [N, H, length, D] as [1, N, H, length, D] (one part). */
function expandHeads(x: NDArray): NDArray {
  return x.reshape([1, ...x.shape]);
}
