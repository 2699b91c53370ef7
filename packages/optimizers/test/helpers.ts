/**
 * The optimizers' own fixture plumbing: the layout tools/torch-fixtures/optimizers.py
 * writes (initial parameters, a gradient per step, torch's trajectory).
 * Tolerances, relative errors, fixture tensors and the bitwise comparison
 * come from `@backprop/ndarray/test`, shared by every package.
 */
import { type FloatDType, type NDArray, Parameter, copyInto } from '@backprop/ndarray';
import {
  type FixtureTensor,
  assertBitwiseEqual,
  assertClose,
  fromFixture,
  readFixture,
  relativeError,
} from '@backprop/ndarray/test';

/** The JSON of test/fixtures/<name>.json. */
export function loadFixture<T>(name: string): T {
  return readFixture<T>(new URL(`./fixtures/${name}.json`, import.meta.url));
}

/** Fresh parameters holding the fixture's initial values, in `dtype` (float64 data rounds as torch's `.to(float32)`). */
export function makeParams(tensors: FixtureTensor[], dtype: FloatDType): Parameter[] {
  return tensors.map((t, i) => new Parameter(fromFixture(t, dtype), `p${i}`));
}

/** Writes the fixture's gradients into the parameters' grads, through an op (so on any backend). */
export function setGrads(params: Parameter[], grads: FixtureTensor[]): void {
  params.forEach((p, i) => {
    copyInto(p.grad, fromFixture(grads[i], p.dtype));
  });
}

/**
 * Asserts `actual` is torch's result: within the dtype's `TOLERANCE` (the
 * message then gives the worst relative error), and then bit for bit, which
 * every committed fixture achieves (the README's claim).
 */
export function expectTorch(actual: NDArray, expected: FixtureTensor, where: string): void {
  assertClose(actual, expected, where);
  assertBitwiseEqual(actual, expected, where);
}

/** The same for plain numbers (learning rates), within `tolerance` and then bit for bit. */
export function expectTorchNumbers(actual: number[], expected: number[], where: string, tolerance: number): number {
  if (actual.length !== expected.length) throw new Error(`${where}: ${actual.length} values, torch has ${expected.length}`);
  const { error } = relativeError(actual, expected);
  if (!(error < tolerance) && error !== 0) {
    throw new Error(`${where}: ${actual} but torch has ${expected} (relative error ${error}, tolerance ${tolerance})`);
  }
  assertBitwiseEqual(actual, expected, where);
  return error;
}
