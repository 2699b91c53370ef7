/**
 * Fused optimizer updates: one kernel per step of one parameter, in place,
 * in torch 1.13's order of floating-point operations (what
 * `@backprop/optimizers` runs). Each checks that the gradient and every
 * state buffer match the parameter's shape and dtype.
 */
import { ShapeError, ValueError, checkOptions, describe } from '../errors';
import { optimizerKernels as ts } from '../kernels/js/optimizers';
import { kernel } from '../kernels/registry';
import type { AdagradStepArgs, AdamStepArgs, RmspropStepArgs, SgdStepArgs } from '../kernels/types';
import type { NDArray } from '../ndarray';
import { checkSameShape } from '../validate';
import { checkFloatArray, checkSameDType } from './operand';

export type { AdagradStepArgs, AdamStepArgs, RmspropStepArgs, SgdStepArgs };

/**
 * Throws on an unknown key, a number that is not finite, or a flag that is
 * not a boolean: the optimizers check their hyperparameters once, and a
 * direct call of an op gets the same guard.
 */
function checkScalars(op: string, args: object, numbers: readonly string[], flags: readonly string[], buffers: readonly string[]): void {
  checkOptions(op, args, [...numbers, ...flags, ...buffers]);
  const record = args as Record<string, unknown>;
  for (const name of numbers) {
    const value = record[name];
    if (value === null && name === 'decoupledDecay') continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValueError(`${op}: ${name} must be a finite number, got ${describe(value)}`);
  }
  for (const name of flags) {
    if (typeof record[name] !== 'boolean') throw new ValueError(`${op}: ${name} must be a boolean, got ${describe(record[name])}`);
  }
}

function checkBuffers(op: string, param: NDArray, buffers: Record<string, NDArray | undefined>): void {
  checkFloatArray(op, 'param', param);
  for (const [name, buffer] of Object.entries(buffers)) {
    if (buffer === undefined) continue;
    checkFloatArray(op, name, buffer);
    checkSameShape(op, 'param', param, name, buffer);
    checkSameDType(op, 'param', param, name, buffer);
  }
}

/** SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD's step for one parameter). */
export function sgdStep(args: SgdStepArgs): void {
  checkScalars('sgdStep', args, ['lr', 'momentum', 'dampening', 'weightDecay'], ['first', 'nesterov', 'maximize'], ['param', 'grad', 'momentumBuffer']);
  checkBuffers('sgdStep', args.param, { grad: args.grad, momentumBuffer: args.momentumBuffer });
  if (args.momentum !== 0 && args.momentumBuffer === undefined) {
    throw new ShapeError('sgdStep: momentum needs a momentumBuffer');
  }
  kernel('sgdStep', ts.sgdStep)(args);
}

/** Adam or AdamW (decoupledDecay), with amsgrad when maxExpAvgSq is given. */
export function adamStep(args: AdamStepArgs): void {
  const op = 'adamStep';
  checkScalars(
    op,
    args,
    ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'decoupledDecay', 'biasCorrection1', 'biasCorrection2'],
    ['maximize'],
    ['param', 'grad', 'expAvg', 'expAvgSq', 'maxExpAvgSq'],
  );
  for (const name of ['biasCorrection1', 'biasCorrection2'] as const) {
    if (!(args[name] > 0 && args[name] <= 1)) throw new ValueError(`${op}: ${name} (1 − βᵗ) must be in (0, 1], got ${args[name]}`);
  }
  checkBuffers(op, args.param, {
    grad: args.grad,
    expAvg: args.expAvg,
    expAvgSq: args.expAvgSq,
    maxExpAvgSq: args.maxExpAvgSq,
  });
  kernel('adamStep', ts.adamStep)(args);
}

/** RMSprop, centered when gradAvg is given, with momentum when momentumBuffer is. */
export function rmspropStep(args: RmspropStepArgs): void {
  checkScalars('rmspropStep', args, ['lr', 'alpha', 'eps', 'weightDecay', 'momentum'], ['maximize'], ['param', 'grad', 'squareAvg', 'momentumBuffer', 'gradAvg']);
  checkBuffers('rmspropStep', args.param, {
    grad: args.grad,
    squareAvg: args.squareAvg,
    momentumBuffer: args.momentumBuffer,
    gradAvg: args.gradAvg,
  });
  kernel('rmspropStep', ts.rmspropStep)(args);
}

/** Adagrad with the optimizer's decayed learning rate `clr`. */
export function adagradStep(args: AdagradStepArgs): void {
  checkScalars('adagradStep', args, ['clr', 'eps', 'weightDecay'], ['maximize'], ['param', 'grad', 'sum']);
  checkBuffers('adagradStep', args.param, { grad: args.grad, sum: args.sum });
  kernel('adagradStep', ts.adagradStep)(args);
}
