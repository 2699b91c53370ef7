import { type NDArray, TorchGenerator, ValueError, manualSeed, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import {
  Conv2d,
  Linear,
  type NeuralLayer,
  ReLU,
  Sequential,
  calculateFanInAndFanOut,
  calculateGain,
  init,
  kaimingNormal,
  kaimingUniform,
  type Nonlinearity,
  xavierNormal,
  xavierUniform,
} from '../src/index';
import { type FixtureTensor, expectBitwiseEqual, expectParamsBitwise, loadFixture } from './helpers';

interface ModuleCase {
  module: string;
  seed: number;
  dtype: 'float32' | 'float64';
  params: Record<string, FixtureTensor>;
}
interface FillCase {
  fn: 'kaimingUniform' | 'kaimingNormal' | 'xavierUniform' | 'xavierNormal' | 'uniform' | 'normal';
  options: Record<string, unknown>;
  seed: number;
  dtype: 'float32' | 'float64';
  shape: number[];
  values: FixtureTensor;
}
interface GainCase {
  nonlinearity: Nonlinearity;
  param: number | null;
  gain: number;
}

const fixture = loadFixture<{ modules: ModuleCase[]; fills: FillCase[]; gains: GainCase[] }>('init');

const makers: Record<string, (dtype: 'float32' | 'float64') => NeuralLayer> = {
  'Linear(10, 2)': (dtype) => new Linear(10, 2, { dtype }),
  'Linear(3, 7, bias=False)': (dtype) => new Linear(3, 7, { bias: false, dtype }),
  'Linear(12, 9)': (dtype) => new Linear(12, 9, { dtype }),
  'Conv2d(3, 4, 3)': (dtype) => new Conv2d(3, 4, 3, { dtype }),
  'Conv2d(2, 3, (2, 3))': (dtype) => new Conv2d(2, 3, [2, 3], { dtype }),
  'Sequential(Linear(4, 8), ReLU(), Linear(8, 3))': (dtype) =>
    new Sequential(new Linear(4, 8, { dtype }), new ReLU(), new Linear(8, 3, { dtype })),
};

describe('default initialisation equals torch bit for bit', () => {
  it.each(fixture.modules.map((c) => [`manualSeed(${c.seed}); ${c.module} ${c.dtype}`, c] as const))('%s', (label, c) => {
    manualSeed(c.seed);
    const layer = makers[c.module](c.dtype);
    expectParamsBitwise(layer, c.params, label);
  });

  it('draws from the rng option instead of the global generator when given one', () => {
    const c = fixture.modules.find((m) => m.module === 'Linear(10, 2)' && m.dtype === 'float32')!;
    manualSeed(c.seed + 1);
    const layer = new Linear(10, 2, { rng: new TorchGenerator(c.seed) });
    expectBitwiseEqual(layer.weight.value, c.params.weight, 'weight');
    expectBitwiseEqual(layer.bias!.value, c.params.bias, 'bias');
  });
});

const fills = { kaimingUniform, kaimingNormal, xavierUniform, xavierNormal, uniform: init.uniform, normal: init.normal };

describe('torch.nn.init functions equal torch bit for bit', () => {
  it.each(
    fixture.fills.map((c) => [`${c.fn}(${JSON.stringify(c.options)}) ${c.dtype} [${c.shape}] seed ${c.seed}`, c] as const),
  )('%s', (label, c) => {
    const target = zeros(c.shape, { dtype: c.dtype });
    const returned = fills[c.fn](target, c.options, new TorchGenerator(c.seed));
    expect(returned).toBe(target);
    expectBitwiseEqual(target, c.values, label);
  });

  it('takes the generator as the third argument or as the rng option, the global one otherwise', () => {
    const a = kaimingUniform(zeros([4, 5]), {}, new TorchGenerator(3));
    const b = kaimingUniform(zeros([4, 5]), { rng: new TorchGenerator(3) });
    manualSeed(3);
    const c = kaimingUniform(zeros([4, 5]));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(c.data)).toEqual(Array.from(a.data));
    expect(() => kaimingUniform(zeros([4, 5]), { rng: new TorchGenerator(1) }, new TorchGenerator(2))).toThrow(
      /two different generators/,
    );
  });
});

describe('calculateGain and fans', () => {
  it.each(fixture.gains.map((c) => [`${c.nonlinearity}(${c.param})`, c] as const))('%s', (_, c) => {
    expect(calculateGain(c.nonlinearity, c.param ?? undefined)).toBe(c.gain);
  });

  it('computes fan_in and fan_out as torch', () => {
    expect(calculateFanInAndFanOut(zeros([2, 10]))).toEqual([10, 2]);
    expect(calculateFanInAndFanOut(zeros([4, 3, 2, 5]))).toEqual([30, 40]);
    expect(() => calculateFanInAndFanOut(zeros([3]))).toThrow(/fewer than 2 dimensions, got shape \[3\]/);
  });

  it('fills constants', () => {
    expect(Array.from(init.zeros(zeros([2, 2]).fill(5)).data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(init.ones(zeros([3])).data)).toEqual([1, 1, 1]);
    expect(Array.from(init.constant(zeros([2]), 0.5).data)).toEqual([0.5, 0.5]);
  });
});

describe('init errors', () => {
  it('rejects unknown options and bad values', () => {
    expect(() => kaimingUniform(zeros([2, 2]), { mod: 'fan_in' } as object)).toThrow(
      "kaimingUniform: unknown option 'mod'; expected one of 'a', 'mode', 'nonlinearity', 'rng'",
    );
    expect(() => kaimingUniform(zeros([2, 2]), { mode: 'fan_avg' as 'fan_in' })).toThrow(
      "kaimingUniform: mode must be one of 'fan_in', 'fan_out', got 'fan_avg'",
    );
    expect(() => kaimingNormal(zeros([2, 2]), { nonlinearity: 'gelu' as 'relu' })).toThrow(/nonlinearity must be one of/);
    expect(() => calculateGain('swish' as 'relu')).toThrow(ValueError);
    expect(() => init.uniform(zeros([2]), { a: 1, b: 0 })).toThrow('init.uniform: expected a <= b, got a=1, b=0');
    expect(() => init.normal(zeros([2]), { std: -1 })).toThrow(/std must be >= 0, got -1/);
    expect(() => xavierUniform(zeros([3]))).toThrow(/fewer than 2 dimensions/);
    expect(() => xavierNormal([1, 2] as unknown as NDArray)).toThrow(
      'xavierNormal: expected an NDArray to fill in place, got an array of length 2',
    );
  });
});
