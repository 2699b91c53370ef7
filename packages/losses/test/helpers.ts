/**
 * The losses' own fixture plumbing: the case layout tools/torch-fixtures/losses.py
 * writes. Tolerances, relative errors, fixture tensors, seeded data and
 * finite differences come from `@backprop/ndarray/test`, shared by every package.
 */
import { type FixtureTensor, readFixture } from '@backprop/ndarray/test';

export interface FixtureCase {
  name: string;
  /** Constructor options other than the arrays (reduction, beta, delta, labelSmoothing, ignoreIndex). */
  options: Record<string, unknown>;
  prediction: FixtureTensor;
  /** Class-index targets are int64 tensors. */
  target: FixtureTensor;
  weight?: FixtureTensor;
  posWeight?: FixtureTensor;
  /** A number, or under reduction 'none' the unreduced terms. */
  loss: number | FixtureTensor;
  /** dLoss/dPrediction from `loss.backward()`, or `loss.backward(outputGrad)` under 'none'. */
  grad: FixtureTensor;
  /** Under reduction 'none': the gradient flowing into the loss, of the loss's shape. */
  outputGrad?: FixtureTensor;
}

/** The cases of test/fixtures/<name>.json. */
export function loadCases(name: string): FixtureCase[] {
  return readFixture<{ cases: FixtureCase[] }>(new URL(`./fixtures/${name}.json`, import.meta.url)).cases;
}
