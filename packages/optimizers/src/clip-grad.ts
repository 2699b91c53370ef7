import {
  type NDArray,
  add,
  checkBoolean,
  checkOptions,
  clip,
  describe,
  div,
  firstNonFinite,
  mul,
  Parameter,
  stack,
  ValueError,
  vectorNorm,
  zeros,
} from '@backprop/ndarray';
import { checkInterval } from './checks';

/** The options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** The p of the p-norm: any number > 0, or `Infinity` (also `'inf'`) for the largest |g| (default 2). */
  normType?: number | 'inf';
  /** Throw if the total norm is NaN or infinite, instead of scaling the gradients by it (default false). */
  errorIfNonfinite?: boolean;
  /**
   * `false` returns the total norm as a 0-d array where the gradients are,
   * read by nobody (`await norm.itemAsync()` reads it): what a GPU needs,
   * which cannot be read synchronously. Default `true`: a number.
   */
  read?: boolean;
}

/** The parameters as a list, checked: one Parameter or an iterable of them. */
function parameterList(op: string, parameters: unknown): Parameter[] {
  if (parameters instanceof Parameter) return [parameters];
  if (parameters === null || typeof parameters !== 'object' || typeof (parameters as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new ValueError(`${op}: parameters must be a Parameter or an iterable of Parameters, got ${describe(parameters)}`);
  }
  const list = Array.from(parameters as Iterable<unknown>);
  list.forEach((p, i) => {
    if (!(p instanceof Parameter)) {
      throw new ValueError(`${op}: parameters[${i}] must be a Parameter, got ${describe(p)}`);
    }
  });
  return list as Parameter[];
}

/**
 * Scales the gradients in place so that their total norm is at most
 * `maxNorm`: `torch.nn.utils.clip_grad_norm_` (torch 1.13). The total norm
 * is the p-norm of the per-parameter p-norms (the norm of all gradients as
 * one vector); every gradient is multiplied by
 * min(maxNorm / (total + 1e-6), 1), always, as torch does, so a total below
 * `maxNorm` leaves them as they are. The arithmetic is torch's, in the
 * gradients' dtype: the coefficient is maxNorm · (1 / (total + 1e-6)).
 * Returns the total norm before clipping: a number, or with `{ read: false }`
 * a 0-d array where the gradients are, read by nobody (for a GPU).
 *
 * A NaN or infinite total propagates as in torch (the gradients become NaN
 * or zero) unless `errorIfNonfinite` is set; then it throws before changing
 * anything.
 *
 * @example
 * ```ts
 * model.backward(lossFn.backward(), { inputGrad: false });
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 * ```
 */
export function clipGradNorm(
  parameters: Iterable<Parameter> | Parameter,
  maxNorm: number,
  options?: ClipGradNormOptions & { read?: true },
): number;
export function clipGradNorm(parameters: Iterable<Parameter> | Parameter, maxNorm: number, options: ClipGradNormOptions & { read: false }): NDArray;
export function clipGradNorm(parameters: Iterable<Parameter> | Parameter, maxNorm: number, options: ClipGradNormOptions = {}): number | NDArray {
  const op = 'clipGradNorm';
  const params = parameterList(op, parameters);
  checkInterval(op, 'maxNorm', maxNorm, { min: 0 });
  checkOptions(op, options, ['normType', 'errorIfNonfinite', 'read']);
  const { normType: rawNormType = 2, errorIfNonfinite = false, read = true } = options ?? {};
  checkBoolean(op, 'read', read);
  const normType = rawNormType === 'inf' ? Number.POSITIVE_INFINITY : rawNormType;
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new ValueError(`${op}: normType must be a number > 0, Infinity or 'inf', got ${describe(rawNormType)}`);
  }
  checkBoolean(op, 'errorIfNonfinite', errorIfNonfinite);
  if (params.length === 0) return read ? 0 : zeros([]);
  const grads = params.map((p) => p.grad);
  // torch stacks the norms, promoting float32 to float64 if the gradients mix them.
  const dtype = grads.some((g) => g.dtype === 'float64') ? 'float64' : grads[0].dtype;
  const norms = grads.map((g) => {
    const norm = vectorNorm(g, normType);
    return norm.dtype === dtype ? norm : norm.astype(dtype);
  });
  const total = norms.length === 1 ? norms[0] : vectorNorm(stack(norms), normType);
  // Unread, the check runs where the norm is (on a GPU: reported at the next read, after the gradients were scaled).
  const totalNorm = read ? total.item() : undefined;
  const nonFinite = totalNorm === undefined ? errorIfNonfinite && firstNonFinite(total, `${op}: the total norm of the gradients (errorIfNonfinite)`) >= 0 : !Number.isFinite(totalNorm);
  if (errorIfNonfinite && nonFinite) {
    throw new ValueError(
      `${op}: the total norm of order ${normType} of the gradients of ${params.length} parameters is ${totalNorm}, ` +
        'so it cannot be clipped; no gradient was changed. Pass { errorIfNonfinite: false } to scale them by it anyway',
    );
  }
  // torch: clip_coef = max_norm / (total_norm + 1e-6), a Python float divided by a tensor, which is reciprocal() * max_norm.
  const coef = clip(mul(div(1, add(total, 1e-6)), maxNorm), Number.NEGATIVE_INFINITY, 1);
  for (const g of grads) mul(g, coef.dtype === g.dtype ? coef : coef.astype(g.dtype), g);
  return totalNorm ?? total;
}

/**
 * Clamps every gradient element into [−clipValue, clipValue], in place:
 * `torch.nn.utils.clip_grad_value_`. NaN stays NaN.
 *
 * @example
 * ```ts
 * clipGradValue(model.parameters(), 0.5);
 * ```
 */
export function clipGradValue(parameters: Iterable<Parameter> | Parameter, clipValue: number): void {
  const op = 'clipGradValue';
  const params = parameterList(op, parameters);
  const value = checkInterval(op, 'clipValue', clipValue, { min: 0 });
  for (const p of params) clip(p.grad, -value, value, p.grad);
}
