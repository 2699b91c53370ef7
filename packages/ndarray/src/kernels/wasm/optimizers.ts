/**
 * SGD's and Adam's float32 updates in the WebAssembly SIMD module compiled
 * from `assembly/optimizers.ts`: the parameter, its gradient and the
 * optimizer's state are copied into the module's memory, updated there, and
 * the parameter and state copied back. Results equal the TypeScript kernels
 * (torch 1.13's bits); float64, and parameters of fewer than `minElements`
 * values, stay in TypeScript.
 *
 * @internal
 */
import type { FloatArray } from '../../dtype';
import { hostFloat } from '../js/host';
import { optimizerKernels } from '../js/optimizers';
import type { WasmHost, WasmKernel } from '../registry';
import type { AdamStepArgs, SgdStepArgs } from '../types';
import { OPTIMIZERS_WASM_BASE64 } from './gemm-bytes';
import { runEntry } from './memory';

/** The module's entries (byte addresses, the count, the hyperparameters and flags). */
interface OptimizerEntries {
  sgdF32(value: number, grad: number, buffer: number, n: number, negLr: number, momentum: number, gradScale: number, weightDecay: number, flags: number): void;
  adamF32(
    value: number, grad: number, m: number, v: number, vMax: number, n: number,
    l2: number, decay: number, beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number,
    biasCorrection2Sqrt: number, eps: number, negStepSize: number, flags: number,
  ): void;
}

/** The flags of `sgdF32` and `adamF32`, as assembly/optimizers.ts reads them. */
const SGD = { maximize: 1, decay: 2, momentum: 4, first: 8, unitScale: 16, nesterov: 32 } as const;
const ADAM = { maximize: 1, l2: 2, decoupled: 4, amsgrad: 8 } as const;

/** The bits of the flags that are set, summed. */
function flags<K extends string>(bits: Record<K, number>, set: Record<K, boolean>): number {
  let value = 0;
  for (const name in bits) if (set[name]) value |= bits[name];
  return value;
}

/** Whether `values` is a parameter the module takes: float32, and large enough to pay for the copies. */
function fits(host: WasmHost, values: FloatArray): boolean {
  return values instanceof Float32Array && values.length >= host.minElements;
}

export const wasmSgdStep: WasmKernel<'sgdStep'> = (host) => (s: SgdStepArgs) => {
  const value = hostFloat(s.param);
  const momentum = s.momentum !== 0 && s.momentumBuffer !== undefined;
  const buffer = momentum ? [hostFloat(s.momentumBuffer as NonNullable<typeof s.momentumBuffer>)] : [];
  const fround = Math.fround;
  const gradScale = fround(1 - s.dampening);
  const bits = flags(SGD, {
    maximize: s.maximize,
    decay: s.weightDecay !== 0,
    momentum,
    first: s.first,
    unitScale: gradScale === 1,
    nesterov: s.nesterov,
  });
  const done =
    fits(host, value) &&
    runEntry<OptimizerEntries['sgdF32']>(host, OPTIMIZERS_WASM_BASE64, 'sgdF32', { inputs: [hostFloat(s.grad)], updated: [value, ...buffer] }, (sgd, [g, v, b = 0]) =>
      sgd(v, g, b, value.length, fround(-s.lr), fround(s.momentum), gradScale, fround(s.weightDecay), bits),
    );
  if (!done) optimizerKernels.sgdStep(s);
};

export const wasmAdamStep: WasmKernel<'adamStep'> = (host) => (s: AdamStepArgs) => {
  const value = hostFloat(s.param);
  const state = [hostFloat(s.expAvg), hostFloat(s.expAvgSq)];
  if (s.maxExpAvgSq !== undefined) state.push(hostFloat(s.maxExpAvgSq));
  const fround = Math.fround;
  const decoupled = s.decoupledDecay !== null;
  const bits = flags(ADAM, { maximize: s.maximize, l2: s.weightDecay !== 0, decoupled, amsgrad: s.maxExpAvgSq !== undefined });
  const done =
    fits(host, value) &&
    runEntry<OptimizerEntries['adamF32']>(host, OPTIMIZERS_WASM_BASE64, 'adamF32', { inputs: [hostFloat(s.grad)], updated: [value, ...state] }, (adam, [g, v, m, sq, max = 0]) =>
      adam(
        v, g, m, sq, max, value.length,
        fround(s.weightDecay),
        decoupled ? fround(1 - s.lr * (s.decoupledDecay as number)) : 1,
        fround(s.beta1), fround(s.beta2), fround(1 - s.beta1), fround(1 - s.beta2),
        fround(Math.sqrt(s.biasCorrection2)), fround(s.eps), fround(-(s.lr / s.biasCorrection1)),
        bits,
      ),
    );
  if (!done) optimizerKernels.adamStep(s);
};
