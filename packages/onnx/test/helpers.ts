/**
 * One check for every exported model: run the model here (eval mode, float32)
 * and the exported bytes in ONNX Runtime on the same random input, and compare
 * within the project's float32 tolerance (`@backprop/ndarray/test`).
 */
import type { NeuralLayer } from '@backprop/layers';
import { NDArray, array, randn, type TorchGenerator, manualSeed } from '@backprop/ndarray';
import { assertClose } from '@backprop/ndarray/test';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { type ExportOnnxOptions, exportOnnx } from '../src/export';

/** The worst relative error seen per layer type, printed with REPORT_ERRORS=1. */
export async function runInOrt(bytes: Uint8Array, input: NDArray, options: { inputName?: string; outputName?: string; inputType?: string } = {}): Promise<NDArray> {
  const session = await ort.InferenceSession.create(bytes);
  const feed =
    options.inputType === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(Array.from(input.data, (v) => BigInt(v))), [...input.shape])
      : options.inputType === 'int32'
        ? new ort.Tensor('int32', Int32Array.from(input.data), [...input.shape])
        : new ort.Tensor('float32', Float32Array.from(input.data), [...input.shape]);
  const result = await session.run({ [options.inputName ?? 'input']: feed });
  const output = result[options.outputName ?? 'output'];
  return array(Array.from(output.data as Float32Array), { dtype: 'float32' }).reshape([...output.dims]);
}

/**
 * Exports `model`, runs it in ONNX Runtime on `input` (or a seeded N(0, 1)
 * batch of 3 samples) and asserts the output equals `model.forward(input)`
 * within float32 tolerance. Returns the relative error.
 */
export async function expectSameInOrt(
  model: NeuralLayer,
  options: ExportOnnxOptions,
  label: string,
  input: NDArray = randomInput(options.inputShape as number[], manualSeed(7)),
): Promise<number> {
  model.eval();
  // A float64 model runs here in float64; the export is float32 whatever the model's dtype.
  const dtype = model.parameters()[0]?.value.dtype ?? 'float32';
  const expected = model.forward(input.dtype === 'int32' ? input : input.astype(dtype));
  const bytes = exportOnnx(model, options);
  const actual = await runInOrt(bytes, input, options);
  expect(actual.shape).toEqual(expected.shape);
  const error = assertClose(actual, expected.astype('float32'), label);
  if (process.env.REPORT_ERRORS) console.log(`REPORT float32 ${error.toExponential(2)} ${label}`);
  return error;
}

export function randomInput(sampleShape: readonly number[], rng: TorchGenerator, batch = 3): NDArray {
  return randn([batch, ...sampleShape], { rng });
}

export function tokenIds(shape: readonly number[], vocab: number, rng: TorchGenerator): NDArray {
  const size = shape.reduce((a, b) => a * b, 1);
  return array(Array.from({ length: size }, () => rng.randint(vocab)), { dtype: 'int32' }).reshape([...shape]);
}

export { NDArray };
