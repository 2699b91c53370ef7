import { gradcheck } from '@backprop/layers';
import { type NDArray, ShapeError, TorchGenerator, array, sum, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Vocabulary, encodeNames, sampleNames } from '@backprop/data/names';
import { Bigram, type LanguageModel, MLPModel, type ModelConfig, buildModel, configFor, stateSize } from '../src/models';
import { RECIPES, trainModel } from '../src/train';

const vocab = Vocabulary.of(['abc', 'cab', 'bca', 'aa']);
const tiny: Record<'mlp' | 'lstm' | 'transformer', ModelConfig> = {
  mlp: { model: 'mlp', vocabSize: 4, blockSize: 5, context: 3, embedDim: 2, hidden: 5 },
  lstm: { model: 'lstm', vocabSize: 4, blockSize: 5, embedDim: 3, hidden: 4, layers: 2 },
  transformer: { model: 'transformer', vocabSize: 4, blockSize: 5, embedDim: 4, heads: 2, layers: 2 },
};
const ids = array([[0, 1, 2, 3, 0], [0, 3, 1, 0, 0]], { dtype: 'int32' });

/** The model as gradcheck sees it: a function of its parameters only (token ids have no gradient). */
function onIds(model: LanguageModel, input: NDArray) {
  return {
    forward: (_: NDArray) => model.forward(input),
    backward: (g: NDArray) => {
      model.backward(g, { inputGrad: false });
      return zeros([1], { dtype: 'float64' });
    },
    parameters: () => model.parameters(),
  };
}

describe('every trainable model: gradients equal finite differences (float64)', () => {
  for (const name of ['mlp', 'lstm', 'transformer'] as const) {
    it(name, () => {
      const model = buildModel(tiny[name], { dtype: 'float64', rng: new TorchGenerator(1) });
      const result = gradcheck(onIds(model, ids), zeros([1], { dtype: 'float64' }));
      expect(result.ok, JSON.stringify(result.worst)).toBe(true);
      expect(result.checked).toBe(1 + model.parameters().reduce((n, p) => n + p.value.size, 0));
    });
  }
});

describe('causality: position t sees tokens 0..t only', () => {
  for (const name of ['mlp', 'lstm', 'transformer'] as const) {
    it(`${name}: changing a later token leaves earlier logits as they were`, () => {
      const model = buildModel(tiny[name], { dtype: 'float64', rng: new TorchGenerator(2) });
      const a = model.forward(array([[0, 1, 2, 3, 1]], { dtype: 'int32' })).data;
      const b = model.forward(array([[0, 1, 2, 1, 3]], { dtype: 'int32' })).data;
      const V = 4;
      expect(Array.from(b.subarray(0, 3 * V))).toEqual(Array.from(a.subarray(0, 3 * V)));
      expect(Array.from(b.subarray(3 * V, 4 * V))).not.toEqual(Array.from(a.subarray(3 * V, 4 * V)));
    });
  }
});

describe('models', () => {
  it('the MLP context is the current token first, then earlier ones, blank (id V) before the start', () => {
    const model = new MLPModel(tiny.mlp as MLPModel['config'], { rng: new TorchGenerator(0) });
    const context = model.contextIds(array([[0, 1, 2]], { dtype: 'int32' }));
    expect(context.shape).toEqual([1, 3, 3]);
    expect(Array.from(context.data)).toEqual([0, 4, 4, 1, 0, 4, 2, 1, 0]);
  });

  it('the bigram is add-one-smoothed counts of the training pairs', () => {
    const { x, y } = encodeNames(['ab', 'b'], Vocabulary.of(['ab']), 3);
    const bigram = new Bigram({ model: 'bigram', vocabSize: 3, blockSize: 3 }, 'float64').fit(x, y);
    // Pairs: . -> a, a -> b, b -> ., . -> b, b -> . ; row '.' counts (1, 2, 2) of 5.
    const p = Array.from(bigram.logProbs.data, Math.exp);
    expect(p.slice(0, 3)).toEqual([1 / 5, 2 / 5, 2 / 5].map((v) => expect.closeTo(v, 15)));
    expect(p.slice(6, 9)).toEqual([3 / 5, 1 / 5, 1 / 5].map((v) => expect.closeTo(v, 15)));
    const rows = sum(array(p, { shape: [3, 3], dtype: 'float64' }), 1).data;
    for (const total of rows) expect(total).toBeCloseTo(1, 14);
  });

  it('the default sizes give the documented parameter counts', () => {
    const count = (name: 'mlp' | 'lstm' | 'transformer') =>
      buildModel(configFor(name, 27, 16), { rng: new TorchGenerator(0) }).parameters().reduce((n, p) => n + p.value.size, 0);
    // By hand: wte (28·24) + Linear(96, 256) + Linear(256, 27).
    expect(count('mlp')).toBe(28 * 24 + 96 * 256 + 256 + 256 * 27 + 27);
    // wte (27·32) + LSTM(32, 128): 4·128·(32 + 128) + 2·4·128 + Linear(128, 27).
    expect(count('lstm')).toBe(27 * 32 + 4 * 128 * (32 + 128) + 2 * 4 * 128 + 128 * 27 + 27);
    // wte + wpe + 3 × (attention 4·48² + 4·48, MLP 2·4·48² + 4·48 + 48, two LayerNorms 4·48) + final LayerNorm + head.
    const block = 4 * 48 * 48 + 4 * 48 + 2 * 4 * 48 * 48 + 4 * 48 + 48 + 4 * 48;
    expect(count('transformer')).toBe(27 * 48 + 16 * 48 + 3 * block + 2 * 48 + 48 * 27 + 27);
  });

  it('stateSize counts from the config alone what the model holds', () => {
    const configs: ModelConfig[] = [
      { model: 'bigram', vocabSize: 27, blockSize: 16 },
      ...Object.values(tiny),
      configFor('mlp', 27, 16),
      configFor('lstm', 27, 16),
      configFor('transformer', 27, 16),
      { model: 'lstm', vocabSize: 27, blockSize: 16, embedDim: 8, hidden: 12, layers: 3 },
    ];
    for (const config of configs) {
      const model = buildModel(config, { rng: new TorchGenerator(0) });
      const held = Object.values(model.stateDict()).reduce((n, t) => n + t.size, 0);
      expect(stateSize(config), JSON.stringify(config)).toBe(held);
    }
  });

  it('refuses ids that are not int32 [batch, T] with T within the block', () => {
    const model = buildModel(tiny.transformer, { rng: new TorchGenerator(0) });
    expect(() => model.forward(zeros([2, 3]))).toThrow(ShapeError);
    expect(() => model.forward(zeros([2, 6], { dtype: 'int32' }))).toThrow(/1 <= T <= 5, got int32 \[2, 6\]/);
    expect(() => model.forward(zeros([6], { dtype: 'int32' }))).toThrow(/\[batch, T\]/);
  });
});

describe('trainModel', () => {
  it('refuses a training set that cannot fill one batch (an epoch without a step would never end)', () => {
    const data = encodeNames(['abc', 'cab'], vocab, 5);
    const model = buildModel(tiny.mlp, { rng: new TorchGenerator(0) });
    const recipe = { ...RECIPES.mlp, batchSize: 4, steps: 3 };
    expect(() => trainModel(model, data, data, { recipe, rng: new TorchGenerator(0), evalEvery: 3 })).toThrow(
      /2 training rows cannot fill one batch of 4/,
    );
  });
});

describe('Vocabulary', () => {
  it('refuses control and format characters, which would drive the terminal', () => {
    expect(() => new Vocabulary(['.', 'a', '\u001b'])).toThrow(/distinct single printable characters/);
    expect(() => new Vocabulary(['.', '\u202e'])).toThrow(/printable/);
  });
});

describe('sampleNames', () => {
  const model = buildModel(tiny.transformer, { rng: new TorchGenerator(3) });

  it('is reproducible from the seed, and greedy decoding ignores it', () => {
    const draw = (seed: number, temperature: number) => sampleNames(model, vocab, { count: 6, temperature, rng: new TorchGenerator(seed) });
    expect(draw(1, 1)).toEqual(draw(1, 1));
    expect(draw(1, 0)).toEqual(draw(2, 0));
    const greedy = draw(1, 0);
    expect(new Set(greedy).size).toBe(1);
    for (const name of draw(5, 1)) expect(name).toMatch(/^[abc]{0,4}$/);
  });

  it('continues a prefix, and the model is left in the mode it was in', () => {
    model.train();
    for (const name of sampleNames(model, vocab, { count: 4, temperature: 1, rng: new TorchGenerator(0), prefix: 'ca' })) {
      expect(name.startsWith('ca')).toBe(true);
    }
    expect(model.training).toBe(true);
  });

  it('refuses a bad count, temperature or prefix', () => {
    const rng = new TorchGenerator(0);
    expect(() => sampleNames(model, vocab, { count: 0, temperature: 1, rng })).toThrow(/count must be a positive integer, got 0/);
    expect(() => sampleNames(model, vocab, { count: 1, temperature: -1, rng })).toThrow(/temperature must be a finite number >= 0, got -1/);
    expect(() => sampleNames(model, vocab, { count: 1, temperature: 1, rng, prefix: 'abca' })).toThrow(/leaves no room in a block of 5/);
    expect(() => sampleNames(model, vocab, { count: 1, temperature: 1, rng, prefix: 'x' })).toThrow(/"x" .* not in the vocabulary/);
  });
});
