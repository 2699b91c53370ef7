/**
 * Scaled dot-product attention as a function with an explicit backward pass,
 * as `torch.nn.functional.scaled_dot_product_attention` (torch 2.x; its math
 * path): softmax(q·kᵀ·scale + mask)·v.
 *
 * The design follows ndarray's `layerNorm`/`layerNormBackward`: the forward
 * function returns a record holding the output and everything its backward
 * needs (the attention weights, the dropout mask, the inputs and the scale),
 * and `scaledDotProductAttentionBackward(outputGrad, result)` turns it into
 * the three gradients. Nothing is hidden in an object between the calls, the
 * caller decides how long the record lives, and the same function serves a
 * user's own layer and `MultiheadAttention` (which passes its heads as a
 * batch dimension). The functions return new arrays on every call; inside,
 * both run `attentionForward`/`attentionBackward` on an `AttentionScratch`,
 * which `MultiheadAttention` keeps from step to step so that a steady step
 * allocates nothing.
 */
import {
  type DType,
  DTypeError,
  type Generator,
  NDArray,
  ShapeError,
  Slot,
  ValueError,
  add,
  arange,
  broadcastShapes,
  checkBoolean,
  checkChoice,
  checkNumber,
  checkOptions,
  checkRange,
  describe,
  accumulatorDType,
  fillUniform,
  firstNonFinite,
  formatShape,
  gemm,
  greater,
  less,
  mul,
  shapesEqual,
  softmax,
  softmaxBackward,
  unravelIndex,
  where,
  zeros,
} from '@backprop/ndarray';
import { checkRng } from './checks';

/** Options of {@link scaledDotProductAttention}. */
export interface ScaledDotProductAttentionOptions {
  /**
   * A mask broadcastable to the scores [..., L, S]. An int32 array is a
   * boolean mask, torch's `torch.bool`: 1 where a query may attend to a key
   * (takes part), 0 where it may not (its score becomes −∞). A float array of
   * the inputs' dtype is added to the scores (0 keeps, −∞ removes, anything
   * else biases). Turn a comparison into a boolean mask with an int32 `out`
   * (`greater(a, b, zeros(shape, { dtype: 'int32' }))`) or `.astype('int32')`.
   */
  attnMask?: NDArray;
  /** Mask every key after the query's own position (key j > query i; the top-left-aligned lower triangle of [L, S]). Not together with `attnMask`. */
  isCausal?: boolean;
  /** Multiplies q·kᵀ; default 1/√E (E = the query's last dimension), as torch. */
  scale?: number;
  /** Dropout probability on the attention weights (default 0: none); applied whenever > 0, as torch's function does. */
  dropoutP?: number;
  /** Generator the dropout mask is drawn from; the global one (`manualSeed`) by default. */
  rng?: Generator;
}

const SDPA_OPTIONS = ['attnMask', 'isCausal', 'scale', 'dropoutP', 'rng'] as const;

/** What {@link scaledDotProductAttention} returns: the output, and what its backward pass needs. */
export interface ScaledDotProductAttentionResult {
  /** softmax(q·kᵀ·scale + mask)·v: [..., L, Ev]. */
  readonly output: NDArray;
  /** The softmax probabilities [..., L, S], before dropout. */
  readonly weights: NDArray;
  /** [..., L, S]: 0 where dropout dropped a weight, 1/(1 − p) where it kept one; null without dropout. */
  readonly dropoutMask: NDArray | null;
  readonly query: NDArray;
  readonly key: NDArray;
  readonly value: NDArray;
  /** The scale that multiplied q·kᵀ. */
  readonly scale: number;
}

/** Gradients of the loss with respect to attention's three inputs, each of its input's shape. */
export interface AttentionGrads {
  query: NDArray;
  key: NDArray;
  value: NDArray;
}

/**
 * softmax(q·kᵀ·scale + mask)·v, as torch 2.x's
 * `F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)`.
 *
 * Shapes: query [..., L, E], key [..., S, E], value [..., S, Ev], with the
 * same leading (batch) dimensions (any number, none included; they do not
 * broadcast against each other). The output is [..., L, Ev]; the masks
 * broadcast against the scores [..., L, S].
 *
 * A query whose every key is masked has no softmax (torch gives a row of NaN);
 * here that is an error naming the row, rather than NaN flowing on.
 *
 * Dropout, when `dropoutP` > 0, zeroes each weight with probability p and
 * scales the others by 1/(1 − p), drawn as `Dropout` draws its masks.
 *
 * @example
 * const r = scaledDotProductAttention(q, k, v, { isCausal: true });   // r.output: [B, L, Ev]
 * const { query, key, value } = scaledDotProductAttentionBackward(outputGrad, r);
 */
export function scaledDotProductAttention(
  query: NDArray,
  key: NDArray,
  value: NDArray,
  options: ScaledDotProductAttentionOptions = {},
): ScaledDotProductAttentionResult {
  return attentionForward(query, key, value, options, new AttentionScratch());
}

/**
 * {@link scaledDotProductAttention} computing into `scratch`'s arrays: what it
 * returns lives there until the next call with the same scratch (internal:
 * `MultiheadAttention` keeps one scratch, so a steady step allocates nothing).
 */
export function attentionForward(
  query: NDArray,
  key: NDArray,
  value: NDArray,
  options: ScaledDotProductAttentionOptions,
  scratch: AttentionScratch,
): ScaledDotProductAttentionResult {
  const op = 'scaledDotProductAttention';
  checkOptions(op, options, SDPA_OPTIONS);
  const { batch, L, S, E, Ev } = checkAttentionInputs(op, query, key, value);
  const dtype = query.dtype;
  const isCausal = checkBoolean(op, 'isCausal', options.isCausal ?? false);
  const scale = options.scale === undefined ? 1 / Math.sqrt(E) : checkNumber(op, 'scale', options.scale);
  const dropoutP = checkNumber(op, 'dropoutP', options.dropoutP ?? 0, { min: 0, max: 1 });
  const rng = checkRng(op, options.rng);
  if (isCausal && options.attnMask !== undefined) {
    throw new ValueError(`${op}: give attnMask or isCausal, not both (torch refuses both too); add the causal mask (causalMask(L, S)) to your own`);
  }
  const scoresShape = [...batch, L, S];
  const bias = isCausal
    ? scratch.causalMask(L, S, dtype)
    : options.attnMask === undefined
      ? undefined
      : attentionBias(op, 'attnMask', options.attnMask, dtype, 'keep', scratch.attnMask);
  if (bias !== undefined) checkBroadcastsTo(op, 'attnMask', bias.shape, scoresShape);

  const B = batch.reduce((p, d) => p * d, 1);
  const q3 = query.reshape([B, L, E]);
  const k3 = key.reshape([B, S, E]);
  const v3 = value.reshape([B, S, Ev]);
  const scores = gemm(q3, k3, { transB: true, out: scratch.scores.take([B, L, S], dtype) }).reshape(scoresShape);
  // (q·kᵀ)·scale, as torch's `q @ k.transpose(-2, -1) * scale` (the scale rounded to the dtype); 1 changes nothing.
  if (scale !== 1) mul(scores, scale, scores);
  if (bias !== undefined) add(scores, bias, scores);
  const weights = softmax(scores, -1, scratch.weights.take(scoresShape, dtype));
  checkRowsAttend(op, weights);
  const dropoutMask = dropoutP > 0 ? drawDropoutMask(scoresShape, dtype, dropoutP, rng, scratch) : null;
  const used = dropoutMask === null ? weights : mul(weights, dropoutMask, scratch.used.take(scoresShape, dtype));
  const output = gemm(used.reshape([B, L, S]), v3, { out: scratch.output.take([B, L, Ev], dtype) }).reshape([...batch, L, Ev]);
  return { output, weights, dropoutMask, query, key, value, scale };
}

/**
 * The backward pass of {@link scaledDotProductAttention}: given dLoss/dOutput
 * and the forward pass's result, dLoss/dQuery, dLoss/dKey and dLoss/dValue.
 * With P the weights after dropout: dV = Pᵀ·g, dS = softmax′(g·Vᵀ ⊙ mask),
 * dQ = scale·dS·K, dK = scale·dSᵀ·Q.
 *
 * @example
 * const r = scaledDotProductAttention(q, k, v);
 * const grads = scaledDotProductAttentionBackward(onesLike(r.output), r);   // grads.query: q's shape
 */
export function scaledDotProductAttentionBackward(outputGrad: NDArray, result: ScaledDotProductAttentionResult): AttentionGrads {
  return attentionBackward(outputGrad, result, new AttentionScratch());
}

/**
 * {@link scaledDotProductAttentionBackward} computing into `scratch`'s arrays
 * (internal, as {@link attentionForward}): the gradients live there until
 * the next backward call with that scratch.
 */
export function attentionBackward(outputGrad: NDArray, result: ScaledDotProductAttentionResult, scratch: AttentionScratch): AttentionGrads {
  const op = 'scaledDotProductAttentionBackward';
  if (result === null || typeof result !== 'object' || !(result.output instanceof NDArray) || !(result.weights instanceof NDArray)) {
    throw new ValueError(`${op}: expected the result of scaledDotProductAttention as the second argument, got ${describe(result)}`);
  }
  const { query, key, value, weights, dropoutMask, scale, output } = result;
  if (!(outputGrad instanceof NDArray)) throw new ValueError(`${op}: outputGrad must be an NDArray, got ${describe(outputGrad)}`);
  if (!shapesEqual(outputGrad.shape, output.shape)) {
    throw new ShapeError(`${op}: outputGrad has shape ${formatShape(outputGrad.shape)}, expected the output's shape ${formatShape(output.shape)}`);
  }
  if (outputGrad.dtype !== output.dtype) {
    throw new DTypeError(`${op}: outputGrad has dtype ${outputGrad.dtype}, expected ${output.dtype} (the output's)`);
  }
  const dtype = output.dtype;
  const [L, E] = query.shape.slice(-2);
  const [S, Ev] = value.shape.slice(-2);
  const B = query.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  const g = outputGrad.reshape([B, L, Ev]);
  const p = weights.reshape([B, L, S]);
  const mask = dropoutMask?.reshape([B, L, S]);
  const used = mask === undefined ? p : mul(p, mask, scratch.used.take([B, L, S], dtype));
  const dValue = gemm(used, g, { transA: true, out: scratch.valueGrad.take([B, S, Ev], dtype) }); // Pᵀ·g: [B, S, Ev]
  const dUsed = gemm(g, value.reshape([B, S, Ev]), { transB: true, out: scratch.usedGrad.take([B, L, S], dtype) }); // g·Vᵀ: [B, L, S]
  if (mask !== undefined) mul(dUsed, mask, dUsed);
  // The scores are not needed after the forward pass: their array takes their gradient.
  const dScores = softmaxBackward(dUsed, p, -1, scratch.scores.take([B, L, S], dtype));
  if (scale !== 1) mul(dScores, scale, dScores); // d(q·kᵀ) = scale·dS
  const dQuery = gemm(dScores, key.reshape([B, S, E]), { out: scratch.queryGrad.take([B, L, E], dtype) }); // scale·dS·K
  const dKey = gemm(dScores, query.reshape([B, L, E]), { transA: true, out: scratch.keyGrad.take([B, S, E], dtype) }); // scale·dSᵀ·Q
  return { query: dQuery.reshape(query.shape), key: dKey.reshape(key.shape), value: dValue.reshape(value.shape) };
}

/**
 * The additive causal mask [L, S]: 0 where key j ≤ query i, −∞ above the
 * diagonal (torch's `ones(L, S).tril()` as a float mask).
 *
 * @example causalMask(3, 3, 'float64')   // [[0, −∞, −∞], [0, 0, −∞], [0, 0, 0]]
 */
export function causalMask(L: number, S: number, dtype: DType = 'float32'): NDArray {
  checkNumber('causalMask', 'L', L, { min: 0, integer: true });
  checkNumber('causalMask', 'S', S, { min: 0, integer: true });
  checkChoice('causalMask', 'dtype', dtype, ['float32', 'float64'] as const);
  return writeCausalMask(zeros([L, S], { dtype }));
}

/** The causal mask of `out`'s shape [L, S] written into `out`. */
function writeCausalMask(out: NDArray): NDArray {
  const [L, S] = out.shape;
  // int32 positions: exact, and held by every backend (a GPU has no float64).
  const rows = arange(0, L, 1, { dtype: 'int32' }).reshape([L, 1]);
  const columns = arange(0, S, 1, { dtype: 'int32' }).reshape([1, S]);
  const future = greater(columns, rows, zeros([L, S], { dtype: 'int32' }));
  return where(future, -Infinity, 0, out);
}

/**
 * A mask as an additive float bias of `dtype`: an int32 (boolean) mask
 * becomes 0 / −∞ in `slot`'s array, where `oneMeans` says what 1 does
 * (torch's functional: 1 keeps a key; MultiheadAttention: 1 removes it); a
 * float mask is used as it is (NaN refused). Internal, shared with
 * MultiheadAttention.
 */
export function attentionBias(
  op: string,
  name: string,
  mask: unknown,
  dtype: DType,
  oneMeans: 'keep' | 'mask',
  slot: Slot,
): NDArray {
  if (!(mask instanceof NDArray)) throw new ValueError(`${op}: ${name} must be an NDArray, got ${describe(mask)}`);
  if (mask.dtype === 'int32') {
    checkRange(op, name, mask, 0, 1, ` (an int32 ${name} is boolean: 1 ${oneMeans === 'keep' ? 'takes part' : 'is masked out'}, 0 ${oneMeans === 'keep' ? 'is masked out' : 'takes part'})`);
    const out = slot.take(mask.shape, dtype);
    return oneMeans === 'keep' ? where(mask, 0, -Infinity, out) : where(mask, -Infinity, 0, out);
  }
  if (mask.dtype !== dtype) {
    throw new DTypeError(
      `${op}: ${name} has dtype ${mask.dtype}; expected int32 (a boolean mask) or ${dtype} (an additive mask, the inputs' dtype)`,
    );
  }
  checkRange(op, name, mask, -Infinity, Infinity, ' (a float mask is added to the scores; NaN is not a mask value)');
  return mask;
}

/** Throws unless `shape` broadcasts to exactly `target` (a mask may not grow the scores). */
export function checkBroadcastsTo(op: string, name: string, shape: readonly number[], target: readonly number[]): void {
  let fits = shape.length <= target.length;
  if (fits) {
    try {
      fits = shapesEqual(broadcastShapes(op, shape, target), target);
    } catch {
      fits = false;
    }
  }
  if (!fits) {
    throw new ShapeError(`${op}: ${name} has shape ${formatShape(shape)}, which does not broadcast to the attention scores ${formatShape(target)}`);
  }
}

function checkAttentionInputs(
  op: string,
  query: unknown,
  key: unknown,
  value: unknown,
): { batch: number[]; L: number; S: number; E: number; Ev: number } {
  const named = { query, key, value };
  for (const [name, x] of Object.entries(named)) {
    if (!(x instanceof NDArray)) throw new ValueError(`${op}: ${name} must be an NDArray, got ${describe(x)}`);
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new DTypeError(`${op}: ${name} has dtype ${x.dtype}; expected float32 or float64`);
    if (x.ndim < 2) throw new ShapeError(`${op}: ${name} has shape ${formatShape(x.shape)}; expected at least 2 dimensions [..., length, features]`);
  }
  const q = query as NDArray;
  const k = key as NDArray;
  const v = value as NDArray;
  if (k.dtype !== q.dtype || v.dtype !== q.dtype) {
    throw new DTypeError(`${op}: query, key and value must share a dtype, got ${q.dtype}, ${k.dtype} and ${v.dtype}`);
  }
  const batch = q.shape.slice(0, -2);
  const [L, E] = q.shape.slice(-2);
  const [S, Ek] = k.shape.slice(-2);
  const [Sv, Ev] = v.shape.slice(-2);
  const expected = `query [..., L, E], key [..., S, E], value [..., S, Ev] with the same leading dimensions`;
  const got = `got query ${formatShape(q.shape)}, key ${formatShape(k.shape)}, value ${formatShape(v.shape)}`;
  if (!shapesEqual(k.shape.slice(0, -2), batch) || !shapesEqual(v.shape.slice(0, -2), batch)) {
    throw new ShapeError(`${op}: the leading (batch) dimensions differ; expected ${expected}, ${got}`);
  }
  if (Ek !== E) throw new ShapeError(`${op}: query and key have different features (${E} and ${Ek}); expected ${expected}, ${got}`);
  if (Sv !== S) throw new ShapeError(`${op}: key and value have different lengths (${S} and ${Sv}); expected ${expected}, ${got}`);
  return { batch, L, S, E, Ev };
}

/** Throws if a softmax row is not finite: every key of that query masked (or a NaN/Infinity in the inputs). */
function checkRowsAttend(op: string, weights: NDArray): void {
  const i = firstNonFinite(weights, `${op}: the attention weights (a query whose every key is masked, or NaN or Infinity in the inputs)`);
  if (i < 0) return;
  const at = unravelIndex(i, weights.shape);
  throw new ValueError(
    `${op}: the attention weights of query ${at[at.length - 2]} (batch index [${at.slice(0, -2).join(', ')}], weights shape ` +
      `${formatShape(weights.shape)}) are NaN: every key is masked for that query (attnMask, keyPaddingMask or isCausal), ` +
      'or the inputs hold NaN or Infinity; torch returns a row of NaN there',
  );
}

/** A dropout mask of 0 and 1/(1 − p), drawn exactly as `Dropout` draws its own (u < 1 − p, uniforms in accumulatorDType). */
function drawDropoutMask(shape: readonly number[], dtype: DType, p: number, rng: Generator, scratch: AttentionScratch): NDArray {
  const mask = scratch.dropoutMask.take(shape, dtype);
  if (p === 1) return mask.fill(0); // torch draws nothing for p = 1
  const keep = 1 - p;
  const scale = dtype === 'float32' ? Math.fround(1 / Math.fround(keep)) : 1 / keep;
  // Double uniforms, as torch draws; float32 ones on a backend without float64 (another mask for a seed).
  const u = fillUniform(scratch.uniform.take(shape, accumulatorDType(dtype)), 0, 1, rng);
  less(u, keep, mask);
  return mul(mask, scale, mask);
}

/**
 * The arrays one attention computes into, kept from call to call, so that
 * a layer that keeps one (`MultiheadAttention`) allocates nothing at a
 * steady size; the public functions use a fresh one per call, so what they
 * return is theirs. Internal. Each array is valid until the next call that
 * takes it (a forward pass overwrites the last one's, a backward pass the
 * last backward's; the scores' array takes their gradient).
 */
export class AttentionScratch {
  // Forward.
  readonly scores = new Slot();
  readonly weights = new Slot();
  readonly dropoutMask = new Slot();
  readonly uniform = new Slot();
  readonly used = new Slot();
  readonly output = new Slot();
  /** attnMask as an additive bias, for an int32 mask. */
  readonly attnMask = new Slot();
  // Backward.
  readonly usedGrad = new Slot();
  readonly queryGrad = new Slot();
  readonly keyGrad = new Slot();
  readonly valueGrad = new Slot();

  readonly #causal = new Slot();
  #causalMask?: NDArray;

  /** The causal mask [L, S] (see {@link causalMask}), made again only when L, S, the dtype or the backend change. */
  causalMask(L: number, S: number, dtype: DType): NDArray {
    const out = this.#causal.take([L, S], dtype);
    if (out !== this.#causalMask) {
      writeCausalMask(out);
      this.#causalMask = out;
    }
    return out;
  }

}
