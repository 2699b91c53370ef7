/**
 * Input checks shared by the layers (internal). Each throws at once with the
 * layer's own description (`Linear(10, 2)`), what it got and what it expected.
 */
import {
  type DType,
  DTypeError,
  type Generator,
  NDArray,
  ShapeError,
  ValueError,
  defaultGenerator,
  describe,
  formatShape,
  shapesEqual,
} from '@backprop/ndarray';

/** Throws unless `value` is an NDArray. */
export function checkArrayArg(op: string, name: string, value: unknown): NDArray {
  if (!(value instanceof NDArray)) {
    throw new ValueError(`${op}: ${name} must be an NDArray, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless the array has the layer's dtype; mixing float32 and float64 silently would lose precision. */
export function checkDTypeMatch(op: string, name: string, value: NDArray, dtype: DType): void {
  if (value.dtype !== dtype) {
    throw new DTypeError(
      `${op}: ${name} has dtype ${value.dtype} but the layer's parameters are ${dtype}; ` +
        `convert it with .astype('${dtype}') or create the layer with { dtype: '${value.dtype}' }`,
    );
  }
}

/**
 * Checks the gradient handed to `backward`: that a forward pass ran, and that
 * the gradient has the shape and dtype of that pass's output.
 */
export function checkOutputGrad(
  op: string,
  outputGrad: unknown,
  outputShape: readonly number[] | undefined,
  dtype: DType,
): NDArray {
  if (outputShape === undefined) {
    throw new ValueError(
      `${op}: backward() called before forward(); run forward(input) first so the layer has the values its gradient needs`,
    );
  }
  const grad = checkArrayArg(`${op}.backward`, 'outputGrad', outputGrad);
  if (!shapesEqual(grad.shape, outputShape)) {
    throw new ShapeError(
      `${op}.backward: outputGrad has shape ${formatShape(grad.shape)}, expected the shape of the last forward output ${formatShape(outputShape)}`,
    );
  }
  if (grad.dtype !== dtype) {
    throw new DTypeError(
      `${op}.backward: outputGrad has dtype ${grad.dtype}, expected ${dtype} (the dtype of the last forward output)`,
    );
  }
  return grad;
}

/** Positive (or non-negative) integer constructor arguments such as `inFeatures`. */
export function checkSize(op: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ValueError(
      `${op}: ${name} must be an integer >= ${min}, got ${describe(value)}`,
    );
  }
  return value;
}


/** The `rng` option: a Generator, or the default one when absent. */
export function checkRng(op: string, value: unknown): Generator {
  const rng = value ?? defaultGenerator;
  if (rng === null || typeof rng !== 'object' || typeof (rng as Generator).uniform !== 'function') {
    throw new ValueError(`${op}: rng must be a Generator (such as new TorchGenerator(seed)), got ${describe(rng)}`);
  }
  return rng as Generator;
}

// Shared with every package: the one definition lives in @backprop/ndarray.
export { checkBoolean } from '@backprop/ndarray';
