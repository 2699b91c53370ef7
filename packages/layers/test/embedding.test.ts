import {
  DTypeError,
  type NDArray,
  ShapeError,
  TorchGenerator,
  ValueError,
  array,
  manualSeed,
  randn,
  zeros,
} from '@backprop/ndarray';
import { assertBitwiseEqual, countTypedArrays } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { Embedding } from '../src/embedding';
import { Flatten } from '../src/flatten';
import { type GradcheckResult, gradcheck } from '../src/gradcheck';
import { Linear } from '../src/linear';
import { Sequential } from '../src/sequential';
import { type FixtureTensor, caseLabel, expectBitwiseEqual, expectClose, loadFixture, toArray } from './helpers';

interface EmbeddingCase {
  name: string;
  dtype: 'float32' | 'float64';
  seed: number;
  numEmbeddings: number;
  embeddingDim: number;
  paddingIdx: number | null;
  normalizedPaddingIdx: number | null;
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  params: { weight: FixtureTensor };
  paramGrads: { weight: FixtureTensor };
}

const fixture = loadFixture<{ embedding: EmbeddingCase[]; repr: Record<string, string> }>('attention');

describe('Embedding against torch.nn.Embedding', () => {
  it.each(fixture.embedding.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new Embedding(c.numEmbeddings, c.embeddingDim, {
      paddingIdx: c.paddingIdx,
      dtype: c.dtype,
      rng: new TorchGenerator(c.seed),
    });
    expect(layer.paddingIdx).toBe(c.normalizedPaddingIdx);
    // torch.manual_seed(seed); nn.Embedding(...): N(0, 1), padding row zeroed, bit for bit.
    expectBitwiseEqual(layer.weight.value, c.params.weight, `${label} initial weight`);
    const input = toArray(c.input);
    expect(input.dtype).toBe('int32');
    expectBitwiseEqual(layer.forward(input), c.output, `${label} output`);
    expect(layer.backward(toArray(c.outputGrad), { inputGrad: false })).toBeUndefined();
    expectClose(layer.weight.grad, c.paramGrads.weight, `${label} weight grad`);
  });

  it('draws from the global generator by default, as torch', () => {
    const c = fixture.embedding.find((k) => k.dtype === 'float32' && k.paddingIdx === 2)!;
    manualSeed(c.seed);
    const layer = new Embedding(c.numEmbeddings, c.embeddingDim, { paddingIdx: 2 });
    expectBitwiseEqual(layer.weight.value, c.params.weight, 'initial weight');
  });

  it('prints as torch prints it', () => {
    expect(String(new Embedding(10, 4))).toBe(fixture.repr['Embedding(10, 4)']);
    expect(String(new Embedding(10, 4, { paddingIdx: 2 }))).toBe(fixture.repr['Embedding(10, 4, padding_idx=2)']);
    expect(String(new Embedding(10, 4, { paddingIdx: -1 }))).toBe(fixture.repr['Embedding(10, 4, padding_idx=-1)']);
    expect(String(new Sequential(new Embedding(5, 4), new Linear(4, 2)))).toBe(
      fixture.repr['Sequential(Embedding(5, 4), Linear(4, 2))'],
    );
  });
});

/** The weight gradient by finite differences: the layer wrapped so its (float) input is a dummy and the indices fixed. */
function lookupOf(layer: Embedding, indices: NDArray) {
  return {
    forward: (_: NDArray) => layer.forward(indices),
    backward: (g: NDArray) => {
      layer.backward(g, { inputGrad: false });
      return zeros([1], { dtype: 'float64' });
    },
    parameters: () => layer.parameters(),
  };
}

describe('Embedding gradcheck (float64)', () => {
  it('repeated indices: the weight gradient equals finite differences', () => {
    const layer = new Embedding(4, 3, { dtype: 'float64', rng: new TorchGenerator(3) });
    const indices = array([[1, 1, 3], [0, 1, 2]], { dtype: 'int32' });
    const result = gradcheck(lookupOf(layer, indices), zeros([1], { dtype: 'float64' }));
    reportGradcheck(result);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(1 + 12);
  });

  it('the padding row gets no gradient although the output depends on it (torch\'s rule, not the derivative)', () => {
    const layer = new Embedding(4, 3, { paddingIdx: 1, dtype: 'float64', rng: new TorchGenerator(3) });
    const indices = array([[1, 1, 3], [0, 1, 2]], { dtype: 'int32' });
    const result = gradcheck(lookupOf(layer, indices), zeros([1], { dtype: 'float64' }));
    expect(result.ok).toBe(false);
    expect(result.worst?.what).toBe('weight');
    expect(result.worst?.index[0]).toBe(1); // the worst entry is in the padding row
    expect(result.worst?.analytic).toBe(0);
  });
});

describe('Embedding inside a Sequential, and backward', () => {
  it('is the first layer of a model: backward with { inputGrad: false } trains it, without it says why', () => {
    const rng = new TorchGenerator(5);
    const model = new Sequential(new Embedding(6, 4, { rng }), new Linear(4, 2, { rng }));
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '1.weight', '1.bias']);
    const tokens = array([[0, 5, 5], [2, 3, 1]], { dtype: 'int32' });
    const out = model.forward(tokens);
    expect(out.shape).toEqual([2, 3, 2]);
    const g = randn([2, 3, 2], { rng });
    expect(model.backward(g, { inputGrad: false })).toBeUndefined();
    const embedding = model.layers[0] as Embedding;
    expect(embedding.weight.grad.data.some((v) => v !== 0)).toBe(true);
    // Token ids have no gradient: the Sequential asks its first layer for none, as torch computes none for an integer input.
    expect(model.backward(g)).toBeUndefined();
    expect(() => embedding.backward(randn([2, 3, 4], { rng }))).toThrow(
      /integer indices, which have no gradient; call backward\(outputGrad, \{ inputGrad: false \}\)/,
    );
  });

  it('trains after layers that pass token ids on (a Flatten first), as torch does', () => {
    const rng = new TorchGenerator(8);
    const model = new Sequential(new Flatten(), new Embedding(6, 3, { dtype: 'float64', rng }), new Linear(3, 2, { dtype: 'float64', rng }));
    const alone = new Sequential(new Embedding(6, 3, { dtype: 'float64' }), new Linear(3, 2, { dtype: 'float64' }));
    alone.loadStateDict(Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k.replace(/^(\d)/, (d) => String(Number(d) - 1)), v])));
    const tokens = array([[[0, 5]], [[2, 3]]], { dtype: 'int32' });
    const g = randn([2, 2, 2], { dtype: 'float64', rng });
    model.forward(tokens);
    expect(model.backward(g)).toBeUndefined();
    alone.forward(tokens.reshape([2, 2]));
    alone.backward(g);
    expect(Array.from((model.layers[1] as Embedding).weight.grad.data)).toEqual(Array.from((alone.layers[0] as Embedding).weight.grad.data));
  });

  it('accumulates over backward calls until zeroGrad', () => {
    const layer = new Embedding(3, 2, { dtype: 'float64', rng: new TorchGenerator(6) });
    layer.forward(array([2, 2, 0], { dtype: 'int32' }));
    const g = randn([3, 2], { dtype: 'float64', rng: new TorchGenerator(7) });
    layer.backward(g, { inputGrad: false });
    const once = Array.from(layer.weight.grad.data);
    expect(once.slice(4)).toEqual([g.data[0] + g.data[2], g.data[1] + g.data[3]]);
    layer.backward(g, { inputGrad: false });
    expect(Array.from(layer.weight.grad.data)).toEqual(once.map((v) => 2 * v));
    layer.zeroGrad();
    expect(layer.weight.grad.data.every((v) => v === 0)).toBe(true);
  });
});

describe('Embedding reuses its scratch', () => {
  it('a steady step with a padding row allocates only its output, and gets what a fresh layer gets', () => {
    const used = new Embedding(6, 3, { paddingIdx: 2, dtype: 'float64', rng: new TorchGenerator(8) });
    const fresh = new Embedding(6, 3, { paddingIdx: 2, dtype: 'float64', rng: new TorchGenerator(8) });
    const rng = new TorchGenerator(9);
    const big = array([[2, 5, 2, 0, 1], [3, 3, 2, 4, 2], [1, 1, 1, 1, 1]], { dtype: 'int32' });
    const small = array([[2, 4], [0, 2]], { dtype: 'int32' });
    const gBig = randn([3, 5, 3], { dtype: 'float64', rng });
    const gSmall = randn([2, 2, 3], { dtype: 'float64', rng });
    const step = (tokens: NDArray, g: NDArray) => {
      used.forward(tokens);
      used.backward(g, { inputGrad: false });
    };
    step(big, gBig);
    step(small, gSmall);
    used.zeroGrad();
    expect(countTypedArrays(() => step(big, gBig)).owning, 'the output').toBe(1);
    fresh.forward(big);
    fresh.backward(gBig, { inputGrad: false });
    assertBitwiseEqual(used.weight.grad, fresh.weight.grad, 'weight grad');
    expect(Array.from(used.weight.grad.data.slice(6, 9))).toEqual([0, 0, 0]);
  });
});

describe('Embedding.fromPretrained', () => {
  const table = (): NDArray => array([[1, 2.5, 3], [4, 5.5, 6], [7, 8, 9]], { dtype: 'float64' });

  it('uses the table as it is, draws nothing, and (frozen, the default) never changes it', () => {
    const weight = table();
    manualSeed(11);
    const layer = Embedding.fromPretrained(weight);
    const next = randn([3]);
    manualSeed(11);
    expect(Array.from(next.data)).toEqual(Array.from(randn([3]).data)); // no draws
    expect(layer.weight.value).toBe(weight); // not a copy, as torch
    expect(layer.frozen).toBe(true);
    expect(layer.parameters()).toEqual([]);
    expect(Object.keys(layer.stateDict())).toEqual(['weight']);
    expect(Array.from(layer.forward(array([2, 0], { dtype: 'int32' })).data)).toEqual([7, 8, 9, 1, 2.5, 3]);
    layer.backward(zeros([2, 3], { dtype: 'float64' }).fill(1), { inputGrad: false });
    expect(layer.weight.grad.data.every((v) => v === 0)).toBe(true);
    expect(String(layer)).toBe('Embedding(3, 3)');
  });

  it('with freeze: false trains the table; the padding row keeps its values and gets no gradient', () => {
    const layer = Embedding.fromPretrained(table(), { freeze: false, paddingIdx: 1 });
    expect(layer.parameters()).toEqual([layer.weight]);
    expect(Array.from(layer.weight.value.data.slice(3, 6))).toEqual([4, 5.5, 6]);
    layer.forward(array([1, 0, 1], { dtype: 'int32' }));
    layer.backward(zeros([3, 3], { dtype: 'float64' }).fill(1), { inputGrad: false });
    expect(Array.from(layer.weight.grad.data)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses a table that is not a 2-D float array', () => {
    expect(() => Embedding.fromPretrained(zeros([3]))).toThrow(ShapeError);
    expect(() => Embedding.fromPretrained(zeros([2, 2], { dtype: 'int32' }))).toThrow(DTypeError);
    expect(() => Embedding.fromPretrained(table(), { freeze: 1 as unknown as boolean })).toThrow(/freeze must be true or false/);
  });
});

describe('Embedding refuses bad input at once', () => {
  const layer = new Embedding(10, 3, { rng: new TorchGenerator(0) });

  it('float indices', () => {
    expect(() => layer.forward(zeros([2, 3]))).toThrow(DTypeError);
    expect(() => layer.forward(zeros([2, 3]))).toThrow(/input must be int32 indices into the 10 rows.*got dtype float32/);
  });

  it('an index outside [0, numEmbeddings), naming the first and its position', () => {
    const bad = array([[1, 2, 3], [4, 12, 10]], { dtype: 'int32' });
    expect(() => layer.forward(bad)).toThrow(/input holds 12 at index \[1, 1\] \(shape \[2, 3\]\); expected values in \[0, 9\]/);
    expect(() => layer.forward(array([-1], { dtype: 'int32' }))).toThrow(/holds -1 at index \[0\]/);
  });

  it('bad options, and the torch options it does not support', () => {
    expect(() => new Embedding(10, 3, { paddingIdx: 10 })).toThrow(/paddingIdx must be null or an integer in \[-10, 9\].*got 10/);
    expect(() => new Embedding(10, 3, { paddingIdx: 1.5 })).toThrow(ValueError);
    expect(() => new Embedding(0, 3)).toThrow(/numEmbeddings must be an integer >= 1, got 0/);
    expect(() => new Embedding(10, 3, { maxNorm: 1 as unknown as null })).toThrow(/maxNorm is not supported \(got 1\)/);
    expect(() => new Embedding(10, 3, { sparse: true as unknown as false })).toThrow(/sparse is not supported/);
    expect(() => new Embedding(10, 3, { scaleGradByFreq: true as unknown as false })).toThrow(/scaleGradByFreq is not supported/);
    expect(() => new Embedding(10, 3, { sparse: false, maxNorm: null })).not.toThrow();
    expect(() => new Embedding(10, 3, { padding_idx: 1 } as never)).toThrow(/unknown option 'padding_idx'/);
  });

  it('backward before forward, and a gradient of the wrong shape', () => {
    const fresh = new Embedding(4, 2);
    expect(() => fresh.backward(zeros([1, 2]), { inputGrad: false })).toThrow(/backward\(\) called before forward\(\)/);
    fresh.forward(array([1, 2], { dtype: 'int32' }));
    expect(() => fresh.backward(zeros([2, 3]), { inputGrad: false })).toThrow(/outputGrad has shape \[2, 3\], expected .* \[2, 2\]/);
  });
});

/** With REPORT_ERRORS set, prints gradcheck's worst error (as expectClose prints the worst error against torch). */
function reportGradcheck(result: GradcheckResult): void {
  if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${result.maxRelError.toExponential(2)} over ${result.checked} entries`);
}
