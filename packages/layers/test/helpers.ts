/**
 * The layers' fixture plumbing. Tolerances, relative error and assertions are
 * `@backprop/ndarray/test`'s: "within 1e-10 of torch" means one thing in
 * every package.
 */
import { type NDArray, slice } from '@backprop/ndarray';
import type { NeuralLayer } from '../src/layer';
import {
  type FixtureTensor,
  TOLERANCE,
  assertBitwiseEqual,
  assertClose,
  fromFixture,
  readFixture,
} from '@backprop/ndarray/test';
import { expect } from 'vitest';

export { TOLERANCE, relativeError, type FixtureTensor } from '@backprop/ndarray/test';

/** A layer case as tools/torch-fixtures/layers.py's `record` writes it. */
export interface LayerCase {
  dtype: 'float32' | 'float64';
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrad: FixtureTensor;
  params: Record<string, FixtureTensor>;
  paramGrads: Record<string, FixtureTensor>;
}

export function loadFixture<T>(name: string): T {
  return readFixture<T>(new URL(`./fixtures/${name}.json`, import.meta.url));
}

export const toArray = (t: FixtureTensor): NDArray => fromFixture(t);

/** Shape, dtype and values within the dtype's tolerance, naming the worst entry on failure. */
export function expectClose(actual: NDArray, expected: NDArray | FixtureTensor, label: string): void {
  const error = assertClose(actual, expected, label);
  if (process.env.REPORT_ERRORS) console.log(`REPORT ${actual.dtype} ${error.toExponential(2)} ${label}`);
}

/** Bitwise equality of two arrays (init fixtures), naming the first difference. */
export function expectBitwiseEqual(actual: NDArray, expected: FixtureTensor, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${label}: dtype`).toBe(expected.dtype);
  assertBitwiseEqual(actual, expected, label);
}

export function caseLabel(parts: Record<string, unknown>): string {
  return Object.entries(parts)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

/** Asserts `actual` equals `factor` × `reference` entry by entry (gradient accumulation tests). */
export function expectScaled(actual: NDArray, reference: ArrayLike<number>, factor: number, digits = 12): void {
  expect(actual.size).toBe(reference.length);
  for (let i = 0; i < reference.length; i++) expect(actual.data[i]).toBeCloseTo(factor * reference[i], digits);
}

/**
 * MultiheadAttention's in_proj_bias gradient: its query and value thirds
 * against torch; its key third is zero in exact arithmetic (adding a vector
 * to every key shifts each softmax row by a constant, which softmax ignores),
 * so both torch's and ours are rounding noise around 0, judged against the
 * gradient's scale (as float32 entries always are) and required to be below
 * the dtype's tolerance.
 */
export function expectInProjBiasGrad(actual: NDArray, expected: FixtureTensor, label: string): void {
  const E = actual.shape[0] / 3;
  const want = fromFixture(expected);
  expectClose(slice(actual, 0, E), slice(want, 0, E), `${label} in_proj_bias grad (query third)`);
  expectClose(slice(actual, 2 * E, 3 * E), slice(want, 2 * E, 3 * E), `${label} in_proj_bias grad (value third)`);
  const scale = Math.max(...Array.from(want.data, Math.abs));
  const keyThird = Array.from(slice(actual, E, 2 * E).data, Math.abs);
  expect(Math.max(...keyThird) / scale, `${label} in_proj_bias grad (key third, zero but for rounding)`).toBeLessThan(
    TOLERANCE[actual.dtype as 'float32' | 'float64'],
  );
}

/** What tools/torch-fixtures scripts write for a layer's initial parameters after `torch.manual_seed(seed)`. */
export interface InitCase {
  module: string;
  seed: number;
  dtype: 'float32' | 'float64';
  params: Record<string, FixtureTensor>;
}

/**
 * Loads a torch case's parameters into `layer`, runs forward and backward,
 * and checks the output, the input gradient and every parameter's gradient
 * (by torch's names) against torch's.
 */
export function expectMatchesTorch(layer: NeuralLayer, c: Omit<LayerCase, 'dtype'>, label: string): void {
  layer.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, fromFixture(v)])));
  expectClose(layer.forward(fromFixture(c.input)), c.output, `${label} output`);
  expectClose(layer.backward(fromFixture(c.outputGrad)), c.inputGrad, `${label} input grad`);
  expectParamGrads(layer, c.paramGrads, label);
}

/** Every parameter's gradient within the dtype's tolerance of torch's, the names (torch's) and their order included. */
export function expectParamGrads(layer: NeuralLayer, grads: Record<string, FixtureTensor>, label: string): void {
  const named = layer.namedParameters();
  expect(named.map(([name]) => name), `${label} parameters`).toEqual(Object.keys(grads));
  for (const [name, parameter] of named) expectClose(parameter.grad, grads[name], `${label} ${name} grad`);
}

/** Every parameter's value equal to torch's bit for bit (initialisation after the same seed), names and order included. */
export function expectParamsBitwise(layer: NeuralLayer, params: Record<string, FixtureTensor>, label: string): void {
  const named = layer.namedParameters();
  expect(named.map(([name]) => name), `${label} parameters`).toEqual(Object.keys(params));
  for (const [name, parameter] of named) expectBitwiseEqual(parameter.value, params[name], `${label} ${name}`);
}
