/**
 * The optimizers' updates: one dispatch per step of one parameter, each
 * invocation updating four elements of the parameter and its state buffers
 * in place ({@link forEach}), in torch 1.13's order of operations as the
 * TypeScript kernels (the fused multiply-adds as WGSL's `fma`). The options
 * that change the formula (momentum, Nesterov, decay, amsgrad, centered,
 * maximize) choose the WGSL lines, so a shader computes only its own rule;
 * the numbers go in as float32 parameters, rounded as the TypeScript kernels
 * round them.
 */
import type { Kernels, NDArray } from '@backprop/ndarray';
import type { GpuRuntime, Param } from '../runtime';
import { MATH } from '../wgsl';
import { forEach } from './launch';

interface Update {
  param: NDArray;
  grad: NDArray;
  /** The state buffers the rule reads and writes, by the names its WGSL uses. */
  states: Record<string, NDArray>;
  /** Float32 scalars, as `params.<name>`. */
  scalars: Record<string, number>;
  /** WGSL statements for element i; `false` leaves a line out. */
  lines: (string | false)[];
}

function update(gpu: GpuRuntime, label: string, { param, grad, states, scalars, lines }: Update): void {
  const params: Record<string, Param> = {};
  for (const [name, value] of Object.entries(scalars)) params[name] = ['f32', value];
  forEach(gpu, {
    label,
    inputs: { grad },
    outputs: { param, ...states },
    params,
    n: param.size,
    prelude: MATH,
    body: lines
      .filter((line) => line !== false)
      .map((line) => `    ${line}`)
      .join('\n'),
  });
}

/** The first line of every rule: the gradient, negated to maximize, with L2 weight decay when `decay`. */
function gradient(maximize: boolean, decay: boolean): string[] {
  return [`var g = ${maximize ? '-' : ''}grad[i];`, ...(decay ? ['g = fma(params.weightDecay, param[i], g);'] : [])];
}

export function optimizerKernels(gpu: GpuRuntime): Partial<Kernels> {
  return {
    sgdStep: (s) => {
      const withMomentum = s.momentum !== 0 && s.momentumBuffer !== undefined;
      update(gpu, 'sgdStep', {
        param: s.param,
        grad: s.grad,
        states: withMomentum ? { momentumBuffer: s.momentumBuffer as NDArray } : {},
        scalars: { weightDecay: s.weightDecay, negLr: -s.lr, momentum: s.momentum, gradScale: 1 - s.dampening },
        lines: [
          ...gradient(s.maximize, s.weightDecay !== 0),
          withMomentum && (s.first ? 'let b = g;' : 'let b = fma(params.gradScale, g, momentumBuffer[i] * params.momentum);'),
          withMomentum && 'momentumBuffer[i] = b;',
          withMomentum && (s.nesterov ? 'g = fma(params.momentum, b, g);' : 'g = b;'),
          'param[i] = fma(params.negLr, g, param[i]);',
        ],
      });
    },
    adamStep: (s) => {
      const decoupled = s.decoupledDecay !== null;
      const amsgrad = s.maxExpAvgSq !== undefined;
      update(gpu, 'adamStep', {
        param: s.param,
        grad: s.grad,
        states: { expAvg: s.expAvg, expAvgSq: s.expAvgSq, ...(amsgrad ? { maxExpAvgSq: s.maxExpAvgSq as NDArray } : {}) },
        scalars: {
          weightDecay: s.weightDecay,
          decay: 1 - s.lr * (s.decoupledDecay ?? 0),
          beta1: s.beta1,
          beta2: s.beta2,
          oneMinusBeta1: 1 - s.beta1,
          oneMinusBeta2: 1 - s.beta2,
          // The square root in double, rounded, as torch takes it of a Python float.
          biasCorrection2Sqrt: Math.sqrt(s.biasCorrection2),
          negStepSize: -(s.lr / s.biasCorrection1),
          eps: s.eps,
        },
        lines: [
          ...gradient(s.maximize, s.weightDecay !== 0),
          `let theta = param[i]${decoupled ? ' * params.decay' : ''};`,
          'let m = fma(params.oneMinusBeta1, g, expAvg[i] * params.beta1);',
          'expAvg[i] = m;',
          'let v = fma(params.oneMinusBeta2 * g, g, expAvgSq[i] * params.beta2);',
          'expAvgSq[i] = v;',
          // torch.maximum: NaN wins.
          amsgrad
            ? 'let second = select(max(maxExpAvgSq[i], v), nan(), isNan(v) || isNan(maxExpAvgSq[i]));\n    maxExpAvgSq[i] = second;'
            : 'let second = v;',
          'let denom = sqrt(second) / params.biasCorrection2Sqrt + params.eps;',
          'param[i] = theta + (params.negStepSize * m) / denom;',
        ],
      });
    },
    rmspropStep: (s) => {
      const centered = s.gradAvg !== undefined;
      const withMomentum = s.momentum > 0 && s.momentumBuffer !== undefined;
      update(gpu, 'rmspropStep', {
        param: s.param,
        grad: s.grad,
        states: {
          squareAvg: s.squareAvg,
          ...(centered ? { gradAvg: s.gradAvg as NDArray } : {}),
          ...(withMomentum ? { momentumBuffer: s.momentumBuffer as NDArray } : {}),
        },
        scalars: { weightDecay: s.weightDecay, alpha: s.alpha, oneMinusAlpha: 1 - s.alpha, eps: s.eps, negLr: -s.lr, momentum: s.momentum },
        lines: [
          ...gradient(s.maximize, s.weightDecay !== 0),
          'let v = fma(params.oneMinusAlpha * g, g, squareAvg[i] * params.alpha);',
          'squareAvg[i] = v;',
          centered
            ? 'let mean = fma(params.oneMinusAlpha, g, gradAvg[i] * params.alpha);\n    gradAvg[i] = mean;\n    let avg = sqrt(fma(-mean, mean, v)) + params.eps;'
            : 'let avg = sqrt(v) + params.eps;',
          withMomentum
            ? 'let b = momentumBuffer[i] * params.momentum + g / avg;\n    momentumBuffer[i] = b;\n    param[i] = fma(params.negLr, b, param[i]);'
            : 'param[i] = param[i] + (params.negLr * g) / avg;',
        ],
      });
    },
    adagradStep: (s) =>
      update(gpu, 'adagradStep', {
        param: s.param,
        grad: s.grad,
        states: { sum: s.sum },
        scalars: { weightDecay: s.weightDecay, negClr: -s.clr, eps: s.eps },
        lines: [
          ...gradient(s.maximize, s.weightDecay !== 0),
          'let total = fma(g, g, sum[i]);',
          'sum[i] = total;',
          'param[i] = param[i] + (params.negClr * g) / (sqrt(total) + params.eps);',
        ],
      }),
  };
}
