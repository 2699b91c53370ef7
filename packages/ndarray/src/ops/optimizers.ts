/**
 * Fused optimizer updates: one kernel per step of one parameter, in place,
 * in torch 1.13's order of floating-point operations (what
 * `@backprop/optimizers` runs). Each checks that the gradient and every
 * state buffer match the parameter's shape and dtype.
 */
import { ShapeError } from '../errors';
import { optimizerKernels as ts } from '../kernels/js/optimizers';
import { kernel } from '../kernels/registry';
import type { AdagradStepArgs, AdamStepArgs, RmspropStepArgs, SgdStepArgs } from '../kernels/types';
import type { NDArray } from '../ndarray';
import { checkSameShape } from '../validate';
import { checkFloatArray, checkSameDType } from './operand';

export type { AdagradStepArgs, AdamStepArgs, RmspropStepArgs, SgdStepArgs };

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
  checkBuffers('sgdStep', args.param, { grad: args.grad, momentumBuffer: args.momentumBuffer });
  if (args.momentum !== 0 && args.momentumBuffer === undefined) {
    throw new ShapeError('sgdStep: momentum needs a momentumBuffer');
  }
  kernel('sgdStep', ts.sgdStep)(args);
}

/** Adam or AdamW (decoupledDecay), with amsgrad when maxExpAvgSq is given. */
export function adamStep(args: AdamStepArgs): void {
  checkBuffers('adamStep', args.param, {
    grad: args.grad,
    expAvg: args.expAvg,
    expAvgSq: args.expAvgSq,
    maxExpAvgSq: args.maxExpAvgSq,
  });
  kernel('adamStep', ts.adamStep)(args);
}

/** RMSprop, centered when gradAvg is given, with momentum when momentumBuffer is. */
export function rmspropStep(args: RmspropStepArgs): void {
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
  checkBuffers('adagradStep', args.param, { grad: args.grad, sum: args.sum });
  kernel('adagradStep', ts.adagradStep)(args);
}
