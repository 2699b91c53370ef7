/**
 * The update Adam and AdamW share (torch's `_single_tensor_adam` and
 * `_single_tensor_adamw`), in torch's order of floating-point operations.
 *
 * @internal Not exported from the package.
 */
import { type NDArray, type Parameter, zerosLike } from '@backprop/ndarray';
import { fma, powInt, round } from './exact-math';

/** Per-parameter state of {@link Adam} and {@link AdamW}. */
export interface AdamState {
  /** Steps taken by this parameter (t). */
  step: number;
  /** First moment m (torch's `exp_avg`). */
  expAvg: NDArray;
  /** Second moment v (torch's `exp_avg_sq`). */
  expAvgSq: NDArray;
  /** The running maximum of v (torch's `max_exp_avg_sq`), with `amsgrad` only. */
  maxExpAvgSq?: NDArray;
}

export interface AdamStepOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  /** Added to the gradient (Adam's L2 penalty). */
  l2: number;
  /** Multiplies the parameter by 1 − lr·decoupled first (AdamW); null for Adam. */
  decoupled: number | null;
  amsgrad: boolean;
  maximize: boolean;
}

export function initAdamState(param: Parameter, amsgrad: boolean): AdamState {
  const state: AdamState = { step: 0, expAvg: zerosLike(param.value), expAvgSq: zerosLike(param.value) };
  if (amsgrad) state.maxExpAvgSq = zerosLike(param.value);
  return state;
}

export function adamUpdate(param: Parameter, state: AdamState, o: AdamStepOptions): void {
  const f32 = param.dtype === 'float32';
  const [beta1, beta2] = o.betas;
  state.step += 1;
  const step = state.step;
  // Python floats in torch: computed in double, then cast to the tensor's dtype.
  const biasCorrection1 = 1 - powInt(beta1, step);
  const biasCorrection2 = 1 - powInt(beta2, step);
  const stepSize = o.lr / biasCorrection1;
  const biasCorrection2Sqrt = round(Math.sqrt(biasCorrection2), f32);
  const negStepSize = round(-stepSize, f32);
  const eps = round(o.eps, f32);
  const b1 = round(beta1, f32);
  const b2 = round(beta2, f32);
  const oneMinusB1 = round(1 - beta1, f32);
  const oneMinusB2 = round(1 - beta2, f32);
  const hasL2 = o.l2 !== 0;
  const l2 = round(o.l2, f32);
  const hasDecay = o.decoupled !== null;
  const decay = hasDecay ? round(1 - o.lr * (o.decoupled as number), f32) : 1;
  const sign = o.maximize ? -1 : 1;

  const value = param.value.data;
  const grad = param.grad.data;
  const m = state.expAvg.data;
  const v = state.expAvgSq.data;
  let vMax: NDArray['data'] | null = null;
  if (o.amsgrad) {
    // Created here too when amsgrad is switched on after the first step.
    if (state.maxExpAvgSq === undefined) state.maxExpAvgSq = zerosLike(param.value);
    vMax = state.maxExpAvgSq.data;
  }
  for (let i = 0; i < value.length; i++) {
    let g = sign * grad[i];
    if (hasL2) g = fma(l2, value[i], g, f32);
    let theta = value[i];
    if (hasDecay) theta = round(theta * decay, f32);
    const mi = fma(oneMinusB1, g, round(m[i] * b1, f32), f32);
    m[i] = mi;
    // addcmul: (value · g) · g + v, the last two fused
    const vi = fma(round(oneMinusB2 * g, f32), g, round(v[i] * b2, f32), f32);
    v[i] = vi;
    let second = vi;
    if (vMax !== null) {
      second = Math.max(vMax[i], vi);
      vMax[i] = second;
    }
    const denom = round(round(round(Math.sqrt(second), f32) / biasCorrection2Sqrt, f32) + eps, f32);
    // addcdiv: θ + (−stepSize · m) / denom
    value[i] = round(theta + round(round(negStepSize * mi, f32) / denom, f32), f32);
  }
}
