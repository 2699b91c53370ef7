import { NDArray, ValueError, checkNumber, checkOptions, describe, firstNonFinite } from '@backprop/ndarray';

/**
 * What {@link trainStep} needs of a model: a `NeuralLayer` of
 * `@backprop/layers` (a `Sequential`, say) is one. Typed by shape, so this
 * package does not depend on the layers package.
 */
export interface TrainableModel {
  forward(input: NDArray): NDArray;
  /**
   * Adds dLoss/dParameter into every parameter's `grad`. Called with
   * `{ inputGrad: false }`: the gradient with respect to the data is not
   * needed, and a model that understands the option skips computing it.
   * What it returns (the input gradient, or nothing) is not read.
   */
  backward(outputGrad: NDArray, options?: { inputGrad?: boolean }): unknown;
}

/**
 * What {@link trainStep} needs of a loss (any loss of `@backprop/losses`):
 * `forward` returns the loss as a number, `backward` its gradient with
 * respect to the prediction.
 */
export interface LossFunction<T = unknown> {
  forward(prediction: NDArray, target: T): number;
  backward(): NDArray;
}

/** What {@link trainStep} needs of an optimizer (any optimizer of `@backprop/optimizers`). */
export interface StepOptimizer {
  step(): void;
  zeroGrad(): void;
  /** The current learning rate, for the messages. */
  readonly lr: number;
}

/** Where a step sits in the run, for the messages of a {@link DivergedError}. */
export interface StepPosition {
  /** 1-based. */
  epoch: number;
  /** 1-based, within the epoch. */
  step: number;
  /** How the learning rate is set, for the advice: `--lr` on a command line, "learning rate" on a page (default "learning rate"). */
  lrName?: string;
}

/** Training produced an output, a loss or a gradient that is not a finite number, so it stopped. */
export class DivergedError extends Error {
  override name = 'DivergedError';
  constructor(
    message: string,
    /** The epoch of the step that diverged (1-based). */
    readonly epoch: number,
    /** The step within that epoch (1-based). */
    readonly step: number,
  ) {
    super(message);
  }
}

function checkMethods(op: string, name: string, value: unknown, methods: readonly string[]): void {
  const missing = methods.filter((m) => typeof (value as Record<string, unknown> | null)?.[m] !== 'function');
  if (value === null || typeof value !== 'object' || missing.length > 0) {
    throw new ValueError(`${op}: ${name} must have ${methods.map((m) => `${m}()`).join(' and ')}, got ${describe(value)}`);
  }
}

const POSITION = ['epoch', 'step', 'lrName'];

/**
 * One training step, PyTorch's with the backward pass written out:
 *
 * ```ts
 * const output = model.forward(x);
 * const loss = lossFn.forward(output, y);
 * model.backward(lossFn.backward(), { inputGrad: false });
 * optimizer.step();
 * optimizer.zeroGrad();
 * ```
 *
 * Returns the loss and the model's output. Stops with a {@link DivergedError}
 * that names the epoch and the step as soon as an output value, the loss or
 * a gradient (the optimizer's `step` refuses a non-finite one with a
 * `ValueError`) is not finite, rather than training on NaN. A learning-rate
 * scheduler, if any, is the caller's to step.
 */
export function trainStep<T>(
  model: TrainableModel,
  lossFn: LossFunction<T>,
  optimizer: StepOptimizer,
  x: NDArray,
  y: T,
  position: StepPosition,
): { loss: number; output: NDArray } {
  const op = 'trainStep';
  checkMethods(op, 'model', model, ['forward', 'backward']);
  checkMethods(op, 'lossFn', lossFn, ['forward', 'backward']);
  checkMethods(op, 'optimizer', optimizer, ['step', 'zeroGrad']);
  if (!(x instanceof NDArray)) throw new ValueError(`${op}: x must be an NDArray (a batch of inputs), got ${describe(x)}`);
  checkOptions(op, position, POSITION);
  if (position === undefined || position === null) throw new ValueError(`${op}: position must be { epoch, step }, got ${describe(position)}`);
  const { epoch, step, lrName = 'learning rate' } = position;
  checkNumber(op, 'epoch', epoch, { integer: true, min: 1 });
  checkNumber(op, 'step', step, { integer: true, min: 1 });
  if (typeof lrName !== 'string') throw new ValueError(`${op}: lrName must be a string, got ${describe(lrName)}`);

  const where = `training diverged at epoch ${epoch}, step ${step}`;
  const output = model.forward(x);
  // A kernel of the active backend: the output is read back to the host only when it holds a bad value.
  const bad = firstNonFinite(output, `${where}: the model's output`);
  if (bad >= 0) {
    throw new DivergedError(
      `${where}: the model's output is ${output.data[bad]} at index ${bad} of the batch (learning rate ${optimizer.lr}); try a smaller ${lrName}`,
      epoch,
      step,
    );
  }
  const loss = lossFn.forward(output, y);
  if (typeof loss !== 'number') {
    throw new ValueError(
      `${where}: the loss returned ${describe(loss)}, expected one number; a loss with reduction 'none' returns every term: use 'mean' or 'sum' here`,
    );
  }
  if (!Number.isFinite(loss)) throw new DivergedError(`${where}: the loss is ${loss}; try a smaller ${lrName}`, epoch, step);
  const outputGrad = lossFn.backward();
  model.backward(outputGrad, { inputGrad: false });
  try {
    optimizer.step(); // refuses a NaN/Inf gradient, naming the step and the parameter
  } catch (error) {
    // By name as well as by class: a program may load ndarray's CommonJS and ES module builds side by side.
    if (error instanceof ValueError || (error as Error | null)?.name === 'ValueError') {
      throw new DivergedError(`${where}: ${(error as Error).message}`, epoch, step);
    }
    throw error;
  }
  optimizer.zeroGrad();
  return { loss, output };
}
