import { DTypeError, ShapeError, TorchGenerator, manualSeed, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Dense, Linear, gradcheck } from '../src/index';
import type { ActivationName } from '../src/index';
import { type LayerCase, caseLabel, expectMatchesTorch, expectScaled, loadFixture, } from './helpers';

interface DenseCase extends LayerCase {
  activation: ActivationName;
  bias: boolean;
  inFeatures: number;
  outFeatures: number;
}

const { cases } = loadFixture<{ cases: DenseCase[] }>('dense');

describe('Dense against torch Linear + activation', () => {
  it.each(cases.map((c) => [caseLabel({ activation: c.activation, bias: c.bias, dtype: c.dtype }), c] as const))(
    '%s',
    (label, c) => {
      const layer = new Dense(c.inFeatures, c.outFeatures, { activation: c.activation, bias: c.bias, dtype: c.dtype });
      expectMatchesTorch(layer, c, label);
    },
  );
});

describe('Dense gradcheck', () => {
  it.each(['relu', 'none', 'tanh', 'sigmoid'] as const)('%s', (activation) => {
    const rng = new TorchGenerator(5);
    const layer = new Dense(4, 3, { activation, dtype: 'float64', rng });
    const x = randn([6, 4], { dtype: 'float64', rng });
    const result = gradcheck(layer, x);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('Dense behaviour', () => {
  it('is initialised exactly as Linear, with parameters named weight and bias', () => {
    manualSeed(9);
    const linear = new Linear(6, 4);
    manualSeed(9);
    const dense = new Dense(6, 4, { activation: 'tanh' });
    expect(Array.from(dense.weight.value.data)).toEqual(Array.from(linear.weight.value.data));
    expect(Array.from(dense.bias!.value.data)).toEqual(Array.from(linear.bias!.value.data));
    expect(Object.keys(dense.stateDict())).toEqual(['weight', 'bias']);
  });

  it("defaults to 'relu', as the seed notebook's layer", () => {
    const layer = new Dense(2, 2);
    expect(layer.activation).toBe('relu');
    expect(String(layer)).toBe("Dense(in_features=2, out_features=2, bias=True, activation='relu')");
    expect(String(new Dense(2, 2, { activation: 'none', bias: false }))).toBe(
      "Dense(in_features=2, out_features=2, bias=False, activation='none')",
    );
  });

  it('accumulates gradients over backwards', () => {
    const rng = new TorchGenerator(3);
    const layer = new Dense(3, 2, { activation: 'sigmoid', dtype: 'float64', rng });
    layer.forward(randn([4, 3], { dtype: 'float64', rng }));
    const g = randn([4, 2], { dtype: 'float64', rng });
    layer.backward(g);
    const once = Array.from(layer.weight.grad.data);
    layer.backward(g);
    expectScaled(layer.weight.grad, once, 2, 14);
  });
});

describe('Dense errors', () => {
  it('names itself in shape and dtype errors', () => {
    const layer = new Dense(10, 2, { activation: 'tanh' });
    expect(() => layer.forward(zeros([8, 3]))).toThrow(ShapeError);
    expect(() => layer.forward(zeros([8, 3]))).toThrow(
      "Dense(10, 2, { activation: 'tanh' }): expected an input whose last dimension is 10 (shape [*, 10]), got [8, 3]",
    );
    expect(() => layer.forward(zeros([8, 10], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => layer.backward(zeros([8, 2]))).toThrow(/backward\(\) called before forward\(\)/);
  });

  it('rejects unknown options, unknown activations and bad sizes', () => {
    expect(() => new Dense(3, 2, { activation: 'gelu' as 'relu' })).toThrow(
      "Dense(3, 2): activation must be one of 'relu', 'none', 'tanh', 'sigmoid', got 'gelu'",
    );
    expect(() => new Dense(3, 2, { activaton: 'relu' } as object)).toThrow(
      "Dense(3, 2): unknown option 'activaton'; expected one of 'bias', 'dtype', 'rng', 'activation'",
    );
    expect(() => new Dense(-3, 2)).toThrow('Dense(-3, 2): inFeatures must be an integer >= 0, got -3');
  });
});
