import {
  Embedding,
  GRU,
  LayerNorm,
  LSTM,
  Linear,
  MultiheadAttention,
  NeuralLayer,
  RNN,
  Sequential,
  TransformerEncoder,
  TransformerEncoderLayer,
} from '@backprop/layers';
import type { BackwardOptions, ForwardOptions } from '@backprop/layers';
import { type NDArray, fillNormal, manualSeed, randn } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/export';
import { multiheadAttention, transformerEncoder } from '../src/exporters/sequence';
import { exporter } from '../src/graph';
import { expectSameInOrt, runInOrt, tokenIds } from './helpers';

/** Every parameter drawn again from N(0, 0.5²), so the biases (zero at initialisation) are exercised too. */
function randomized<L extends NeuralLayer>(layer: L, seed = 1): L {
  const rng = manualSeed(seed);
  for (const parameter of layer.parameters()) fillNormal(parameter.value, 0, 0.5, rng);
  return layer;
}

const input = (shape: number[], seed = 7): NDArray => randn(shape, { rng: manualSeed(seed) });

/** A model that calls its attention or encoder with `isCausal: true`, as apps/charlm's transformer does. */
class Causal extends NeuralLayer {
  readonly inner: MultiheadAttention | TransformerEncoder;
  constructor(inner: MultiheadAttention | TransformerEncoder) {
    super();
    this.inner = inner;
  }
  forward(x: NDArray, options?: ForwardOptions): NDArray {
    return this.inner.forward(x, { isCausal: true, into: options?.into });
  }
  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    return this.inner.backward(outputGrad, options);
  }
}

/** The causal form, asked for through the exported helpers. */
const causalExporters = new Map([
  exporter(Causal, (graph, layer, x) =>
    layer.inner instanceof MultiheadAttention
      ? graph.layer(layer.inner, x, (g, attn, v) => multiheadAttention(g, attn, v, { causal: true }))
      : graph.layer(layer.inner, x, (g, encoder, v) => transformerEncoder(g, encoder as TransformerEncoder, v, { causal: true })),
  ),
]);

describe('MultiheadAttention in ONNX Runtime', () => {
  it('batch first and sequence first, with and without biases, one to four heads', async () => {
    for (const batchFirst of [true, false]) {
      for (const bias of [true, false]) {
        for (const heads of [1, 4]) {
          const mha = randomized(new MultiheadAttention(8, heads, { batchFirst, bias, dropout: 0.3, rng: manualSeed(0) }));
          const label = `MultiheadAttention heads ${heads} batchFirst ${batchFirst} bias ${bias}`;
          // Sequence first, the graph's leading dimension is the sequence (5), the batch is 2.
          const x = batchFirst ? input([3, 5, 8]) : input([5, 2, 8]);
          await expectSameInOrt(mha, { inputShape: batchFirst ? [5, 8] : [2, 8] }, label, x);
        }
      }
    }
  });

  it('an unbatched [L, E] input, and opset 18', async () => {
    const mha = randomized(new MultiheadAttention(6, 2, { rng: manualSeed(0) }));
    await expectSameInOrt(mha, { inputShape: [6] }, 'MultiheadAttention unbatched', input([4, 6]));
    await expectSameInOrt(mha, { inputShape: [2, 6], opset: 18 }, 'MultiheadAttention opset 18', input([4, 2, 6]));
  });

  it('the causal form on a sequence length fixed only when the model runs', async () => {
    for (const batchFirst of [true, false]) {
      const model = new Causal(randomized(new MultiheadAttention(8, 2, { batchFirst, rng: manualSeed(0) })));
      const options = { inputShape: batchFirst ? ['sequence', 8] : [2, 8], exporters: causalExporters };
      for (const length of [1, 5, 9]) {
        const x = batchFirst ? input([2, length, 8]) : input([length, 2, 8]);
        await expectSameInOrt(model, options, `MultiheadAttention causal L ${length} batchFirst ${batchFirst}`, x);
      }
    }
  });

  it('the causal export differs from the plain one where a query sees a later key', async () => {
    const mha = randomized(new MultiheadAttention(4, 1, { batchFirst: true, rng: manualSeed(0) }));
    const x = input([1, 3, 4]);
    const plain = await runInOrt(exportOnnx(mha, { inputShape: [3, 4] }), x);
    const causal = await runInOrt(exportOnnx(new Causal(mha), { inputShape: [3, 4], exporters: causalExporters }), x);
    // The last query sees every key either way; the first sees only itself in the causal form.
    expect(Array.from(causal.data.slice(8))).toEqual(Array.from(plain.data.slice(8)));
    expect(Array.from(causal.data.slice(0, 4))).not.toEqual(Array.from(plain.data.slice(0, 4)));
  });

  it('a float64 layer is written as float32', async () => {
    const mha = randomized(new MultiheadAttention(8, 2, { batchFirst: true, dtype: 'float64', rng: manualSeed(0) }));
    await expectSameInOrt(mha, { inputShape: [5, 8] }, 'MultiheadAttention float64', input([3, 5, 8]).astype('float64'));
  });
});

describe('TransformerEncoderLayer and TransformerEncoder in ONNX Runtime', () => {
  it('post-norm and pre-norm, relu and gelu, batch first and sequence first', async () => {
    for (const normFirst of [false, true]) {
      for (const activation of ['relu', 'gelu'] as const) {
        for (const batchFirst of [true, false]) {
          const layer = randomized(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, activation, batchFirst, normFirst, rng: manualSeed(0) }));
          const label = `TransformerEncoderLayer normFirst ${normFirst} ${activation} batchFirst ${batchFirst}`;
          const x = batchFirst ? input([3, 5, 8]) : input([5, 3, 8]);
          await expectSameInOrt(layer, { inputShape: batchFirst ? [5, 8] : [3, 8] }, label, x);
        }
      }
    }
  });

  it('without biases, unbatched, and opset 18', async () => {
    const layer = randomized(new TransformerEncoderLayer(8, 4, { dimFeedforward: 12, bias: false, normFirst: true, rng: manualSeed(0) }));
    await expectSameInOrt(layer, { inputShape: [3, 8] }, 'TransformerEncoderLayer bias false', input([5, 3, 8]));
    await expectSameInOrt(layer, { inputShape: [8] }, 'TransformerEncoderLayer unbatched', input([5, 8]));
    await expectSameInOrt(layer, { inputShape: [3, 8], opset: 18 }, 'TransformerEncoderLayer opset 18', input([5, 3, 8]));
  });

  it('a stack of layers with and without the final norm, plain and causal', async () => {
    for (const norm of [null, new LayerNorm(8)]) {
      const block = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, activation: 'gelu', batchFirst: true, normFirst: true, rng: manualSeed(0) });
      const encoder = randomized(new TransformerEncoder(block, 2, { norm }));
      const label = `TransformerEncoder ${norm === null ? 'no norm' : 'norm'}`;
      await expectSameInOrt(encoder, { inputShape: [5, 8] }, label, input([3, 5, 8]));
      const causal = { inputShape: ['sequence', 8], exporters: causalExporters };
      await expectSameInOrt(new Causal(encoder), causal, `${label} causal`, input([3, 6, 8]));
    }
  });

  it('a float64 encoder is written as float32', async () => {
    const block = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, dtype: 'float64', rng: manualSeed(0) });
    const encoder = randomized(new TransformerEncoder(block, 2, { norm: new LayerNorm(8, { dtype: 'float64' }) }));
    await expectSameInOrt(encoder, { inputShape: [5, 8] }, 'TransformerEncoder float64', input([3, 5, 8]).astype('float64'));
  });
});

describe('RNN, LSTM and GRU in ONNX Runtime', () => {
  const kinds = [
    ['RNN tanh', (options: object) => new RNN(5, 4, { ...options, rng: manualSeed(0) })],
    ['RNN relu', (options: object) => new RNN(5, 4, { ...options, nonlinearity: 'relu', rng: manualSeed(0) })],
    ['LSTM', (options: object) => new LSTM(5, 4, { ...options, rng: manualSeed(0) })],
    ['GRU', (options: object) => new GRU(5, 4, { ...options, rng: manualSeed(0) })],
  ] as const;

  it.each(kinds)('%s: one layer, stacked, bidirectional, batch first, without biases', async (name, make) => {
    const variants = [
      { numLayers: 1 },
      { numLayers: 2, dropout: 0.5 },
      { bidirectional: true },
      { numLayers: 3, bidirectional: true, batchFirst: true },
      { numLayers: 2, bias: false, batchFirst: true },
      { bidirectional: true, bias: false },
    ];
    for (const options of variants) {
      const layer = make(options);
      const batchFirst = 'batchFirst' in options;
      const label = `${name} ${JSON.stringify(options)}`;
      await expectSameInOrt(layer, { inputShape: batchFirst ? [6, 5] : [2, 5] }, label, batchFirst ? input([3, 6, 5]) : input([6, 2, 5]));
    }
  });

  it.each(kinds)('%s: a sequence length fixed only when the model runs, unbatched, and opset 18', async (name, make) => {
    const layer = make({ numLayers: 2, bidirectional: true, batchFirst: true });
    for (const length of [1, 7]) {
      await expectSameInOrt(layer, { inputShape: ['sequence', 5] }, `${name} L ${length}`, input([2, length, 5]));
    }
    await expectSameInOrt(layer, { inputShape: [5] }, `${name} unbatched`, input([6, 5]));
    await expectSameInOrt(make({}), { inputShape: [2, 5], opset: 18 }, `${name} opset 18`, input([6, 2, 5]));
  });

  it('float64 layers are written as float32', async () => {
    for (const [name, make] of kinds) {
      const layer = make({ numLayers: 2, bidirectional: true, dtype: 'float64' });
      await expectSameInOrt(layer, { inputShape: [2, 5] }, `${name} float64`, input([6, 2, 5]).astype('float64'));
    }
  });

  it("apps/charlm's LSTM model: token ids, an embedding, a stacked LSTM, a linear head", async () => {
    const model = new Sequential(
      new Embedding(11, 6, { rng: manualSeed(0) }),
      new LSTM(6, 8, { numLayers: 2, batchFirst: true, rng: manualSeed(1) }),
      new Linear(8, 11, { rng: manualSeed(2) }),
    );
    const ids = tokenIds([2, 9], 11, manualSeed(3));
    await expectSameInOrt(model, { inputShape: ['sequence'], inputType: 'int64' }, 'LSTM language model', ids);
  });
});

describe('sequence layers that do not fit', () => {
  it('an input of the wrong width names the layer and what it expected', () => {
    const model = new Sequential(new Linear(4, 6), new MultiheadAttention(8, 2, { batchFirst: true }));
    expect(() => exportOnnx(model, { inputShape: [5, 4] })).toThrow(
      /layer '1' \(MultiheadAttention\): expected an input \[N, L, 8\] or unbatched \[L, 8\], got \[batch, 5, 6\]/,
    );
    expect(() => exportOnnx(new LSTM(5, 4), { inputShape: [2, 3] })).toThrow(/the model \(LSTM\): expected an input \[L, N, 5\].*got \[batch, 2, 3\]/);
    expect(() => exportOnnx(new GRU(5, 4), { inputShape: [2, 3, 4, 5] })).toThrow(/the model \(GRU\): expected an input/);
  });

  it('token ids straight into an attention or recurrent layer are refused', () => {
    expect(() => exportOnnx(new LSTM(5, 4), { inputShape: [5], inputType: 'int64' })).toThrow(/the model \(LSTM\): expected a float32 input .* got int64/);
    const encoder = new TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
    expect(() => exportOnnx(encoder, { inputShape: [8], inputType: 'int32' })).toThrow(/the model \(TransformerEncoderLayer\): expected a float32 input/);
  });
});
