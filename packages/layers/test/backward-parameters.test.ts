import { type NDArray, TorchGenerator, ValueError, mul, randn, sum } from '@backprop/ndarray';
import { Parameter } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import {
  Conv2d,
  Dense,
  Flatten,
  Linear,
  MaxPool2d,
  NeuralLayer,
  ReLU,
  Sequential,
  Tanh,
} from '../src/index';

/** A layer that only has the default backwardParameters (calls backward). */
class Scale extends NeuralLayer {
  readonly factor = new Parameter(randn([1], { rng: new TorchGenerator(3) }), 'factor');
  private input?: NDArray;
  backwardCalls = 0;
  constructor() {
    super();
    this.registerParameter('factor', this.factor);
  }
  forward(input: NDArray): NDArray {
    this.input = input;
    return mul(input, this.factor.value);
  }
  backward(outputGrad: NDArray): NDArray {
    this.backwardCalls++;
    this.factor.grad.data[0] += sum(mul(outputGrad, this.input!)).data[0];
    return mul(outputGrad, this.factor.value);
  }
}

type Build = (rng: TorchGenerator) => NeuralLayer;

const models: [string, Build, number[]][] = [
  ['Linear', (rng) => new Linear(6, 4, { rng }), [5, 6]],
  ['Linear without bias, 3-d input', (rng) => new Linear(6, 4, { bias: false, rng }), [2, 3, 6]],
  ['Dense relu', (rng) => new Dense(6, 4, { rng }), [5, 6]],
  ['Dense tanh float64', (rng) => new Dense(6, 4, { activation: 'tanh', dtype: 'float64', rng }), [5, 6]],
  ['Conv2d', (rng) => new Conv2d(2, 3, 3, { padding: 1, stride: 2, rng }), [2, 2, 7, 7]],
  ['Conv2d unbatched', (rng) => new Conv2d(2, 3, 3, { rng }), [2, 5, 5]],
  [
    'MLP',
    (rng) => new Sequential(new Linear(6, 8, { rng }), new ReLU(), new Linear(8, 3, { rng })),
    [4, 6],
  ],
  [
    'CNN with a nested Sequential first',
    (rng) =>
      new Sequential(
        new Sequential(new Conv2d(1, 2, 3, { padding: 1, rng }), new ReLU()),
        new MaxPool2d(2),
        new Flatten(),
        new Linear(2 * 3 * 3, 4, { rng }),
      ),
    [3, 1, 6, 6],
  ],
  ['an activation first', (rng) => new Sequential(new Tanh(), new Linear(6, 2, { rng })), [4, 6]],
  ['a custom layer first (the default)', () => new Sequential(new Scale(), new Tanh()), [4, 6]],
];

describe('backwardParameters', () => {
  it.each(models)('%s: the same parameter grads as backward, bit for bit, and no input grad', (_, build, shape) => {
    const dtype = (layer: NeuralLayer) => layer.parameters()[0]?.value.dtype ?? 'float32';
    const viaBackward = build(new TorchGenerator(0));
    const viaParameters = build(new TorchGenerator(0));
    const input = randn(shape, { dtype: dtype(viaBackward), rng: new TorchGenerator(1) });
    const y = viaBackward.forward(input);
    viaParameters.forward(input);
    const outputGrad = randn(y.shape, { dtype: y.dtype, rng: new TorchGenerator(2) });
    // Twice, to check that both accumulate.
    for (let i = 0; i < 2; i++) {
      expect(viaBackward.backward(outputGrad).shape).toEqual(shape);
      expect(viaParameters.backwardParameters(outputGrad)).toBeUndefined();
    }
    const expected = viaBackward.namedParameters();
    const actual = viaParameters.namedParameters();
    expect(actual.map(([name]) => name)).toEqual(expected.map(([name]) => name));
    expected.forEach(([name, p], i) => {
      expect(Array.from(actual[i][1].grad.data), name).toEqual(Array.from(p.grad.data));
      expect(p.grad.data.some((v) => v !== 0), `${name} has a gradient`).toBe(true);
    });
  });

  it('runs the default backward once for a layer that does not override it', () => {
    const scale = new Scale();
    scale.forward(randn([3]));
    scale.backwardParameters(randn([3]));
    expect(scale.backwardCalls).toBe(1);
  });

  it('fails before forward, naming the method', () => {
    const model = new Sequential(new Linear(2, 2), new ReLU());
    expect(() => model.backwardParameters(randn([1, 2]))).toThrow(ValueError);
    expect(() => model.backwardParameters(randn([1, 2]))).toThrow(/backwardParameters\(\) called before forward\(\)/);
    expect(() => new Linear(2, 2).backwardParameters(randn([1, 2]))).toThrow(/before forward|forward\(\) first|no forward/);
  });

  it('checks the output gradient as backward does', () => {
    const layer = new Linear(3, 2);
    layer.forward(randn([4, 3]));
    expect(() => layer.backwardParameters(randn([4, 3]))).toThrow(/\[4, 3\]/);
  });

  it('does nothing for an empty Sequential', () => {
    const model = new Sequential();
    model.forward(randn([2]));
    expect(model.backwardParameters(randn([2]))).toBeUndefined();
  });
});

describe('backwardParameters with a replaced backward', () => {
  /** A Linear whose backward halves every parameter gradient (a user's override). */
  class HalvingLinear extends Linear {
    override backward(outputGrad: NDArray): NDArray {
      const dx = super.backward(mul(outputGrad, 0.5));
      return dx;
    }
  }
  class HalvingDense extends Dense {
    override backward(outputGrad: NDArray): NDArray {
      return super.backward(mul(outputGrad, 0.5));
    }
  }
  class LoggingSequential extends Sequential {
    calls = 0;
    override backward(outputGrad: NDArray): NDArray {
      this.calls++;
      return super.backward(outputGrad);
    }
  }

  const grads = (layer: NeuralLayer) => layer.parameters().map((p) => Array.from(p.grad.data));

  it.each([
    ['a Linear subclass', (rng: TorchGenerator) => new HalvingLinear(6, 4, { rng }), [5, 6]],
    ['a Dense subclass', (rng: TorchGenerator) => new HalvingDense(6, 4, { activation: 'tanh', rng }), [5, 6]],
    ['a Linear subclass first in a Sequential', (rng: TorchGenerator) => new Sequential(new HalvingLinear(6, 4, { rng }), new ReLU()), [5, 6]],
  ] as const)('runs the override for %s, so the grads equal backward', (_, build, shape) => {
    const a = build(new TorchGenerator(0));
    const b = build(new TorchGenerator(0));
    const x = randn([...shape], { rng: new TorchGenerator(1) });
    const y = a.forward(x);
    b.forward(x);
    const g = randn(y.shape, { rng: new TorchGenerator(2) });
    a.backward(g);
    b.backwardParameters(g);
    expect(grads(b)).toEqual(grads(a));
  });

  it('runs a backward hook set on an instance (Linear, Conv2d) and a Sequential subclass', () => {
    for (const layer of [new Linear(3, 2), new Conv2d(1, 2, 3)] as NeuralLayer[]) {
      let calls = 0;
      const original = layer.backward.bind(layer);
      layer.backward = (g: NDArray) => {
        calls++;
        return original(g);
      };
      const y = layer.forward(layer instanceof Conv2d ? randn([1, 1, 5, 5]) : randn([4, 3]));
      layer.backwardParameters(randn(y.shape));
      expect(calls, layer.toString()).toBe(1);
    }
    const model = new LoggingSequential(new Linear(3, 2));
    model.forward(randn([4, 3]));
    model.backwardParameters(randn([4, 2]));
    expect(model.calls).toBe(1);
  });
});
