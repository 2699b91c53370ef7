/**
 * Reuse inside a Sequential, checked for every exported layer: a Sequential
 * hands each child a slot for what it passes on (`{ into }`), so a steady
 * training step allocates only what it returns. Here every layer of `LAYERS`
 * runs inside a Sequential, between two other layers, over changing batch
 * sizes, in training and evaluation mode, against the same layers run one by
 * one by hand (direct calls: nothing reused), bit for bit; then the steady
 * step's allocations and reads of `.data` are counted, and the step runs on
 * a backend whose arrays live off the host.
 */
import {
  type DType,
  type NDArray,
  TorchGenerator,
  array,
  mul,
  randn,
  setBackend,
  sub,
} from '@backprop/ndarray';
import { assertBitwiseEqual, countDataReads, countTypedArrays, createBoxedBackend } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  Dense,
  Dropout,
  ELU,
  Embedding,
  Flatten,
  GELU,
  GRU,
  Identity,
  GroupNorm,
  LAYERS,
  LayerNorm,
  type LayerName,
  LSTM,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool2d,
  Mish,
  MultiheadAttention,
  type NeuralLayer,
  RNN,
  ReLU,
  Sequential,
  SiLU,
  Sigmoid,
  Softmax,
  Softplus,
  Tanh,
  TransformerEncoder,
  TransformerEncoderLayer,
} from '../src/index';

/** How to build one layer kind and what input it takes: the test's knowledge of each entry of LAYERS. */
interface Recipe {
  build(dtype: DType, rng: TorchGenerator): NeuralLayer;
  input(batch: number): number[];
  /**
   * Token ids below this count instead of random floats: the layer takes
   * integers (an Embedding), so it comes first in the Sequential, and the
   * model has no input gradient.
   */
  vocab?: number;
  /**
   * Typed arrays a steady step of the Sequential allocates besides its
   * output, where a layer does not yet reuse all its scratch: a known gap,
   * pinned here so that it cannot grow unnoticed.
   */
  extraAllocations?: number;
}

/** The input a recipe takes for a batch: token ids for an Embedding, random floats otherwise. */
function inputFor(name: LayerName, batch: number, dtype: DType, rng: TorchGenerator): NDArray {
  const recipe = RECIPES[name];
  const shape = recipe.input(batch);
  if (recipe.vocab === undefined) return randn(shape, { dtype, rng });
  const ids = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.randint(recipe.vocab as number));
  return array(ids, { shape, dtype: 'int32' });
}

const RECIPES: Record<LayerName, Recipe> = {
  Linear: { build: (dtype, rng) => new Linear(6, 4, { dtype, rng }), input: (b) => [b, 6] },
  Dense: { build: (dtype, rng) => new Dense(6, 4, { activation: 'sigmoid', dtype, rng }), input: (b) => [b, 6] },
  ReLU: { build: () => new ReLU(), input: (b) => [b, 5] },
  Identity: { build: () => new Identity(), input: (b) => [b, 5] },
  Tanh: { build: () => new Tanh(), input: (b) => [b, 5] },
  Sigmoid: { build: () => new Sigmoid(), input: (b) => [b, 5] },
  LeakyReLU: { build: () => new LeakyReLU(0.1), input: (b) => [b, 5] },
  GELU: { build: () => new GELU({ approximate: 'tanh' }), input: (b) => [b, 5] },
  SiLU: { build: () => new SiLU(), input: (b) => [b, 5] },
  ELU: { build: () => new ELU({ alpha: 0.5 }), input: (b) => [b, 5] },
  Softplus: { build: () => new Softplus({ beta: 2, threshold: 1 }), input: (b) => [b, 5] },
  Mish: { build: () => new Mish(), input: (b) => [b, 5] },
  Softmax: { build: () => new Softmax({ dim: 1 }), input: (b) => [b, 5] },
  LogSoftmax: { build: () => new LogSoftmax({ dim: -1 }), input: (b) => [b, 2, 5] },
  Conv2d: { build: (dtype, rng) => new Conv2d(2, 3, 3, { padding: 1, stride: 2, dtype, rng }), input: (b) => [b, 2, 7, 7] },
  Conv1d: { build: (dtype, rng) => new Conv1d(2, 4, 3, { padding: 1, stride: 2, groups: 2, dtype, rng }), input: (b) => [b, 2, 7] },
  ConvTranspose2d: {
    build: (dtype, rng) => new ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1, dtype, rng }),
    input: (b) => [b, 2, 3, 4],
  },
  AdaptiveAvgPool2d: { build: () => new AdaptiveAvgPool2d([3, null]), input: (b) => [b, 2, 7, 5] },
  MaxPool2d: { build: () => new MaxPool2d(3, { stride: 2, padding: 1 }), input: (b) => [b, 2, 7, 7] },
  AvgPool2d: { build: () => new AvgPool2d(2, { ceilMode: true }), input: (b) => [b, 2, 7, 7] },
  Dropout: { build: (_dtype, rng) => new Dropout(0.3, { rng: new TorchGenerator(rng.randint(1000)) }), input: (b) => [b, 5] },
  Flatten: { build: () => new Flatten(), input: (b) => [b, 2, 3] },
  BatchNorm1d: { build: (dtype) => new BatchNorm1d(5, { dtype }), input: (b) => [b, 5] },
  BatchNorm2d: { build: (dtype) => new BatchNorm2d(3, { momentum: null, dtype }), input: (b) => [b, 3, 4, 4] },
  LayerNorm: { build: (dtype) => new LayerNorm([2, 3], { dtype }), input: (b) => [b, 2, 3] },
  GroupNorm: { build: (dtype) => new GroupNorm(2, 4, { dtype }), input: (b) => [b, 4, 3] },
  Embedding: { build: (dtype, rng) => new Embedding(7, 4, { paddingIdx: 0, dtype, rng }), input: (b) => [b, 3], vocab: 7 },
  MultiheadAttention: {
    build: (dtype, rng) => new MultiheadAttention(4, 2, { batchFirst: true, dtype, rng }),
    input: (b) => [b, 3, 4],
  },
  TransformerEncoderLayer: {
    build: (dtype, rng) =>
      new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0.2, activation: 'gelu', batchFirst: true, normFirst: true, dtype, rng }),
    input: (b) => [b, 3, 4],
  },
  TransformerEncoder: {
    build: (dtype, rng) =>
      new TransformerEncoder(new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0.1, dtype, rng }), 2, { norm: new LayerNorm(4, { dtype }) }),
    input: (b) => [b, 3, 4],
  },
  RNN: {
    build: (dtype, rng) => new RNN(3, 4, { nonlinearity: 'relu', batchFirst: true, dtype, rng }),
    input: (b) => [b, 5, 3],
  },
  LSTM: { build: (dtype, rng) => new LSTM(3, 4, { numLayers: 2, bidirectional: true, dtype, rng }), input: (b) => [5, b, 3] },
  GRU: { build: (dtype, rng) => new GRU(3, 4, { batchFirst: true, dtype, rng }), input: (b) => [b, 5, 3] },
  Sequential: {
    build: (dtype, rng) => new Sequential(new Linear(6, 5, { dtype, rng }), new Sequential(new Tanh(), new Identity())),
    input: (b) => [b, 6],
  },
};

/** The layer under test between two Tanh layers: it reads a reused input, writes a reused output, and both gradients are reused. */
function around(name: LayerName, dtype: DType, seed: number): Sequential {
  const layer = RECIPES[name].build(dtype, new TorchGenerator(seed));
  return RECIPES[name].vocab === undefined ? new Sequential(new Tanh(), layer, new Tanh()) : new Sequential(layer, new Tanh());
}

/** The layers a Sequential runs, nested ones expanded, in order. */
function leaves(layer: NeuralLayer): NeuralLayer[] {
  return layer instanceof Sequential ? layer.layers.flatMap(leaves) : [layer];
}

/** The same layers called one by one, directly: every call returns a new array. */
function byHand(model: Sequential) {
  const layers = leaves(model);
  return {
    forward(x: NDArray): NDArray {
      for (const layer of layers) x = layer.forward(x);
      return x;
    },
    backward(g: NDArray, integerInput = false): NDArray | undefined {
      for (let i = layers.length - 1; i > 0; i--) g = layers[i].backward(g);
      return layers[0].backward(g, { inputGrad: !integerInput });
    },
  };
}

/** θ ← θ − 0.05·g, then zero grads: what a step does to the parameters. */
function step(model: NeuralLayer): void {
  for (const p of model.parameters()) sub(p.value, mul(p.grad, 0.05), p.value);
  model.zeroGrad();
}

describe('every exported layer inside a Sequential', () => {
  it('has a recipe here for every entry of LAYERS', () => {
    expect(Object.keys(RECIPES).sort()).toEqual(Object.keys(LAYERS).sort());
  });

  for (const name of Object.keys(LAYERS) as LayerName[]) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} (${dtype}): trains bit for bit as its layers run by hand, over batches and modes; returned arrays stay intact`, () => {
        const model = around(name, dtype, 3);
        const reference = around(name, dtype, 3);
        const hand = byHand(reference);
        const data = new TorchGenerator(11);
        const kept: { array: NDArray; copy: NDArray; what: string }[] = [];
        const schedule = [
          { batch: 4, training: true, inputGrad: true },
          { batch: 4, training: true, inputGrad: false },
          { batch: 7, training: true, inputGrad: true },
          { batch: 2, training: false, inputGrad: true },
          { batch: 4, training: true, inputGrad: false },
          { batch: 4, training: false, inputGrad: false },
        ];
        schedule.forEach(({ batch, training, inputGrad }, s) => {
          model.train(training);
          reference.train(training);
          const x = inputFor(name, batch, dtype, data);
          const integerInput = RECIPES[name].vocab !== undefined;
          const out = model.forward(x);
          assertBitwiseEqual(out, hand.forward(x), `step ${s} output`);
          kept.push({ array: out, copy: out.clone(), what: `step ${s} output` });
          const g = randn(out.shape, { dtype, rng: data });
          const dx = model.backward(g, { inputGrad });
          const expectedDx = hand.backward(g.clone(), integerInput);
          if (inputGrad && !integerInput) {
            assertBitwiseEqual(dx as NDArray, expectedDx as NDArray, `step ${s} input gradient`);
            kept.push({ array: dx as NDArray, copy: (dx as NDArray).clone(), what: `step ${s} input gradient` });
          } else {
            expect(dx, 'backward with { inputGrad: false } or of integer ids returns nothing').toBeUndefined();
          }
          const params = model.namedParameters();
          const expected = reference.namedParameters();
          expect(params.map(([n]) => n)).toEqual(expected.map(([n]) => n));
          params.forEach(([n, p], i) => {
            assertBitwiseEqual(p.grad, expected[i][1].grad, `step ${s} ${n}.grad`);
          });
          step(model);
          step(reference);
        });
        // Nothing a caller was given was overwritten by a later step.
        for (const { array, copy, what } of kept) assertBitwiseEqual(array, copy, `${what}, after every step`);
      });
    }

    it(`${name}: a steady training step allocates only the output it returns and never reads .data`, () => {
      const model = around(name, 'float32', 5);
      const data = new TorchGenerator(2);
      const x = inputFor(name, 8, 'float32', data);
      const small = inputFor(name, 3, 'float32', data);
      const g = randn(model.forward(x).shape, { rng: data });
      const gSmall = randn(model.forward(small).shape, { rng: data });
      const train = (input: NDArray, grad: NDArray) => {
        model.forward(input);
        model.backward(grad, { inputGrad: false });
        model.zeroGrad();
      };
      // Warm-up at both sizes: every slot reaches its largest size.
      train(x, g);
      train(small, gSmall);
      const counts = countTypedArrays(() => {
        train(x, g);
        train(small, gSmall);
        train(x, g);
      });
      expect(counts.owning, 'one new array per step: the output').toBe(3 * (1 + (RECIPES[name].extraAllocations ?? 0)));
      expect(countDataReads(() => train(x, g)), 'reads of NDArray.data').toBe(0);
    });

    it(`${name}: runs on a backend whose arrays live off the host, reading nothing back, with the same results`, () => {
      const boxed = createBoxedBackend(`boxed-${name}`);
      const previous = setBackend(boxed);
      let onDevice: { out: number[]; grads: number[][] };
      try {
        const model = around(name, 'float64', 9);
        const x = inputFor(name, 3, 'float64', new TorchGenerator(4));
        const before = boxed.readBacks;
        const out = model.forward(x);
        const g = randn(out.shape, { dtype: 'float64', rng: new TorchGenerator(5) });
        model.backward(g);
        expect(boxed.readBacks - before, 'arrays read back to the host during the step').toBe(0);
        onDevice = { out: Array.from(out.data), grads: model.parameters().map((p) => Array.from(p.grad.data)) };
      } finally {
        setBackend(previous);
      }
      const model = around(name, 'float64', 9);
      const x = inputFor(name, 3, 'float64', new TorchGenerator(4));
      const out = model.forward(x);
      model.backward(randn(out.shape, { dtype: 'float64', rng: new TorchGenerator(5) }));
      expect(onDevice.out).toEqual(Array.from(out.data));
      expect(onDevice.grads).toEqual(model.parameters().map((p) => Array.from(p.grad.data)));
    });
  }
});

describe('arrays handed to a caller are never overwritten', () => {
  /** Every layer kind, nested Sequentials, a pass-through first and last. */
  function cnn(dtype: DType, seed: number): Sequential {
    const rng = new TorchGenerator(seed);
    return new Sequential(
      new Flatten(1, 1),
      new Conv2d(1, 4, 3, { padding: 1, dtype, rng }),
      new LeakyReLU(0.1),
      new MaxPool2d(2),
      new Sequential(new Conv2d(4, 6, 3, { padding: 1, bias: false, dtype, rng }), new Tanh(), new AvgPool2d(2)),
      new Dropout(0.3, { rng: new TorchGenerator(seed + 1) }),
      new Flatten(),
      new Linear(54, 16, { dtype, rng }),
      new Sigmoid(),
      new Dense(16, 12, { activation: 'tanh', dtype, rng }),
      new Sequential(new Linear(12, 5, { dtype, rng }), new Identity()),
    );
  }

  it('forward and backward return new arrays on every call, even through pass-through first and last layers', () => {
    const model = cnn('float64', 1);
    const data = new TorchGenerator(4);
    const results: NDArray[] = [];
    for (let i = 0; i < 3; i++) {
      results.push(model.forward(randn([4, 1, 12, 12], { dtype: 'float64', rng: data })));
      results.push(model.backward(randn([4, 5], { dtype: 'float64', rng: data })));
    }
    const copies = results.map((r) => r.clone());
    model.forward(randn([4, 1, 12, 12], { dtype: 'float64', rng: data }));
    model.backward(randn([4, 5], { dtype: 'float64', rng: data }));
    results.forEach((r, i) => {
      assertBitwiseEqual(r, copies[i], `result ${i}`);
    });
    expect(new Set(results.map((r) => r.data.buffer)).size).toBe(results.length);
  });

  it('a layer called directly returns new arrays, also when it sits in a Sequential that reuses', () => {
    const model = cnn('float32', 2);
    const data = new TorchGenerator(6);
    const x = randn([2, 1, 12, 12], { rng: data });
    let input = x;
    for (const layer of leaves(model)) {
      const a = layer.forward(input);
      const aCopy = a.clone();
      model.forward(x); // the Sequential reuses its slots in between
      model.backward(randn([2, 5], { rng: data }));
      const b = layer.forward(input);
      if (!(layer instanceof Identity || layer instanceof Flatten)) expect(b.data.buffer, `${layer}`).not.toBe(a.data.buffer);
      assertBitwiseEqual(a, aCopy, `${layer} first output`);
      input = a;
    }
  });

  it('the MNIST MLP reuses its two inner activations and two input gradients: a step allocates the logits alone', () => {
    const rng = new TorchGenerator(1);
    const model = new Sequential(new Linear(784, 128, { rng }), new ReLU(), new Linear(128, 10, { rng }));
    const x = randn([64, 784]);
    const g = randn([64, 10]);
    model.forward(x);
    model.backward(g, { inputGrad: false });
    const parametersOnly = countTypedArrays(() => {
      model.forward(x);
      model.backward(g, { inputGrad: false });
    });
    expect(parametersOnly.owning).toBe(1);
    expect(parametersOnly.owningBytes).toBe(64 * 10 * 4);
    const withInputGrad = countTypedArrays(() => {
      model.forward(x);
      model.backward(g);
    });
    expect(withInputGrad.owning, 'the logits and the input gradient').toBe(2);
  });
});

describe("what a user's layer gets", () => {
  it('a layer that ignores the slots works inside a Sequential, and gets the same results', () => {
    class Twice extends Tanh {
      override forward(input: NDArray): NDArray {
        return super.forward(input); // no options: a new array every time
      }
    }
    const rng = new TorchGenerator(0);
    const a = new Sequential(new Linear(6, 4, { rng }), new Twice(), new Linear(4, 2, { rng }));
    const rng2 = new TorchGenerator(0);
    const b = new Sequential(new Linear(6, 4, { rng: rng2 }), new Tanh(), new Linear(4, 2, { rng: rng2 }));
    const x = randn([3, 6], { rng: new TorchGenerator(1) });
    assertBitwiseEqual(a.forward(x), b.forward(x), 'output');
    const g = randn([3, 2], { rng: new TorchGenerator(2) });
    assertBitwiseEqual(a.backward(g), b.backward(g), 'input gradient');
  });

  it('an input kept past the next step must be cloned: the contract, shown', () => {
    class Recorder extends Identity {
      readonly seen: NDArray[] = [];
      readonly copies: NDArray[] = [];
      override forward(input: NDArray): NDArray {
        this.seen.push(input); // the producer's slot: valid until its next call
        this.copies.push(input.clone()); // a copy: valid for good
        return super.forward(input);
      }
    }
    const recorder = new Recorder();
    const rng = new TorchGenerator(0);
    const model = new Sequential(new Linear(6, 4, { rng }), new Tanh(), recorder, new Linear(4, 2, { rng }));
    const data = new TorchGenerator(1);
    for (let s = 0; s < 3; s++) model.forward(randn([3, 6], { rng: data }));
    // The last input is still what it was; the first was overwritten by later steps (same slot), its copy was not.
    assertBitwiseEqual(recorder.seen[2], recorder.copies[2], 'last recorded input');
    expect(recorder.seen[0]).toBe(recorder.seen[2]);
    expect(Array.from(recorder.copies[0].data)).not.toEqual(Array.from(recorder.copies[2].data));
  });
});
