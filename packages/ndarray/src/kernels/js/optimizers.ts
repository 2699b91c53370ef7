/**
 * The optimizers' updates in TypeScript: one pass over a parameter per step,
 * in torch 1.13's order of floating-point operations (its single-tensor
 * paths), so float64 and float32 results equal torch's bit for bit. ATen's
 * `add(x, y, alpha)`, `addcmul` and `addcdiv` are compiled with fused
 * multiply-adds; ndarray's correctly rounded `fma`/`fmaf` reproduce them.
 *
 * Scalars are cast to the parameter's dtype first, as torch casts Python
 * floats; every intermediate is rounded where torch's kernel stores it.
 */
import { fma as fmaDouble, fmaf } from '../../fma';
import type { AdagradStepArgs, AdamStepArgs, Kernels, RmspropStepArgs, SgdStepArgs } from '../types';
import { hostFloat } from './host';

/** Rounds to what the dtype stores: `Math.fround` for float32, nothing for float64. */
function round(x: number, f32: boolean): number {
  return f32 ? Math.fround(x) : x;
}

/** The fused multiply-add at the dtype's precision (operands already of that dtype). */
function fma(a: number, b: number, c: number, f32: boolean): number {
  return f32 ? fmaf(a, b, c) : fmaDouble(a, b, c);
}

function sgdStep(s: SgdStepArgs): void {
  const f32 = s.param.dtype === 'float32';
  const value = hostFloat(s.param);
  const grad = hostFloat(s.grad);
  const sign = s.maximize ? -1 : 1;
  const decay = s.weightDecay !== 0;
  const weightDecay = round(s.weightDecay, f32);
  const negLr = round(-s.lr, f32);
  if (s.momentum === 0 || s.momentumBuffer === undefined) {
    for (let i = 0; i < value.length; i++) {
      let g = sign * grad[i];
      if (decay) g = fma(weightDecay, value[i], g, f32);
      value[i] = fma(negLr, g, value[i], f32);
    }
    return;
  }
  const momentum = round(s.momentum, f32);
  const gradScale = round(1 - s.dampening, f32);
  const nesterov = s.nesterov;
  const unitScale = gradScale === 1;
  const first = s.first;
  const buffer = hostFloat(s.momentumBuffer);
  for (let i = 0; i < value.length; i++) {
    let g = sign * grad[i];
    if (decay) g = fma(weightDecay, value[i], g, f32);
    const kept = round(buffer[i] * momentum, f32);
    // With τ = 0, (1 − τ)·g + μb is a plain sum, and a sum of two floats rounded
    // once in double and once to float is already correctly rounded: the same
    // bits as the fused multiply-add, several times faster.
    const b = first ? g : unitScale ? round(g + kept, f32) : fma(gradScale, g, kept, f32);
    buffer[i] = b;
    g = nesterov ? fma(momentum, b, g, f32) : b;
    value[i] = fma(negLr, g, value[i], f32);
  }
}

function adamStep(s: AdamStepArgs): void {
  const f32 = s.param.dtype === 'float32';
  // Python floats in torch: computed in double, then cast to the tensor's dtype.
  const stepSize = s.lr / s.biasCorrection1;
  const biasCorrection2Sqrt = round(Math.sqrt(s.biasCorrection2), f32);
  const negStepSize = round(-stepSize, f32);
  const eps = round(s.eps, f32);
  const b1 = round(s.beta1, f32);
  const b2 = round(s.beta2, f32);
  const oneMinusB1 = round(1 - s.beta1, f32);
  const oneMinusB2 = round(1 - s.beta2, f32);
  const hasL2 = s.weightDecay !== 0;
  const l2 = round(s.weightDecay, f32);
  const hasDecay = s.decoupledDecay !== null;
  const decay = hasDecay ? round(1 - s.lr * (s.decoupledDecay as number), f32) : 1;
  const sign = s.maximize ? -1 : 1;
  const value = hostFloat(s.param);
  const grad = hostFloat(s.grad);
  const m = hostFloat(s.expAvg);
  const v = hostFloat(s.expAvgSq);
  const vMax = s.maxExpAvgSq === undefined ? null : hostFloat(s.maxExpAvgSq);
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

function rmspropStep(s: RmspropStepArgs): void {
  const f32 = s.param.dtype === 'float32';
  const sign = s.maximize ? -1 : 1;
  const hasDecay = s.weightDecay !== 0;
  const weightDecay = round(s.weightDecay, f32);
  const alpha = round(s.alpha, f32);
  const oneMinusAlpha = round(1 - s.alpha, f32);
  const eps = round(s.eps, f32);
  const negLr = round(-s.lr, f32);
  const momentum = round(s.momentum, f32);
  const value = hostFloat(s.param);
  const grad = hostFloat(s.grad);
  const squareAvg = hostFloat(s.squareAvg);
  const gradAvg = s.gradAvg === undefined ? null : hostFloat(s.gradAvg);
  const buffer = s.momentum > 0 && s.momentumBuffer !== undefined ? hostFloat(s.momentumBuffer) : null;
  for (let i = 0; i < value.length; i++) {
    let g = sign * grad[i];
    if (hasDecay) g = fma(weightDecay, value[i], g, f32);
    // addcmul: ((1 − α) · g) · g + α·v, the last two fused
    const v = fma(round(oneMinusAlpha * g, f32), g, round(squareAvg[i] * alpha, f32), f32);
    squareAvg[i] = v;
    let avg: number;
    if (gradAvg !== null) {
      const mean = fma(oneMinusAlpha, g, round(gradAvg[i] * alpha, f32), f32);
      gradAvg[i] = mean;
      avg = round(Math.sqrt(fma(-mean, mean, v, f32)), f32);
    } else {
      avg = round(Math.sqrt(v), f32);
    }
    avg = round(avg + eps, f32);
    if (buffer !== null) {
      const b = round(round(buffer[i] * momentum, f32) + round(g / avg, f32), f32);
      buffer[i] = b;
      value[i] = fma(negLr, b, value[i], f32);
    } else {
      value[i] = round(value[i] + round(round(negLr * g, f32) / avg, f32), f32);
    }
  }
}

function adagradStep(s: AdagradStepArgs): void {
  const f32 = s.param.dtype === 'float32';
  const negClr = round(-s.clr, f32);
  const eps = round(s.eps, f32);
  const sign = s.maximize ? -1 : 1;
  const hasDecay = s.weightDecay !== 0;
  const weightDecay = round(s.weightDecay, f32);
  const value = hostFloat(s.param);
  const grad = hostFloat(s.grad);
  const sum = hostFloat(s.sum);
  for (let i = 0; i < value.length; i++) {
    let g = sign * grad[i];
    if (hasDecay) g = fma(weightDecay, value[i], g, f32);
    // addcmul with value 1: g · g + sum, fused
    const total = fma(g, g, sum[i], f32);
    sum[i] = total;
    const std = round(round(Math.sqrt(total), f32) + eps, f32);
    value[i] = round(value[i] + round(round(negClr * g, f32) / std, f32), f32);
  }
}

export const optimizerKernels = { sgdStep, adamStep, rmspropStep, adagradStep } satisfies Partial<Kernels>;
