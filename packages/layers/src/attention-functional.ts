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
 * batch dimension).
 */
import {
  type DType,
  DTypeError,
  type Generator,
  NDArray,
  ShapeError,
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
    ? causalMask(L, S, dtype)
    : options.attnMask === undefined
      ? undefined
      : attentionBias(op, 'attnMask', options.attnMask, dtype, 'keep');
  if (bias !== undefined) checkBroadcastsTo(op, 'attnMask', bias.shape, scoresShape);

  const B = batch.reduce((p, d) => p * d, 1);
  const q3 = query.reshape([B, L, E]);
  const k3 = key.reshape([B, S, E]);
  const v3 = value.reshape([B, S, Ev]);
  const scores = gemm(q3, k3, { transB: true, alpha: scale }).reshape(scoresShape);
  if (bias !== undefined) add(scores, bias, scores);
  const weights = softmax(scores, -1);
  checkRowsAttend(op, weights);
  const dropoutMask = dropoutP > 0 ? drawDropoutMask(scoresShape, dtype, dropoutP, rng) : null;
  const used = dropoutMask === null ? weights : mul(weights, dropoutMask);
  const output = gemm(used.reshape([B, L, S]), v3).reshape([...batch, L, Ev]);
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
  const [L, E] = query.shape.slice(-2);
  const [S, Ev] = value.shape.slice(-2);
  const B = query.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  const g = outputGrad.reshape([B, L, Ev]);
  const p = weights.reshape([B, L, S]);
  const mask = dropoutMask?.reshape([B, L, S]);
  const used = mask === undefined ? p : mul(p, mask);
  const dValue = gemm(used, g, { transA: true }); // Pᵀ·g: [B, S, Ev]
  const dUsed = gemm(g, value.reshape([B, S, Ev]), { transB: true }); // g·Vᵀ: [B, L, S]
  if (mask !== undefined) mul(dUsed, mask, dUsed);
  const dScores = softmaxBackward(dUsed, p, -1);
  const dQuery = gemm(dScores, key.reshape([B, S, E]), { alpha: scale }); // scale·dS·K
  const dKey = gemm(dScores, query.reshape([B, L, E]), { transA: true, alpha: scale }); // scale·dSᵀ·Q
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
  const rows = arange(0, L, 1, { dtype: 'float64' }).reshape([L, 1]);
  const columns = arange(0, S, 1, { dtype: 'float64' }).reshape([1, S]);
  const future = greater(columns, rows, zeros([L, S], { dtype: 'int32' }));
  return where(future, -Infinity, 0, zeros([L, S], { dtype }));
}

/**
 * A mask as an additive float bias of `dtype`: an int32 (boolean) mask
 * becomes 0 / −∞, where `masked` says which value removes a key (torch's
 * functional: 0 removes; MultiheadAttention: 1 removes); a float mask is
 * used as it is (NaN refused). Internal, shared with MultiheadAttention.
 */
export function attentionBias(op: string, name: string, mask: unknown, dtype: DType, oneMeans: 'keep' | 'mask'): NDArray {
  if (!(mask instanceof NDArray)) throw new ValueError(`${op}: ${name} must be an NDArray, got ${describe(mask)}`);
  if (mask.dtype === 'int32') {
    checkRange(op, name, mask, 0, 1, ` (an int32 ${name} is boolean: 1 ${oneMeans === 'keep' ? 'takes part' : 'is masked out'}, 0 ${oneMeans === 'keep' ? 'is masked out' : 'takes part'})`);
    const out = zeros(mask.shape, { dtype });
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
  const i = firstNonFinite(weights);
  if (i < 0) return;
  const at = unravelIndex(i, weights.shape);
  throw new ValueError(
    `${op}: the attention weights of query ${at[at.length - 2]} (batch index [${at.slice(0, -2).join(', ')}], weights shape ` +
      `${formatShape(weights.shape)}) are NaN: every key is masked for that query (attnMask, keyPaddingMask or isCausal), ` +
      'or the inputs hold NaN or Infinity; torch returns a row of NaN there',
  );
}

/** A dropout mask of 0 and 1/(1 − p), drawn exactly as `Dropout` draws its own (u < 1 − p, uniforms in float64). */
function drawDropoutMask(shape: readonly number[], dtype: DType, p: number, rng: Generator): NDArray {
  const mask = zeros(shape, { dtype });
  if (p === 1) return mask; // torch draws nothing for p = 1
  const keep = 1 - p;
  const scale = dtype === 'float32' ? Math.fround(1 / Math.fround(keep)) : 1 / keep;
  const u = fillUniform(zeros(shape, { dtype: 'float64' }), 0, 1, rng);
  less(u, keep, mask);
  return mul(mask, scale, mask);
}
