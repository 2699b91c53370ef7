/**
 * TransformerEncoderLayer and TransformerEncoder against torch 1.13
 * (tools/torch-fixtures/transformer.py): the initialisation bit for bit,
 * outputs and every gradient in training mode, the masks, dropout's draws,
 * printing; gradcheck in float64; the errors.
 */
import { type DType, DTypeError, type NDArray, ShapeError, TorchGenerator, ValueError, array, randn, zeros } from '@backprop/ndarray';
import { assertBitwiseEqual, fromFixture } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { causalMask } from '../src/attention-functional';
import { type GradcheckResult, gradcheck } from '../src/gradcheck';
import { LayerNorm } from '../src/normalization';
import {
  type TransformerEncoderForwardOptions,
  TransformerEncoder,
  TransformerEncoderLayer,
  type TransformerEncoderLayerOptions,
} from '../src/transformer';
import { type FixtureTensor, expectBitwiseEqual, expectClose, expectInProjBiasGrad, loadFixture } from './helpers';

interface TransformerCase {
  name: string;
  dtype: DType;
  seed: number;
  options: TransformerEncoderLayerOptions;
  isCausal: boolean;
  encoder: boolean;
  params: Record<string, FixtureTensor>;
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrad: FixtureTensor;
  paramGrads: Record<string, FixtureTensor>;
  srcKeyPaddingMask?: FixtureTensor;
}

const layerFixture = loadFixture<{ cases: TransformerCase[]; repr: Record<string, string> }>('transformer');
const encoderFixture = loadFixture<{ cases: TransformerCase[] }>('transformer-encoder');
const E = 8;
const H = 2;
const FF = 12;

/** The module of a case, built from the case's seed as torch built it after torch.manual_seed(seed). */
function build(c: TransformerCase): TransformerEncoderLayer | TransformerEncoder {
  const rng = new TorchGenerator(c.seed);
  const layer = new TransformerEncoderLayer(E, H, { ...c.options, dimFeedforward: FF, dtype: c.dtype, rng });
  return c.encoder ? new TransformerEncoder(layer, 2, { norm: new LayerNorm(E, { dtype: c.dtype }) }) : layer;
}

function forwardOptions(c: TransformerCase): TransformerEncoderForwardOptions {
  return {
    ...(c.isCausal ? { isCausal: true } : {}),
    ...(c.srcKeyPaddingMask ? { srcKeyPaddingMask: fromFixture(c.srcKeyPaddingMask) } : {}),
  };
}

/** Every parameter gradient against torch's, names and order included (in_proj_bias by its helper: its key third is rounding noise). */
function expectGrads(module: TransformerEncoderLayer | TransformerEncoder, c: TransformerCase, label: string): void {
  const named = module.namedParameters();
  expect(named.map(([n]) => n)).toEqual(Object.keys(c.paramGrads));
  for (const [name, p] of named) {
    if (name.endsWith('in_proj_bias')) expectInProjBiasGrad(p.grad, c.paramGrads[name], `${label} ${name}`);
    else expectClose(p.grad, c.paramGrads[name], `${label} ${name} grad`);
  }
}

/** Runs a case: forward with its options, backward of its R; checks output, input gradient, parameter gradients. */
function expectCase(module: TransformerEncoderLayer | TransformerEncoder, c: TransformerCase, options: TransformerEncoderForwardOptions, label: string): void {
  expectClose(module.forward(fromFixture(c.input), options), c.output, `${label} output`);
  expectClose(module.backward(fromFixture(c.outputGrad)), c.inputGrad, `${label} input grad`);
  expectGrads(module, c, label);
}

describe.each([
  ['TransformerEncoderLayer', layerFixture.cases],
  ['TransformerEncoder', encoderFixture.cases],
] as const)('%s against torch 1.13 (training mode)', (_, cases) => {
  it.each(cases.map((c) => [`${c.name} (${c.dtype})`, c] as const))('%s: initial weights bit for bit, output and every gradient', (label, c) => {
    const module = build(c);
    const named = module.namedParameters();
    expect(named.map(([n]) => n)).toEqual(Object.keys(c.params));
    for (const [name, p] of named) expectBitwiseEqual(p.value, c.params[name], `${label} initial ${name}`);
    expect(Object.keys(module.stateDict())).toEqual(Object.keys(c.params));
    expectCase(module, c, forwardOptions(c), label);
  });
});

describe('the causal mask, every way torch can be given it', () => {
  const causal = [...layerFixture.cases, ...encoderFixture.cases].filter((c) => c.isCausal);

  it.each(causal.map((c) => [`${c.name} (${c.dtype})`, c] as const))('%s: a float −∞ mask and an int32 mask give the isCausal result', (label, c) => {
    const L = c.input.shape[1];
    const masks = [causalMask(L, L, c.dtype), array(Array.from(causalMask(L, L, 'float64').data, (v) => (v === 0 ? 0 : 1)), { shape: [L, L], dtype: 'int32' })];
    for (const mask of masks) expectCase(build(c), c, { mask }, `${label} mask ${mask.dtype}`);
  });
});

describe('TransformerEncoder', () => {
  it('starts every layer from the encoder layer’s weights, draws nothing while copying, and leaves the layer outside the stack', () => {
    const rng = new TorchGenerator(3);
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dtype: 'float64', rng });
    const after = new TorchGenerator(3);
    new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dtype: 'float64', rng: after });
    const encoder = new TransformerEncoder(layer, 3);
    // The generator is where the layer's construction left it: the copies drew nothing.
    expect(rng.randint(1 << 30)).toBe(after.randint(1 << 30));
    const state = layer.stateDict();
    const keys = Object.keys(state);
    for (let i = 0; i < 3; i++) {
      const copy = encoder.layers.at(i) as TransformerEncoderLayer;
      expect(copy).not.toBe(layer);
      expect(copy.rng).toBe(rng);
      for (const key of keys) assertBitwiseEqual(encoder.stateDict()[`layers.${i}.${key}`], state[key], `layers.${i}.${key}`);
    }
    expect(encoder.norm).toBeNull();
    expect(Object.keys(encoder.stateDict())).toHaveLength(3 * keys.length);
    // Parameters are the copies' own.
    encoder.layers.at(0).parameters()[0].value.fill(0);
    expect(layer.parameters()[0].value.data.some((v) => v !== 0)).toBe(true);
  });

  it('without a norm: the last layer’s output; with { inputGrad: false }: the parameters’ gradients alone, the same', () => {
    const make = () => new TransformerEncoder(new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, dtype: 'float64', rng: new TorchGenerator(5) }), 2);
    const a = make();
    const b = make();
    const x = randn([3, 2, 4], { dtype: 'float64', rng: new TorchGenerator(6) });
    const g = randn([3, 2, 4], { dtype: 'float64', rng: new TorchGenerator(7) });
    const y = a.forward(x);
    const second = a.layers.at(1) as TransformerEncoderLayer;
    const first = a.layers.at(0) as TransformerEncoderLayer;
    assertBitwiseEqual(y, second.forward(first.forward(x)), 'output: the second layer of the first');
    a.forward(x);
    expect(a.backward(g)).toBeDefined();
    b.forward(x);
    expect(b.backward(g, { inputGrad: false })).toBeUndefined();
    const pa = a.parameters();
    for (const [i, p] of b.parameters().entries()) assertBitwiseEqual(p.grad, pa[i].grad, p.name);
  });
});

describe('TransformerEncoderLayer', () => {
  it.each([false, true])('normFirst %s: { inputGrad: false } adds the same parameter gradients and returns nothing', (normFirst) => {
    const make = () => new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst, dtype: 'float64', rng: new TorchGenerator(8) });
    const a = make();
    const b = make();
    const x = randn([2, 3, 4], { dtype: 'float64', rng: new TorchGenerator(9) });
    const g = randn([2, 3, 4], { dtype: 'float64', rng: new TorchGenerator(10) });
    a.forward(x);
    expect(a.backward(g)?.shape).toEqual([2, 3, 4]);
    b.forward(x);
    expect(b.backward(g, { inputGrad: false })).toBeUndefined();
    const pa = a.parameters();
    for (const [i, p] of b.parameters().entries()) assertBitwiseEqual(p.grad, pa[i].grad, p.name);
  });

  it('unbatched [L, E] input gives the batched result of its one sequence', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, batchFirst: true, dtype: 'float64', rng: new TorchGenerator(11) });
    const x = randn([5, 4], { dtype: 'float64', rng: new TorchGenerator(12) });
    const y = layer.forward(x, { isCausal: true });
    expect(y.shape).toEqual([5, 4]);
    const yb = layer.forward(x.reshape([1, 5, 4]), { isCausal: true });
    expectClose(y, yb.reshape([5, 4]), 'unbatched output');
  });

  it('bias: false (torch 2.1) drops every bias', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, bias: false });
    expect(Object.keys(layer.stateDict())).toEqual([
      'self_attn.in_proj_weight',
      'self_attn.out_proj.weight',
      'linear1.weight',
      'linear2.weight',
      'norm1.weight',
      'norm2.weight',
    ]);
  });

  it('returns new arrays: an output and an input gradient kept by the caller survive later steps', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, dtype: 'float64', rng: new TorchGenerator(13) });
    const rng = new TorchGenerator(14);
    const y = layer.forward(randn([3, 2, 4], { dtype: 'float64', rng }));
    const dx = layer.backward(randn([3, 2, 4], { dtype: 'float64', rng }));
    const copies = [y.clone(), dx.clone()];
    layer.forward(randn([3, 2, 4], { dtype: 'float64', rng }));
    layer.backward(randn([3, 2, 4], { dtype: 'float64', rng }));
    assertBitwiseEqual(y, copies[0], 'first output');
    assertBitwiseEqual(dx, copies[1], 'first input gradient');
  });
});

/** A layer with fixed forward options, as gradcheck drives one. */
function withOptions(layer: TransformerEncoderLayer | TransformerEncoder, options: TransformerEncoderForwardOptions) {
  return {
    forward: (x: NDArray) => layer.forward(x, options),
    backward: (g: NDArray) => layer.backward(g),
    parameters: () => layer.parameters(),
  };
}

function reportGradcheck(result: GradcheckResult): void {
  if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${result.maxRelError.toExponential(2)} over ${result.checked} entries`);
}

describe('gradcheck (float64): the input and every parameter', () => {
  /** Non-zero biases and LayerNorm weights, so no gradient is checked at a special point. */
  function perturb(layer: TransformerEncoderLayer | TransformerEncoder, seed: number): void {
    const rng = new TorchGenerator(seed);
    for (const p of layer.parameters()) if (p.value.ndim === 1) p.value.data.set(randn(p.shape, { dtype: 'float64', rng }).data);
  }

  it.each([
    ['pre-norm, gelu, batchFirst, causal', { activation: 'gelu', batchFirst: true, normFirst: true }, [2, 4, 4], { isCausal: true }],
    ['post-norm, relu, seq-first', {}, [3, 2, 4], {}],
    ['post-norm, gelu, key padding mask', { activation: 'gelu', batchFirst: true }, [2, 3, 4], { srcKeyPaddingMask: array([[0, 0, 1], [1, 0, 0]], { dtype: 'int32' }) }],
  ] as const)('%s', (_, options, shape, forward) => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, ...options, dtype: 'float64', rng: new TorchGenerator(40) });
    perturb(layer, 41);
    const x = randn([...shape], { dtype: 'float64', rng: new TorchGenerator(42) });
    const result = gradcheck(withOptions(layer, forward), x);
    reportGradcheck(result);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(x.size + layer.parameters().reduce((n, p) => n + p.value.size, 0));
  });

  it('TransformerEncoder of 2 pre-norm causal layers with a final norm', () => {
    const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true, dtype: 'float64', rng: new TorchGenerator(43) });
    const encoder = new TransformerEncoder(layer, 2, { norm: new LayerNorm(4, { dtype: 'float64' }) });
    perturb(encoder, 44);
    const x = randn([2, 3, 4], { dtype: 'float64', rng: new TorchGenerator(45) });
    const result = gradcheck(withOptions(encoder, { isCausal: true }), x);
    reportGradcheck(result);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('printing', () => {
  it("String(layer) is torch's print(module)", () => {
    expect(String(new TransformerEncoderLayer(E, H, { dimFeedforward: FF }))).toBe(layerFixture.repr['post-norm relu']);
    expect(
      String(new TransformerEncoderLayer(E, H, { dimFeedforward: FF, dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true, layerNormEps: 1e-6 })),
    ).toBe(layerFixture.repr['pre-norm gelu']);
    const layer = new TransformerEncoderLayer(E, H, { dimFeedforward: FF, dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true });
    expect(String(new TransformerEncoder(layer, 2, { norm: new LayerNorm(E) }))).toBe(layerFixture.repr['encoder with norm']);
    expect(String(new TransformerEncoder(new TransformerEncoderLayer(4, 1, { dimFeedforward: 8 }), 3))).toBe(layerFixture.repr['encoder without norm']);
  });
});

describe('errors', () => {
  it('constructor: unknown options, dModel not divisible by nhead, a bad activation or value', () => {
    expect(() => new TransformerEncoderLayer(8, 2, { dimFeedForward: 4 } as never)).toThrow(/TransformerEncoderLayer\(8, 2\).*dimFeedForward/);
    expect(() => new TransformerEncoderLayer(10, 3)).toThrow(ValueError);
    expect(() => new TransformerEncoderLayer(10, 3)).toThrow(/dModel \(10\) must be divisible by nhead \(3\)/);
    expect(() => new TransformerEncoderLayer(8, 2, { activation: 'tanh' as never })).toThrow(/activation.*tanh/);
    expect(() => new TransformerEncoderLayer(8, 2, { dropout: 1.5 })).toThrow(/dropout/);
    expect(() => new TransformerEncoderLayer(8, 2, { dimFeedforward: null as never })).toThrow(/dimFeedforward/);
    expect(() => new TransformerEncoderLayer(8, 0)).toThrow(/nhead/);
  });

  it('TransformerEncoder: a layer that is not an encoder layer, numLayers, a norm of the wrong size, unknown options', () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 4 });
    expect(() => new TransformerEncoder(new LayerNorm(8) as never, 2)).toThrow(/encoderLayer must be a TransformerEncoderLayer/);
    // Copies are rebuilt from the layer's options: a subclass would lose what it adds, silently.
    class Scaled extends TransformerEncoderLayer {}
    expect(() => new TransformerEncoder(new Scaled(8, 2, { dimFeedforward: 4 }), 2)).toThrow(/a Scaled, a subclass of TransformerEncoderLayer, which cannot be copied/);
    expect(() => new TransformerEncoder(layer, 0)).toThrow(/numLayers/);
    expect(() => new TransformerEncoder(layer, 2, { norm: new LayerNorm(6) })).toThrow(/norm is LayerNorm/);
    expect(() => new TransformerEncoder(layer, 2, { numLayers: 2 } as never)).toThrow(/numLayers/);
  });

  it('forward: shape, dtype, unknown options, masks; backward before forward', () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 4, batchFirst: true });
    expect(() => layer.forward(zeros([2, 3, 6]))).toThrow(ShapeError);
    expect(() => layer.forward(zeros([2, 3, 6]))).toThrow(/TransformerEncoderLayer\(8, 2\): input has shape \[2, 3, 6\]; expected \[N, L, 8\]/);
    expect(() => layer.forward(zeros([8]))).toThrow(ShapeError);
    expect(() => layer.forward(zeros([2, 3, 8], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => layer.forward(zeros([2, 3, 8]), { causal: true } as never)).toThrow(/causal/);
    expect(() => layer.forward(zeros([2, 3, 8]), { mask: zeros([4, 4]) })).toThrow(/attnMask has shape \[4, 4\]/);
    expect(() => layer.forward(zeros([2, 3, 8]), { isCausal: true, mask: causalMask(3, 3) })).toThrow(/TransformerEncoderLayer\(8, 2\): give mask or isCausal, not both/);
    expect(() => layer.forward(zeros([2, 3, 8]), { srcKeyPaddingMask: zeros([3, 2], { dtype: 'int32' }) })).toThrow(/keyPaddingMask has shape/);
    expect(() => layer.backward(zeros([2, 3, 8]))).toThrow(/backward\(\) called before forward\(\)/);
    layer.forward(zeros([2, 3, 8]));
    expect(() => layer.backward(zeros([2, 3, 4]))).toThrow(/outputGrad has shape \[2, 3, 4\]/);
    const encoder = new TransformerEncoder(layer, 2);
    expect(() => encoder.forward(zeros([2, 3, 6]))).toThrow(/input has shape \[2, 3, 6\]/);
    expect(() => encoder.forward(zeros([2, 3, 8]), { srcMask: zeros([3, 3]) } as never)).toThrow(/srcMask/);
  });
});
