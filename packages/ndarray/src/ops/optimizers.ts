/**
 * Fused optimizer updates: one kernel per step of one parameter, in place,
 * in torch 1.13's order of floating-point operations (what
 * `@backprop/optimizers` runs). Each checks that the gradient and every
 * state buffer match the parameter's shape and dtype.
 */
import { ShapeError, ValueError, checkOptions, describe } from '../errors';
import { optimizerKernels as ts } from '../kernels/js/optimizers';
import { kernel } from '../kernels/registry';
import { wasmAdamStep, wasmSgdStep } from '../kernels/wasm/optimizers';
import type { AdagradStepArgs, AdamStepArgs, RmspropStepArgs, SgdStepArgs } from '../kernels/types';
import type { NDArray } from '../ndarray';
import { checkSameShape } from '../validate';
import { checkFloatArray, checkSameDType, sharesMemory } from './operand';

export type { AdagradStepArgs, AdamStepArgs, RmspropStepArgs, SgdStepArgs };

/** The fields of one step's argument record, by kind; `known` is all of them. */
interface StepFields {
  numbers: readonly string[];
  flags: readonly string[];
  buffers: readonly string[];
  known: readonly string[];
}

function fields(numbers: string[], flags: string[], buffers: string[]): StepFields {
  return { numbers, flags, buffers, known: ['param', ...buffers, ...numbers, ...flags] };
}

const SGD = /* @__PURE__ */ fields(['lr', 'momentum', 'dampening', 'weightDecay'], ['first', 'nesterov', 'maximize'], ['grad', 'momentumBuffer']);
const ADAM = /* @__PURE__ */ fields(
  ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupledDecay', 'biasCorrection1', 'biasCorrection2'],
  ['maximize'],
  ['grad', 'expAvg', 'expAvgSq', 'maxExpAvgSq'],
);
const RMSPROP = /* @__PURE__ */ fields(['lr', 'alpha', 'eps', 'weightDecay', 'momentum'], ['maximize'], ['grad', 'squareAvg', 'momentumBuffer', 'gradAvg']);
const BIAS_CORRECTIONS = ['biasCorrection1', 'biasCorrection2'] as const;
const ADAGRAD = /* @__PURE__ */ fields(['clr', 'eps', 'weightDecay'], ['maximize'], ['grad', 'sum']);

/**
 * Throws on an unknown key, a number that is not finite, a flag that is not
 * a boolean, or a state buffer (given ones only) that is not a float array of
 * the parameter's shape and dtype. The optimizers check their
 * hyperparameters once; a direct call of an op gets the same guard.
 */
function checkStep(op: string, args: object, { numbers, flags, buffers, known }: StepFields): void {
  checkOptions(op, args, known);
  const record = args as Record<string, unknown>;
  for (const name of numbers) {
    const value = record[name];
    if (value === null && name === 'decoupledDecay') continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValueError(`${op}: ${name} must be a finite number, got ${describe(value)}`);
  }
  for (const name of flags) {
    if (typeof record[name] !== 'boolean') throw new ValueError(`${op}: ${name} must be a boolean, got ${describe(record[name])}`);
  }
  const param = checkFloatArray(op, 'param', record.param);
  for (const name of buffers) {
    const buffer = record[name];
    if (buffer === undefined) continue;
    checkFloatArray(op, name, buffer);
    checkSameShape(op, 'param', param, name, buffer as NDArray);
    checkSameDType(op, 'param', param, name, buffer as NDArray);
  }
  // The parameter and its state are all written: each must be memory of its own (the gradient is only read).
  const written = [['param', param], ...buffers.filter((name) => name !== 'grad' && record[name] !== undefined).map((name) => [name, record[name] as NDArray] as const)] as const;
  for (let i = 0; i < written.length; i++) {
    for (let j = i + 1; j < written.length; j++) {
      if (sharesMemory(written[i][1], written[j][1])) {
        throw new ValueError(`${op}: ${written[i][0]} and ${written[j][0]} share memory; each is updated in place and needs its own`);
      }
    }
  }
}

/** SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD's step for one parameter). */
export function sgdStep(args: SgdStepArgs): void {
  checkStep('sgdStep', args, SGD);
  if (args.momentum !== 0 && args.momentumBuffer === undefined) {
    throw new ShapeError('sgdStep: momentum needs a momentumBuffer');
  }
  kernel('sgdStep', ts.sgdStep, wasmSgdStep)(args);
}

/** Adam or AdamW (decoupledDecay), with amsgrad when maxExpAvgSq is given. */
export function adamStep(args: AdamStepArgs): void {
  const op = 'adamStep';
  checkStep(op, args, ADAM);
  for (const name of BIAS_CORRECTIONS) {
    if (!(args[name] > 0 && args[name] <= 1)) throw new ValueError(`${op}: ${name} (1 − βᵗ) must be in (0, 1], got ${args[name]}`);
  }
  kernel('adamStep', ts.adamStep, wasmAdamStep)(args);
}

/** RMSprop, centered when gradAvg is given, with momentum when momentumBuffer is. */
export function rmspropStep(args: RmspropStepArgs): void {
  checkStep('rmspropStep', args, RMSPROP);
  kernel('rmspropStep', ts.rmspropStep)(args);
}

/** Adagrad with the optimizer's decayed learning rate `clr`. */
export function adagradStep(args: AdagradStepArgs): void {
  checkStep('adagradStep', args, ADAGRAD);
  kernel('adagradStep', ts.adagradStep)(args);
}
