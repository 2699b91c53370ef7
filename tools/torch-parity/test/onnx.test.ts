/**
 * Every random model of the parity suite (the same layers, weights and inputs
 * PyTorch trained) exported to ONNX and run in ONNX Runtime: its logits equal
 * the model's own forward in eval mode within float32 tolerance. Permute and
 * the causal self-attention are this suite's own layers: their exporters below
 * are what a user writes for a layer of their own.
 */
import { type ExporterMap, exportOnnx, exporter, multiheadAttention } from '@backprop/onnx';
import { type NDArray, array } from '@backprop/ndarray';
import { assertClose } from '@backprop/ndarray/test';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { CausalSelfAttention, Permute, buildModel, fromFixtureAny, loadCases } from './parity';

const exporters: ExporterMap = new Map([
  exporter(Permute, (graph, layer, input) => graph.transpose(input, layer.dims)),
  exporter(CausalSelfAttention, (graph, layer, input) => multiheadAttention(graph, layer, input, { causal: true })),
]);

async function runInOrt(bytes: Uint8Array, input: NDArray): Promise<NDArray> {
  const session = await ort.InferenceSession.create(bytes);
  const feed =
    input.dtype === 'int32'
      ? new ort.Tensor('int64', BigInt64Array.from(Array.from(input.data, (v) => BigInt(v))), [...input.shape])
      : new ort.Tensor('float32', Float32Array.from(input.data), [...input.shape]);
  const { output } = await session.run({ input: feed });
  return array(Array.from(output.data as Float32Array)).reshape([...output.dims]);
}

const cases = loadCases();
const layerTypes = new Map<string, number>();

describe('the parity suite’s random models in ONNX Runtime', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const model = buildModel(c);
    // One training-mode pass first, so batch norm's running statistics are not the initial 0 and 1.
    model.forward(fromFixtureAny(c.inputs[0]));
    model.eval();
    const input = fromFixtureAny(c.inputs[1] ?? c.inputs[0]);
    const expected = model.forward(input);
    const bytes = exportOnnx(model, { inputShape: input.shape.slice(1), inputType: input.dtype === 'int32' ? 'int64' : 'float32', exporters });
    const actual = await runInOrt(bytes, input);
    expect(actual.shape).toEqual(expected.shape);
    const error = assertClose(actual, expected.astype('float32'), c.name);
    if (process.env.REPORT_ERRORS) console.log(`REPORT float32 ${error.toExponential(2)} ${c.name}`);
    for (const spec of c.layers) layerTypes.set(spec.type, (layerTypes.get(spec.type) ?? 0) + 1);
  });

  it('covered every layer type of the suite', () => {
    if (process.env.REPORT_ERRORS) console.log(`REPORT layer types ${JSON.stringify(Object.fromEntries(layerTypes))}`);
    expect(layerTypes.size).toBeGreaterThanOrEqual(25);
  });
});
