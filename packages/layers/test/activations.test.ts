import { DTypeError, type NDArray, ShapeError, TorchGenerator, ValueError, array, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Identity, LeakyReLU, type NeuralLayer, ReLU, Sigmoid, Tanh, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectClose, loadFixture, toArray } from './helpers';

interface ActivationCase extends LayerCase {
  layer: 'ReLU' | 'Identity' | 'Tanh' | 'Sigmoid' | 'LeakyReLU';
  args: { negativeSlope?: number };
}

const { cases } = loadFixture<{ cases: ActivationCase[] }>('activations');

function make(c: { layer: ActivationCase['layer']; args: ActivationCase['args'] }): NeuralLayer {
  switch (c.layer) {
    case 'ReLU':
      return new ReLU();
    case 'Identity':
      return new Identity();
    case 'Tanh':
      return new Tanh();
    case 'Sigmoid':
      return new Sigmoid();
    case 'LeakyReLU':
      return c.args.negativeSlope === undefined ? new LeakyReLU() : new LeakyReLU(c.args.negativeSlope);
  }
}

describe('activations against torch (inputs include 0, -0 and ±40)', () => {
  it.each(cases.map((c) => [caseLabel({ layer: c.layer, ...c.args, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = make(c);
    expectClose(layer.forward(toArray(c.input)), c.output, `${label} output`);
    expectClose(layer.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    expect(layer.parameters()).toEqual([]);
  });
});

describe('activations gradcheck (inputs away from the kink)', () => {
  const layers: [string, () => NeuralLayer][] = [
    ['ReLU', () => new ReLU()],
    ['Identity', () => new Identity()],
    ['Tanh', () => new Tanh()],
    ['Sigmoid', () => new Sigmoid()],
    ['LeakyReLU()', () => new LeakyReLU()],
    ['LeakyReLU(0.2)', () => new LeakyReLU(0.2)],
  ];
  it.each(layers)('%s', (_, makeLayer) => {
    const x = randn([3, 5], { dtype: 'float64', rng: new TorchGenerator(4) });
    // Push every entry at least 0.1 away from 0 so the finite difference never straddles the kink.
    for (let i = 0; i < x.size; i++) x.data[i] += Math.sign(x.data[i]) * 0.1;
    const result = gradcheck(makeLayer(), x);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('derivatives at the kink follow torch', () => {
  it("relu'(0) = 0 and leaky_relu'(0) = negativeSlope", () => {
    const x = array([0, -0, 1, -1], { dtype: 'float64' });
    const g = array([1, 1, 1, 1], { dtype: 'float64' });
    const relu = new ReLU();
    relu.forward(x);
    expect(Array.from(relu.backward(g).data)).toEqual([0, 0, 1, 0]);
    const leaky = new LeakyReLU(0.2);
    expect(Array.from(leaky.forward(x).data)).toEqual([0, -0, 1, -0.2]);
    expect(Array.from(leaky.backward(g).data)).toEqual([0.2, 0.2, 1, 0.2]);
  });

  it('keeps the shape and dtype of any input, and Identity returns its input', () => {
    const x = zeros([2, 3, 4], { dtype: 'float64' });
    for (const layer of [new ReLU(), new Tanh(), new Sigmoid(), new LeakyReLU()]) {
      const y = layer.forward(x);
      expect(y.shape).toEqual([2, 3, 4]);
      expect(y.dtype).toBe('float64');
      expect(y).not.toBe(x);
    }
    expect(new Identity().forward(x)).toBe(x);
  });

  it('names themselves as torch', () => {
    expect([new ReLU(), new Identity(), new Tanh(), new Sigmoid(), new LeakyReLU(), new LeakyReLU(0.2)].map(String)).toEqual([
      'ReLU()',
      'Identity()',
      'Tanh()',
      'Sigmoid()',
      'LeakyReLU(negative_slope=0.01)',
      'LeakyReLU(negative_slope=0.2)',
    ]);
  });
});

describe('activation errors', () => {
  it.each([
    ['ReLU', () => new ReLU()],
    ['Identity', () => new Identity()],
    ['Tanh', () => new Tanh()],
    ['Sigmoid', () => new Sigmoid()],
    ['LeakyReLU', () => new LeakyReLU()],
  ] as const)('%s rejects a non-array, backward before forward, and a mismatched gradient', (name, makeLayer) => {
    const layer = makeLayer();
    expect(() => layer.forward(3 as unknown as NDArray)).toThrow(ValueError);
    expect(() => layer.forward(3 as unknown as NDArray)).toThrow(new RegExp(`^${name}\\(.*\\): input must be an NDArray, got 3`));
    expect(() => layer.backward(zeros([2]))).toThrow(/backward\(\) called before forward\(\)/);
    layer.forward(zeros([2, 3]));
    expect(() => layer.backward(zeros([3, 2]))).toThrow(ShapeError);
    expect(() => layer.backward(zeros([2, 3], { dtype: 'float64' }))).toThrow(DTypeError);
  });

  it('LeakyReLU rejects a slope that is not a finite number', () => {
    expect(() => new LeakyReLU(Number.NaN)).toThrow('LeakyReLU: negativeSlope must be a finite number, got NaN');
    expect(() => new LeakyReLU('0.1' as unknown as number)).toThrow(/negativeSlope must be a finite number, got '0.1'/);
  });
});

