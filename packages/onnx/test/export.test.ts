import { Embedding, Linear, NeuralLayer, ReLU, Residual, Sequential, Tanh } from '@backprop/layers';
import { type NDArray, Parameter, manualSeed, mul, ones, randn } from '@backprop/ndarray';
import onnxProto from 'onnx-proto';
import { assertClose } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/export';
import { OnnxExportError } from '../src/errors';
import { exporter } from '../src/graph';
import { expectSameInOrt, runInOrt, tokenIds } from './helpers';

const { onnx } = onnxProto;
const rng = () => manualSeed(2);

/** A user's own layer: y = x ⊙ w, with a learned vector w. */
class Scale extends NeuralLayer {
  readonly weight: Parameter;
  constructor(n: number) {
    super();
    this.weight = new Parameter(randn([n], { rng: rng() }), 'weight');
  }
  forward(input: NDArray): NDArray {
    return mul(input, this.weight.value);
  }
  backward(grad: NDArray): NDArray {
    return mul(grad, this.weight.value);
  }
}

const mlp = () => new Sequential(new Linear(4, 8, { rng: rng() }), new ReLU(), new Residual(new Sequential(new Linear(8, 8, { rng: rng() }), new Tanh())), new Linear(8, 3, { rng: rng() }));

describe('exportOnnx', () => {
  it('writes a Sequential with a Residual block that ONNX Runtime runs at any batch size', async () => {
    const model = mlp().eval();
    const bytes = exportOnnx(model, { inputShape: [4] });
    for (const batch of [1, 5]) {
      const x = randn([batch, 4], { rng: manualSeed(batch) });
      const out = await runInOrt(bytes, x);
      expect(out.shape).toEqual([batch, 3]);
      assertClose(out, model.forward(x), `batch ${batch}`);
    }
  });

  it('names the initializers as the state dict and declares a dynamic batch', () => {
    const model = mlp();
    const decoded = onnx.ModelProto.decode(exportOnnx(model, { inputShape: [4] }));
    expect(decoded.graph?.initializer?.map((t) => t.name).filter((n) => !n?.includes('/'))).toEqual(Object.keys(model.stateDict()));
    expect(Number(decoded.opsetImport?.[0].version)).toBe(17);
    const dims = decoded.graph?.input?.[0].type?.tensorType?.shape?.dim;
    expect(dims?.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 4]);
    expect(decoded.graph?.output?.[0].name).toBe('output');
    const withMetadata = onnx.ModelProto.decode(exportOnnx(model, { inputShape: [4], metadata: { vocab: '["."]' } }));
    expect(withMetadata.metadataProps.map(({ key, value }) => [key, value])).toEqual([['vocab', '["."]']]);
    expect(() => exportOnnx(model, { inputShape: [4], metadata: { n: 1 as never } })).toThrow(/metadata values must be strings, got 1 for 'n'/);
  });

  it('writes a float64 model as float32, and the same at opset 18', async () => {
    await expectSameInOrt(new Linear(4, 3, { dtype: 'float64', rng: rng() }), { inputShape: [4] }, 'float64 Linear');
    await expectSameInOrt(mlp(), { inputShape: [4], opset: 18, inputName: 'pixels', outputName: 'logits' }, 'opset 18');
  });

  it('an Embedding reads int64 or int32 token ids of a dynamic length', async () => {
    const model = new Sequential(new Embedding(11, 5, { rng: rng() }), new Linear(5, 2, { rng: rng() }));
    for (const inputType of ['int64', 'int32'] as const) {
      await expectSameInOrt(model, { inputShape: ['sequence'], inputType }, `Embedding ${inputType}`, tokenIds([2, 7], 11, manualSeed(9)));
    }
    expect(() => exportOnnx(model, { inputShape: [7] })).toThrow(/layer '0' \(Embedding\): expected token ids/);
  });

  it("takes exporters for a user's own layers, and names a layer that has none", async () => {
    const model = new Sequential(new Linear(4, 6, { rng: rng() }), new Scale(6));
    expect(() => exportOnnx(model, { inputShape: [4] })).toThrow(OnnxExportError);
    expect(() => exportOnnx(model, { inputShape: [4] })).toThrow(/layer '1' \(Scale\) has no ONNX exporter/);
    const exporters = new Map([exporter(Scale, (graph, layer, input) => graph.op('Mul', [input, graph.weight(layer.weight)]))]);
    await expectSameInOrt(model, { inputShape: [4], exporters }, 'user exporter');
  });

  it('an exporter may only read the model own weights', () => {
    const stray = ones([6]);
    const exporters = new Map([exporter(Scale, (graph, _layer, input) => graph.op('Mul', [input, graph.weight(stray)]))]);
    expect(() => exportOnnx(new Scale(6), { inputShape: [6], exporters })).toThrow(/not a parameter or buffer of the model/);
  });

  it('an output may take any free name, a node type included', async () => {
    await expectSameInOrt(new Linear(4, 2, { rng: rng() }), { inputShape: [4], outputName: 'Gemm' }, 'output named Gemm');
  });

  it('a float layer refuses token ids, and a Residual a block that changes the shape, naming the layer once', () => {
    const model = new Sequential(new Sequential(new Linear(4, 2), new Tanh()));
    expect(() => exportOnnx(model, { inputShape: [4], inputType: 'int64' })).toThrow(
      /^exportOnnx: layer '0\.0' \(Linear\): expected a float32 input, got int64 \[batch, 4\]; token ids go through an Embedding first$/,
    );
    expect(() => exportOnnx(new Residual(new Linear(4, 1)), { inputShape: [4] })).toThrow(
      /the model \(Residual\): the block maps an input of shape \[batch, 4\] to \[batch, 1\]; a residual connection needs the same shape/,
    );
  });

  it('refuses bad options with what was given', () => {
    const model = new Linear(4, 2);
    expect(() => exportOnnx(model, { inputShape: [4], opset: 11 as never })).toThrow(/opset must be one of 17, 18, got 11/);
    expect(() => exportOnnx(model, { inputShape: [4], opset: '18' as never })).toThrow(/opset must be one of 17, 18, got '18'/);
    expect(() => exportOnnx(model, { inputShape: [4], metadata: new Map([['a', 'b']]) as never })).toThrow(/metadata must be a plain object of strings/);
    expect(() => exportOnnx(model, { inputShape: [4], metadata: 'abc' as never })).toThrow(/metadata must be a plain object of strings, got 'abc'/);
    expect(() => exportOnnx(model, { inputShape: [4], inputName: '' })).toThrow(/inputName must be a non-empty string, got ''/);
    expect(() => exportOnnx(model, { inputShape: [4], outputName: 5 as never })).toThrow(/outputName must be a non-empty string, got 5/);
    expect(() => exportOnnx(model, { inputShape: [4], docString: 5 as never })).toThrow(/docString must be a string, got 5/);
    expect(() => exportOnnx(model, { inputShape: [4], exporters: {} as never })).toThrow(/exporters must be a Map/);
    expect(() => exportOnnx(model, { inputShape: [4], inputName: 'weight' })).toThrow(/inputName 'weight' is the name of one of the model's weights/);
    expect(() => exportOnnx(model, { inputShape: [0] })).toThrow(/inputShape must be an array of positive integers/);
    expect(() => exportOnnx(model, { inputShape: [4], batch: 1 } as never)).toThrow(/unknown option 'batch'/);
    expect(() => exportOnnx(model, undefined as never)).toThrow(/inputShape are required/);
    expect(() => exportOnnx(model, { inputShape: [5] })).toThrow(/the model \(Linear\): expected inputs of 4 features, got shape \[batch, 5\]/);
    expect(() => exportOnnx(model, { inputShape: [4], inputName: 'x', outputName: 'x' })).toThrow(/both 'x'/);
  });
});
