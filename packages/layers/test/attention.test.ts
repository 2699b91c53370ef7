import {
  DTypeError,
  type Generator,
  type NDArray,
  Parameter,
  ShapeError,
  TorchGenerator,
  ValueError,
  add,
  array,
  manualSeed,
  randn,
  setBackend,
  zeros,
} from '@backprop/ndarray';
import { assertBitwiseEqual, countTypedArrays, createBoxedBackend } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { MultiheadAttention } from '../src/attention';
import {
  type ScaledDotProductAttentionOptions,
  type ScaledDotProductAttentionResult,
  causalMask,
  scaledDotProductAttention,
  scaledDotProductAttentionBackward,
} from '../src/attention-functional';
import { Embedding } from '../src/embedding';
import { type GradcheckResult, gradcheck } from '../src/gradcheck';
import { Linear } from '../src/linear';
import { Sequential } from '../src/sequential';
import { type FixtureTensor, caseLabel, expectBitwiseEqual, expectClose, expectInProjBiasGrad, loadFixture, toArray } from './helpers';

interface SdpaCase {
  name: string;
  dtype: 'float32' | 'float64';
  isCausal: boolean;
  scale: number | null;
  maskKind?: 'bool' | 'float';
  attnMask?: FixtureTensor;
  query: FixtureTensor;
  key: FixtureTensor;
  value: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  queryGrad: FixtureTensor;
  keyGrad: FixtureTensor;
  valueGrad: FixtureTensor;
}

interface MhaCase {
  name: string;
  dtype: 'float32' | 'float64';
  seed: number;
  embedDim: number;
  numHeads: number;
  bias: boolean;
  batchFirst: boolean;
  form: 'self' | 'qkv';
  isCausal: boolean;
  averageAttnWeights: boolean;
  dropout: number;
  training: boolean;
  attnMask?: FixtureTensor;
  keyPaddingMask?: FixtureTensor;
  inputs: Record<string, FixtureTensor>;
  output: FixtureTensor;
  weights: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrads: Record<string, FixtureTensor>;
  params: Record<string, FixtureTensor>;
  paramGrads: Record<string, FixtureTensor>;
}

const fixture = loadFixture<{ sdpa: SdpaCase[]; mha: MhaCase[]; repr: Record<string, string> }>('attention');

describe('scaledDotProductAttention against torch (softmax(q·kᵀ·scale + mask)·v by hand)', () => {
  it.each(fixture.sdpa.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const options: ScaledDotProductAttentionOptions = { isCausal: c.isCausal };
    if (c.scale !== null) options.scale = c.scale;
    if (c.attnMask) options.attnMask = toArray(c.attnMask);
    if (c.maskKind === 'bool') expect(options.attnMask?.dtype).toBe('int32');
    const result = scaledDotProductAttention(toArray(c.query), toArray(c.key), toArray(c.value), options);
    expectClose(result.output, c.output, `${label} output`);
    const grads = scaledDotProductAttentionBackward(toArray(c.outputGrad), result);
    expectClose(grads.query, c.queryGrad, `${label} query grad`);
    expectClose(grads.key, c.keyGrad, `${label} key grad`);
    expectClose(grads.value, c.valueGrad, `${label} value grad`);
  });
});

/** A generator that draws the same uniforms on every call, so every forward pass drops the same weights. */
function fixedMask(seed: number): Generator {
  return {
    uniform: (out, low, high) => new TorchGenerator(seed).uniform(out, low, high),
    normal: (out, mean, std) => new TorchGenerator(seed).normal(out, mean, std),
    randint: (n) => new TorchGenerator(seed).randint(n),
  };
}

/** The functional op as a layer for gradcheck: the query is the input, key and value are parameters. */
function sdpaLayer(key: NDArray, value: NDArray, options: ScaledDotProductAttentionOptions) {
  const k = new Parameter(key, 'key');
  const v = new Parameter(value, 'value');
  let last: ScaledDotProductAttentionResult | undefined;
  return {
    forward(query: NDArray) {
      last = scaledDotProductAttention(query, k.value, v.value, options);
      return last.output;
    },
    backward(g: NDArray) {
      const grads = scaledDotProductAttentionBackward(g, last!);
      add(k.grad, grads.key, k.grad);
      add(v.grad, grads.value, v.grad);
      return grads.query;
    },
    parameters: () => [k, v],
  };
}

describe('scaledDotProductAttention gradcheck (float64): query, key and value', () => {
  const rng = new TorchGenerator(21);
  const q = randn([2, 3, 4], { dtype: 'float64', rng });
  const k = randn([2, 5, 4], { dtype: 'float64', rng });
  const v = randn([2, 5, 3], { dtype: 'float64', rng });
  it.each([
    ['no mask', {}],
    ['causal', { isCausal: true }],
    ['boolean mask', { attnMask: array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 0], [1, 1, 1, 1, 1]], { dtype: 'int32' }) }],
    ['float mask, scale 0.7', { attnMask: randn([2, 3, 5], { dtype: 'float64', rng }), scale: 0.7 }],
    ['dropout 0.4 (one fixed mask)', { dropoutP: 0.4, rng: fixedMask(5) }],
  ] as [string, ScaledDotProductAttentionOptions][])('%s', (_, options) => {
    const result = gradcheck(sdpaLayer(k.clone(), v.clone(), options), q.clone());
    reportGradcheck(result);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(q.size + k.size + v.size);
  });

  it('dropout drops weights (and their gradients) and scales the rest by 1/(1 − p)', () => {
    const r = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, rng: new TorchGenerator(2) });
    const values = new Set(Array.from(r.dropoutMask!.data));
    expect(values).toEqual(new Set([0, 2]));
    expect(scaledDotProductAttention(q, k, v).dropoutMask).toBeNull();
  });
});

describe('scaledDotProductAttention refuses bad input', () => {
  const q = zeros([2, 3, 4]);
  const k = zeros([2, 5, 4]);
  const v = zeros([2, 5, 6]);
  it('shapes that do not fit, naming them', () => {
    expect(() => scaledDotProductAttention(q, zeros([2, 5, 3]), v)).toThrow(/query and key have different features \(4 and 3\)/);
    expect(() => scaledDotProductAttention(q, k, zeros([2, 4, 6]))).toThrow(/key and value have different lengths \(5 and 4\)/);
    expect(() => scaledDotProductAttention(q, zeros([3, 5, 4]), zeros([3, 5, 6]))).toThrow(ShapeError);
    expect(() => scaledDotProductAttention(zeros([4]), k, v)).toThrow(/at least 2 dimensions/);
  });

  it('a mask of the wrong shape, naming both shapes', () => {
    expect(() => scaledDotProductAttention(q, k, v, { attnMask: zeros([3, 4]) })).toThrow(
      /attnMask has shape \[3, 4\], which does not broadcast to the attention scores \[2, 3, 5\]/,
    );
  });

  it('a float mask of another dtype, NaN in a mask, a boolean mask that is not 0/1, causal and a mask together', () => {
    expect(() => scaledDotProductAttention(q, k, v, { attnMask: zeros([3, 5], { dtype: 'float64' }) })).toThrow(DTypeError);
    const nan = zeros([3, 5]).fill(Number.NaN);
    expect(() => scaledDotProductAttention(q, k, v, { attnMask: nan })).toThrow(/attnMask holds NaN at index \[0, 0\]/);
    expect(() => scaledDotProductAttention(q, k, v, { attnMask: zeros([3, 5], { dtype: 'int32' }).fill(2) })).toThrow(
      /attnMask holds 2 .* expected values in \[0, 1\] \(an int32 attnMask is boolean: 1 takes part/,
    );
    expect(() => scaledDotProductAttention(q, k, v, { isCausal: true, attnMask: zeros([3, 5]) })).toThrow(/attnMask or isCausal, not both/);
    expect(() => scaledDotProductAttention(q, k, v, { dropout: 0.1 } as never)).toThrow(/unknown option 'dropout'/);
    expect(() => scaledDotProductAttention(q, k, v, { dropoutP: 1.5 })).toThrow(/dropoutP must be <= 1/);
  });

  it('a query whose every key is masked is an error (torch gives NaN), naming the query', () => {
    const mask = array([[1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]], { dtype: 'int32' });
    expect(() => scaledDotProductAttention(q, k, v, { attnMask: mask })).toThrow(
      /attention weights of query 1 \(batch index \[0\].*every key is masked/,
    );
  });

  it('causalMask is torch\'s tril as an additive mask', () => {
    expect(Array.from(causalMask(2, 3, 'float64').data)).toEqual([0, -Infinity, -Infinity, 0, 0, -Infinity]);
  });
});

function mhaFromCase(c: MhaCase): MultiheadAttention {
  return new MultiheadAttention(c.embedDim, c.numHeads, {
    bias: c.bias,
    batchFirst: c.batchFirst,
    dropout: c.dropout,
    dtype: c.dtype,
    rng: new TorchGenerator(c.seed),
  }).train(c.training);
}

describe('MultiheadAttention against torch.nn.MultiheadAttention', () => {
  it.each(fixture.mha.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = mhaFromCase(c);
    // Initialisation: torch.manual_seed(seed); nn.MultiheadAttention(...), bit for bit, in torch's state-dict order.
    expect(Object.keys(layer.stateDict())).toEqual(Object.keys(c.params));
    for (const [name, p] of layer.namedParameters()) expectBitwiseEqual(p.value, c.params[name], `${label} initial ${name}`);
    const options = {
      needWeights: true,
      averageAttnWeights: c.averageAttnWeights,
      isCausal: c.isCausal,
      attnMask: c.attnMask && toArray(c.attnMask),
      keyPaddingMask: c.keyPaddingMask && toArray(c.keyPaddingMask),
    };
    const g = toArray(c.outputGrad);
    if (c.form === 'self') {
      expectClose(layer.forward(toArray(c.inputs.input), options), c.output, `${label} output`);
      expectClose(layer.attnWeights!, c.weights, `${label} attention weights`);
      expectClose(layer.backward(g), c.inputGrads.input, `${label} input grad`);
    } else {
      const out = layer.attend(toArray(c.inputs.query), toArray(c.inputs.key), toArray(c.inputs.value), options);
      expectClose(out, c.output, `${label} output`);
      expectClose(layer.attnWeights!, c.weights, `${label} attention weights`);
      const grads = layer.backwardAttend(g);
      for (const name of ['query', 'key', 'value'] as const) expectClose(grads[name], c.inputGrads[name], `${label} ${name} grad`);
    }
    for (const [name, p] of layer.namedParameters()) {
      if (name === 'in_proj_bias') expectInProjBiasGrad(p.grad, c.paramGrads[name], label);
      else expectClose(p.grad, c.paramGrads[name], `${label} ${name} grad`);
    }
  });

  it('draws from the global generator by default, as torch', () => {
    const c = fixture.mha.find((k) => k.dtype === 'float32' && k.form === 'self' && k.bias)!;
    manualSeed(c.seed);
    const layer = new MultiheadAttention(c.embedDim, c.numHeads, { batchFirst: c.batchFirst });
    for (const [name, p] of layer.namedParameters()) expectBitwiseEqual(p.value, c.params[name], `initial ${name}`);
  });

  it('prints as torch prints it', () => {
    expect(String(new MultiheadAttention(8, 2))).toBe(fixture.repr['MultiheadAttention(8, 2)']);
    expect(String(new MultiheadAttention(4, 1, { bias: false, batchFirst: true, dropout: 0.1 }))).toBe(
      fixture.repr['MultiheadAttention(4, 1, bias=False, batch_first=True, dropout=0.1)'],
    );
  });
});

/** MultiheadAttention with fixed forward options, as a layer gradcheck can drive. */
function withOptions(layer: MultiheadAttention, options: Parameters<MultiheadAttention['forward']>[1]) {
  return {
    forward: (x: NDArray) => layer.forward(x, options),
    backward: (g: NDArray) => layer.backward(g),
    parameters: () => layer.parameters(),
  };
}

describe('MultiheadAttention gradcheck (float64): input and every parameter', () => {
  const rng = new TorchGenerator(31);
  it.each([
    ['seq-first', false, true, [3, 2, 6], {}],
    ['batchFirst, causal, bias false', true, false, [2, 4, 6], { isCausal: true }],
    ['unbatched, key padding mask', false, true, [4, 6], { keyPaddingMask: array([0, 1, 0, 0], { dtype: 'int32' }) }],
    ['float attn mask [N·H, L, S]', true, true, [2, 3, 6], { attnMask: randn([6, 3, 3], { dtype: 'float64', rng }) }],
  ] as const)('%s', (_, batchFirst, bias, shape, options) => {
    const layer = new MultiheadAttention(6, 3, { batchFirst, bias, dtype: 'float64', rng: new TorchGenerator(32) });
    // Biases start at zero: give them values so their gradients are checked away from a special point.
    for (const p of layer.parameters()) if (p.value.ndim === 1) p.value.data.set(randn(p.shape, { dtype: 'float64', rng }).data);
    const x = randn([...shape], { dtype: 'float64', rng });
    const result = gradcheck(withOptions(layer, options), x);
    reportGradcheck(result);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(x.size + (bias ? 18 * 6 + 18 + 36 + 6 : 18 * 6 + 36));
  });

  it('attend (query, key, value of different lengths): each input and every parameter', () => {
    const layer = new MultiheadAttention(4, 2, { dtype: 'float64', rng: new TorchGenerator(33) });
    for (const p of layer.parameters()) if (p.value.ndim === 1) p.value.data.set(randn(p.shape, { dtype: 'float64', rng }).data);
    const query = randn([3, 2, 4], { dtype: 'float64', rng });
    const key = randn([5, 2, 4], { dtype: 'float64', rng });
    const value = randn([5, 2, 4], { dtype: 'float64', rng });
    const kpm = array([[0, 0, 0, 1, 1], [1, 0, 0, 0, 0]], { dtype: 'int32' });
    // Each of the three as the checked input, the other two held fixed.
    for (const which of ['query', 'key', 'value'] as const) {
      const args = { query, key, value };
      const wrapped = {
        forward: (x: NDArray) => layer.attend(...(['query', 'key', 'value'] as const).map((n) => (n === which ? x : args[n])) as [NDArray, NDArray, NDArray], { keyPaddingMask: kpm }),
        backward: (g: NDArray) => layer.backwardAttend(g)[which],
        parameters: () => layer.parameters(),
      };
      const result = gradcheck(wrapped, args[which].clone());
      reportGradcheck(result);
      expect(result.ok, `${which}: ${JSON.stringify(result)}`).toBe(true);
    }
  });
});

describe('MultiheadAttention behaviour', () => {
  const rng = new TorchGenerator(41);
  const x = randn([2, 3, 4], { rng });

  it('state-dict keys are torch\'s, with and without bias', () => {
    expect(Object.keys(new MultiheadAttention(4, 2).stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    expect(Object.keys(new MultiheadAttention(4, 2, { bias: false }).stateDict())).toEqual(['in_proj_weight', 'out_proj.weight']);
    const layer = new MultiheadAttention(4, 2);
    expect(layer.inProjWeight).toBe(layer.in_proj_weight);
    expect(layer.outProj.weight.shape).toEqual([4, 4]);
  });

  it('adds into the gradients on every backward until zeroGrad', () => {
    const layer = new MultiheadAttention(4, 2, { dtype: 'float64', rng: new TorchGenerator(45) });
    const input = randn([3, 2, 4], { dtype: 'float64', rng });
    const g = randn([3, 2, 4], { dtype: 'float64', rng });
    layer.forward(input);
    layer.backward(g);
    const once = layer.parameters().map((p) => Array.from(p.grad.data));
    layer.backward(g);
    layer.parameters().forEach((p, i) => {
      expect(Array.from(p.grad.data)).toEqual(once[i].map((v) => 2 * v));
    });
    layer.zeroGrad();
    for (const p of layer.parameters()) expect(p.grad.data.every((v) => v === 0)).toBe(true);
  });

  it('with dropout, is deterministic in eval mode and random in training', () => {
    const layer = new MultiheadAttention(4, 2, { dropout: 0.5, batchFirst: true, rng: new TorchGenerator(42) });
    layer.eval();
    const a = layer.forward(x);
    const b = layer.forward(x);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    layer.train();
    const c = layer.forward(x);
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
  });

  it('keeps no weights unless asked, and per-head weights when asked', () => {
    const layer = new MultiheadAttention(4, 2, { batchFirst: true, rng: new TorchGenerator(43) });
    layer.forward(x, { needWeights: true, averageAttnWeights: false });
    expect(layer.attnWeights?.shape).toEqual([2, 2, 3, 3]);
    layer.forward(x);
    expect(layer.attnWeights).toBeNull();
  });

  it('works inside a model: Embedding → MultiheadAttention → Linear', () => {
    const seed = new TorchGenerator(44);
    const model = new Sequential(
      new Embedding(7, 4, { rng: seed }),
      new MultiheadAttention(4, 2, { batchFirst: true, rng: seed }),
      new Linear(4, 3, { rng: seed }),
    );
    expect(Object.keys(model.stateDict())).toEqual([
      '0.weight',
      '1.in_proj_weight',
      '1.in_proj_bias',
      '1.out_proj.weight',
      '1.out_proj.bias',
      '2.weight',
      '2.bias',
    ]);
    const out = model.forward(array([[1, 2, 3], [6, 6, 0]], { dtype: 'int32' }));
    expect(out.shape).toEqual([2, 3, 3]);
    model.backward(randn([2, 3, 3], { rng: seed }), { inputGrad: false });
    for (const [name, p] of model.namedParameters()) expect(p.grad.data.some((v) => v !== 0), name).toBe(true);
  });
});

describe('MultiheadAttention reuses its arrays from step to step', () => {
  const E = 8;
  /** A causal, padded, dropout step of forward(x), then an attend step with a boolean mask and S != L. */
  function steps(layer: MultiheadAttention, rng: Generator) {
    const x = randn([3, 5, E], { rng });
    const g = randn([3, 5, E], { rng });
    const keyPaddingMask = array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 1, 0, 0, 1]], { dtype: 'int32' });
    const query = randn([3, 2, E], { rng });
    const key = randn([3, 4, E], { rng });
    const value = randn([3, 4, E], { rng });
    const gQuery = randn([3, 2, E], { rng });
    const attnMask = array([[0, 1, 0, 1], [1, 0, 0, 0]], { dtype: 'int32' });
    return {
      self: () => {
        const out = layer.forward(x, { isCausal: true, keyPaddingMask });
        return { out, dx: layer.backward(g) };
      },
      attend: () => {
        const out = layer.attend(query, key, value, { attnMask });
        return { out, grads: layer.backwardAttend(gQuery) };
      },
    };
  }

  it('a steady step allocates only what it returns: the output and the input gradient(s)', () => {
    const layer = new MultiheadAttention(E, 2, { batchFirst: true, dropout: 0.2, rng: new TorchGenerator(61) });
    const { self, attend } = steps(layer, new TorchGenerator(62));
    self();
    attend();
    self();
    attend();
    expect(countTypedArrays(self).owning, 'forward(x) and backward: output, dx').toBe(2);
    expect(countTypedArrays(attend).owning, 'attend and backwardAttend: output, dQuery, dKey, dValue').toBe(4);
  });

  it('gives what a fresh layer gives, whatever the scratch held before (other sizes, the other form)', () => {
    const used = new MultiheadAttention(E, 2, { batchFirst: true, dtype: 'float64', rng: new TorchGenerator(63) });
    const fresh = new MultiheadAttention(E, 2, { batchFirst: true, dtype: 'float64', rng: new TorchGenerator(63) });
    const rng = new TorchGenerator(64);
    const big = randn([4, 6, E], { dtype: 'float64', rng });
    used.forward(big, { isCausal: true });
    used.backward(randn([4, 6, E], { dtype: 'float64', rng }));
    used.attend(randn([4, 7, E], { dtype: 'float64', rng }), big, big);
    used.backwardAttend(randn([4, 7, E], { dtype: 'float64', rng }));
    used.zeroGrad();
    const x = randn([2, 3, E], { dtype: 'float64', rng });
    const g = randn([2, 3, E], { dtype: 'float64', rng });
    const out = used.forward(x, { isCausal: true });
    const dx = used.backward(g);
    assertBitwiseEqual(out, fresh.forward(x, { isCausal: true }), 'output');
    assertBitwiseEqual(dx, fresh.backward(g), 'input gradient');
    used.parameters().forEach((p, i) => {
      assertBitwiseEqual(p.grad, fresh.parameters()[i].grad, p.name);
    });
  });

  it('what it returns stays as it was after later calls: outputs, gradients, attention weights', () => {
    const layer = new MultiheadAttention(E, 2, { rng: new TorchGenerator(65) });
    const rng = new TorchGenerator(66);
    const x = randn([4, 2, E], { rng });
    const out = layer.forward(x, { needWeights: true, averageAttnWeights: false });
    const weights = layer.attnWeights as NDArray;
    const dx = layer.backward(randn([4, 2, E], { rng }));
    const kept = [out, weights, dx].map((a) => a.clone());
    layer.forward(randn([4, 2, E], { rng }), { needWeights: true, averageAttnWeights: false });
    layer.backward(randn([4, 2, E], { rng }));
    [out, weights, dx].forEach((a, i) => {
      assertBitwiseEqual(a, kept[i], ['output', 'attention weights', 'input gradient'][i]);
    });
  });

  it('scaledDotProductAttention returns arrays of its own on every call', () => {
    const rng = new TorchGenerator(67);
    const [q, k, v] = [0, 1, 2].map(() => randn([2, 3, 4], { rng }));
    const first = scaledDotProductAttention(q, k, v, { isCausal: true });
    const copy = first.output.clone();
    const second = scaledDotProductAttention(k, q, v, { isCausal: true });
    assertBitwiseEqual(first.output, copy, 'first output after a second call');
    expect(second.output.data.buffer).not.toBe(first.output.data.buffer);
    const g = randn([2, 3, 4], { rng });
    const a = scaledDotProductAttentionBackward(g, first);
    const b = scaledDotProductAttentionBackward(g, first);
    expect(a.query.data.buffer).not.toBe(b.query.data.buffer);
    assertBitwiseEqual(a.key, b.key, 'the same backward twice');
  });

  it('on a backend whose arrays live off the host, masks, dropout and attend give the host\'s numbers', () => {
    const run = () => {
      const layer = new MultiheadAttention(E, 2, { batchFirst: true, dropout: 0.2, dtype: 'float64', rng: new TorchGenerator(68) });
      const rng = new TorchGenerator(69);
      const x = randn([2, 5, E], { dtype: 'float64', rng });
      const g = randn([2, 5, E], { dtype: 'float64', rng });
      const keyPaddingMask = array([[0, 0, 1, 0, 1], [0, 0, 0, 0, 0]], { dtype: 'int32' });
      const results: NDArray[] = [];
      for (let step = 0; step < 2; step++) {
        results.push(layer.forward(x, { isCausal: true, keyPaddingMask }), layer.backward(g));
        const out = layer.attend(x, x, x, { attnMask: causalMask(5, 5, 'float64') });
        const grads = layer.backwardAttend(g);
        results.push(out, grads.query, grads.key, grads.value);
      }
      return [...results, ...layer.parameters().map((p) => p.grad)];
    };
    const boxed = createBoxedBackend('boxed-mha');
    const previous = setBackend(boxed);
    let onDevice: number[][];
    try {
      onDevice = run().map((a) => Array.from(a.data));
    } finally {
      setBackend(previous);
    }
    expect(onDevice).toEqual(run().map((a) => Array.from(a.data)));
  });
});

describe('MultiheadAttention refuses bad input', () => {
  const layer = new MultiheadAttention(4, 2, { rng: new TorchGenerator(51) });
  const x = zeros([3, 2, 4]);

  it('embedDim not divisible by numHeads, bad options', () => {
    expect(() => new MultiheadAttention(6, 4)).toThrow(/embedDim \(6\) must be divisible by numHeads \(4\)/);
    expect(() => new MultiheadAttention(4, 2, { dropout: -0.1 })).toThrow(/dropout must be >= 0/);
    expect(() => new MultiheadAttention(4, 2, { batch_first: true } as never)).toThrow(/unknown option 'batch_first'/);
    expect(() => layer.forward(x, { need_weights: true } as never)).toThrow(/unknown option 'need_weights'/);
  });

  it('inputs of the wrong shape or dtype', () => {
    expect(() => layer.forward(zeros([3, 2, 5]))).toThrow(/input has shape \[3, 2, 5\]; expected \[L, N, 4\] or unbatched \[L, 4\]/);
    expect(() => layer.forward(zeros([3, 2, 4], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => layer.attend(x, zeros([5, 3, 4]), zeros([5, 3, 4]))).toThrow(/do not fit together/);
    expect(() => layer.attend(x, zeros([5, 2, 4]), zeros([4, 2, 4]))).toThrow(ShapeError);
  });

  it('masks of the wrong shape, naming both shapes', () => {
    expect(() => layer.forward(x, { attnMask: zeros([3, 4]) })).toThrow(/attnMask has shape \[3, 4\]; expected \[3, 3\] or \[4, 3, 3\]/);
    expect(() => layer.forward(x, { keyPaddingMask: zeros([3, 2], { dtype: 'int32' }) })).toThrow(
      /keyPaddingMask has shape \[3, 2\]; expected \[2, 3\]/,
    );
    expect(() => layer.forward(x, { isCausal: true, attnMask: zeros([3, 3]) })).toThrow(/attnMask or isCausal, not both/);
  });

  it('a query with every key padded is an error, not NaN', () => {
    const kpm = array([[1, 1, 1], [0, 0, 0]], { dtype: 'int32' });
    expect(() => layer.forward(x, { keyPaddingMask: kpm })).toThrow(ValueError);
    expect(() => layer.forward(x, { keyPaddingMask: kpm })).toThrow(/every key is masked/);
  });

  it('backward before forward, or the backward of the other form', () => {
    const fresh = new MultiheadAttention(4, 2);
    expect(() => fresh.backward(zeros([3, 2, 4]))).toThrow(/backward\(\) called before forward\(\)/);
    fresh.forward(x);
    expect(() => fresh.backwardAttend(zeros([3, 2, 4]))).toThrow(/the last forward pass was forward\(x\); its backward pass is backward\(outputGrad\)/);
    expect(() => fresh.backward(zeros([3, 2, 5]))).toThrow(/outputGrad has shape \[3, 2, 5\]/);
  });
});

/** With REPORT_ERRORS set, prints gradcheck's worst error (as expectClose prints the worst error against torch). */
function reportGradcheck(result: GradcheckResult): void {
  if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${result.maxRelError.toExponential(2)} over ${result.checked} entries`);
}
