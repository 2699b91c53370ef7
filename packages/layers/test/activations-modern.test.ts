/**
 * GELU, SiLU, ELU, Softplus, Mish, Softmax and LogSoftmax against torch 1.13
 * (tools/torch-fixtures/activations_modern.py), by finite differences, by
 * their printed form, and on bad options and inputs.
 */
import { DTypeError, type NDArray, ShapeError, TorchGenerator, ValueError, array, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import {
  ELU,
  type ELUOptions,
  GELU,
  type GELUOptions,
  LogSoftmax,
  Mish,
  SiLU,
  Softmax,
  type SoftmaxOptions,
  Softplus,
  type SoftplusOptions,
} from '../src/activations';
import { gradcheck } from '../src/gradcheck';
import type { NeuralLayer } from '../src/layer';
import { Linear } from '../src/linear';
import { Sequential } from '../src/sequential';
import { type FixtureTensor, caseLabel, expectClose, loadFixture, toArray } from './helpers';

type LayerName = 'GELU' | 'SiLU' | 'ELU' | 'Softplus' | 'Mish' | 'Softmax' | 'LogSoftmax';

interface ModernCase {
  layer: LayerName;
  options: Record<string, unknown>;
  dtype: 'float32' | 'float64';
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrad: FixtureTensor;
}

const fixture = loadFixture<{ cases: ModernCase[]; repr: Record<string, string> }>('activations-modern');

function make(layer: LayerName, options: Record<string, unknown>): NeuralLayer {
  switch (layer) {
    case 'GELU':
      return new GELU(options as GELUOptions);
    case 'SiLU':
      return new SiLU();
    case 'ELU':
      return new ELU(options as ELUOptions);
    case 'Softplus':
      return new Softplus(options as SoftplusOptions);
    case 'Mish':
      return new Mish();
    case 'Softmax':
      return new Softmax(options as unknown as SoftmaxOptions);
    case 'LogSoftmax':
      return new LogSoftmax(options as unknown as SoftmaxOptions);
  }
}

describe('modern activations against torch (inputs include 0, -0, ±30, ±60, ±100 and the softplus threshold)', () => {
  it('the fixture has every layer in both dtypes', () => {
    const seen = new Set(fixture.cases.map((c) => `${c.layer} ${c.dtype}`));
    for (const layer of ['GELU', 'SiLU', 'ELU', 'Softplus', 'Mish', 'Softmax', 'LogSoftmax']) {
      expect(seen.has(`${layer} float64`) && seen.has(`${layer} float32`), layer).toBe(true);
    }
  });

  it.each(fixture.cases.map((c) => [caseLabel({ layer: c.layer, ...c.options, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = make(c.layer, c.options);
    const output = layer.forward(toArray(c.input));
    expectClose(output, c.output, `${label} output`);
    expectClose(layer.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    expect(layer.parameters()).toEqual([]);
  });

  it('Softplus is x itself strictly above the threshold and log1p(e^(βx))/β on it', () => {
    const layer = new Softplus({ beta: 2, threshold: 5 });
    const y = layer.forward(array([2.5, 2.5000001, 2.4999999], { dtype: 'float64' })).data;
    expect(y[1]).toBe(2.5000001);
    expect(y[0]).toBe(Math.log1p(Math.exp(5)) / 2);
    expect(y[0]).not.toBe(2.5);
    expect(y[2]).not.toBe(2.4999999);
  });
});

describe('modern activations gradcheck (float64, away from the kinks)', () => {
  const layers: [string, () => NeuralLayer][] = [
    ['GELU()', () => new GELU()],
    ["GELU(approximate='tanh')", () => new GELU({ approximate: 'tanh' })],
    ['SiLU()', () => new SiLU()],
    ['ELU(alpha=0.5)', () => new ELU({ alpha: 0.5 })],
    ['ELU()', () => new ELU()],
    ['Softplus(beta=2, threshold=3)', () => new Softplus({ beta: 2, threshold: 3 })],
    ['Softplus()', () => new Softplus()],
    ['Mish()', () => new Mish()],
    ['Softmax(dim=1)', () => new Softmax({ dim: 1 })],
    ['Softmax(dim=-1)', () => new Softmax({ dim: -1 })],
    ['LogSoftmax(dim=0)', () => new LogSoftmax({ dim: 0 })],
    ['LogSoftmax(dim=-2)', () => new LogSoftmax({ dim: -2 })],
  ];
  it.each(layers)('%s', (name, makeLayer) => {
    const x = randn([3, 4, 5], { dtype: 'float64', rng: new TorchGenerator(11) });
    // ×2 spreads the values into the curved parts; ELU's kink is at 0 and Softplus(2, 3)'s at x = 1.5.
    for (let i = 0; i < x.size; i++) {
      x.data[i] = 2 * x.data[i] + Math.sign(x.data[i]) * 0.1;
      if (Math.abs(x.data[i] - 1.5) < 0.05) x.data[i] += 0.1;
    }
    const result = gradcheck(makeLayer(), x);
    if (process.env.REPORT_ERRORS) console.log(`REPORT gradcheck ${result.maxRelError.toExponential(2)} ${name}`);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(60);
  });
});

describe('modern activations print as torch', () => {
  const layers: Record<string, () => NeuralLayer> = {
    'GELU()': () => new GELU(),
    "GELU(approximate='tanh')": () => new GELU({ approximate: 'tanh' }),
    'SiLU()': () => new SiLU(),
    'ELU()': () => new ELU(),
    'ELU(alpha=0.5)': () => new ELU({ alpha: 0.5 }),
    'Softplus()': () => new Softplus(),
    'Softplus(beta=2, threshold=5)': () => new Softplus({ beta: 2, threshold: 5 }),
    'Softplus(beta=0.5, threshold=10)': () => new Softplus({ beta: 0.5, threshold: 10 }),
    'Mish()': () => new Mish(),
    'Softmax(dim=-1)': () => new Softmax({ dim: -1 }),
    'LogSoftmax(dim=1)': () => new LogSoftmax({ dim: 1 }),
    mlp: () => new Sequential(new Linear(4, 8), new GELU({ approximate: 'tanh' }), new Linear(8, 3), new LogSoftmax({ dim: 1 })),
  };
  it('has a torch-written string for each layer here', () => {
    expect(Object.keys(fixture.repr).sort()).toEqual(Object.keys(layers).sort());
  });
  it.each(Object.entries(layers))('%s', (name, makeLayer) => {
    expect(String(makeLayer())).toBe(fixture.repr[name]);
  });
});

describe('modern activations refuse bad options and inputs', () => {
  it('GELU: approximate is none or tanh; unknown options fail', () => {
    expect(() => new GELU({ approximate: 'erf' as 'none' })).toThrow(ValueError);
    expect(() => new GELU({ approximate: 'erf' as 'none' })).toThrow("GELU: approximate must be one of 'none', 'tanh', got 'erf'");
    expect(() => new GELU({ approximate: null as unknown as 'none' })).toThrow(/got null/);
    expect(() => new GELU({ approximation: 'tanh' } as GELUOptions)).toThrow("GELU: unknown option 'approximation'; expected one of 'approximate'");
  });

  it('ELU and Softplus: finite numbers, beta non-zero', () => {
    expect(() => new ELU({ alpha: Number.NaN })).toThrow('ELU: alpha must be a finite number, got NaN');
    expect(() => new ELU({ alpha: null as unknown as number })).toThrow('ELU: alpha must be a finite number, got null');
    expect(() => new ELU({ inplace: true } as ELUOptions)).toThrow(/unknown option 'inplace'/);
    expect(() => new Softplus({ beta: 0 })).toThrow('Softplus: beta must be non-zero');
    expect(() => new Softplus({ threshold: '20' as unknown as number })).toThrow("Softplus: threshold must be a finite number, got '20'");
    expect(() => new Softplus({ beta: Number.POSITIVE_INFINITY })).toThrow(/beta must be a finite number, got Infinity/);
  });

  it('Softmax and LogSoftmax: dim is a required integer, within the input rank', () => {
    expect(() => new Softmax(undefined as unknown as SoftmaxOptions)).toThrow(/Softmax: dim is required, e\.g\. new Softmax\(\{ dim: -1 \}\)/);
    expect(() => new LogSoftmax({} as SoftmaxOptions)).toThrow(/LogSoftmax: dim is required/);
    expect(() => new Softmax({ dim: 1.5 })).toThrow('Softmax: dim must be an integer, got 1.5');
    expect(() => new Softmax({ dim: 1, axis: 0 } as SoftmaxOptions)).toThrow(/unknown option 'axis'/);
    const layer = new LogSoftmax({ dim: 2 });
    expect(() => layer.forward(zeros([3, 4]))).toThrow(ShapeError);
    expect(() => layer.forward(zeros([3, 4]))).toThrow('LogSoftmax(dim=2): dim 2 is out of range for an input of shape [3, 4] (expected a dim in [-2, 1])');
    expect(() => new Softmax({ dim: -3 }).forward(zeros([3, 4]))).toThrow(/dim -3 is out of range/);
  });

  it.each([
    ['GELU', () => new GELU()],
    ['SiLU', () => new SiLU()],
    ['ELU', () => new ELU()],
    ['Softplus', () => new Softplus()],
    ['Mish', () => new Mish()],
    ['Softmax', () => new Softmax({ dim: 1 })],
    ['LogSoftmax', () => new LogSoftmax({ dim: -1 })],
  ] as const)('%s rejects a non-array, int32, backward before forward and a mismatched gradient', (name, makeLayer) => {
    const layer = makeLayer();
    expect(() => layer.forward(3 as unknown as NDArray)).toThrow(new RegExp(`^${name}\\(.*\\): input must be an NDArray, got 3`));
    expect(() => layer.forward(array([[1, 2]], { dtype: 'int32' }))).toThrow(DTypeError);
    expect(() => layer.backward(zeros([2]))).toThrow(/backward\(\) called before forward\(\)/);
    layer.forward(zeros([2, 3]));
    expect(() => layer.backward(zeros([3, 2]))).toThrow(ShapeError);
    expect(() => layer.backward(zeros([2, 3], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(layer.backward(zeros([2, 3]), { inputGrad: false })).toBeUndefined();
  });
});
