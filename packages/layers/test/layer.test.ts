import { type NDArray, Parameter, TorchGenerator, ValueError, mul, ones, randn, sum, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  Conv2d,
  Dense,
  Dropout,
  Flatten,
  Identity,
  LeakyReLU,
  Linear,
  MaxPool2d,
  NeuralLayer,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
  gradcheck,
} from '../src/index';
import { expectScaled } from './helpers';

/** A user-defined layer: y = factor · x, with one learned scalar. */
class Scale extends NeuralLayer {
  readonly factor = new Parameter(ones([1], { dtype: 'float64' }), 'factor');
  private input?: NDArray;

  constructor() {
    super();
    this.registerParameter('factor', this.factor);
  }

  override toString(): string {
    return 'Scale()';
  }

  forward(input: NDArray): NDArray {
    this.input = input;
    return mul(input, this.factor.value);
  }

  backward(outputGrad: NDArray): NDArray {
    this.factor.grad.data[0] += sum(mul(outputGrad, this.input!)).item();
    return mul(outputGrad, this.factor.value);
  }
}

describe('NeuralLayer as a base for user layers', () => {
  it('registers parameters, names them in a Sequential and passes gradcheck', () => {
    const layer = new Scale();
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['factor']);
    const model = new Sequential(new Linear(2, 2, { dtype: 'float64', rng: new TorchGenerator(0) }), layer);
    expect(model.parameters().map((p) => p.name)).toEqual(['0.weight', '0.bias', '1.factor']);
    const result = gradcheck(model, randn([3, 2], { dtype: 'float64', rng: new TorchGenerator(1) }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('rejects a parameter name with a dot', () => {
    class Bad extends NeuralLayer {
      constructor() {
        super();
        this.registerParameter('a.b', new Parameter(zeros([1])));
      }
      forward(x: NDArray): NDArray {
        return x;
      }
      backward(g: NDArray): NDArray {
        return g;
      }
    }
    expect(() => new Bad()).toThrow(ValueError);
    expect(() => new Bad()).toThrow(/a parameter or child name must be a non-empty string without '.', got 'a.b'/);
  });
});

/** Every layer, with an input that fits it (float64, away from the kinks). */
function everyLayer(): [string, () => NeuralLayer, number[]][] {
  const rng = () => new TorchGenerator(4);
  return [
    ['Linear', () => new Linear(3, 2, { dtype: 'float64', rng: rng() }), [2, 3]],
    ['Dense', () => new Dense(3, 2, { dtype: 'float64', rng: rng() }), [2, 3]],
    ['Conv2d', () => new Conv2d(2, 2, 2, { dtype: 'float64', rng: rng() }), [1, 2, 3, 3]],
    ['ReLU', () => new ReLU(), [2, 3]],
    ['LeakyReLU', () => new LeakyReLU(), [2, 3]],
    ['Tanh', () => new Tanh(), [2, 3]],
    ['Sigmoid', () => new Sigmoid(), [2, 3]],
    ['Identity', () => new Identity(), [2, 3]],
    ['Flatten', () => new Flatten(), [2, 3, 2]],
    ['MaxPool2d', () => new MaxPool2d(2, { stride: 1 }), [1, 2, 3, 3]],
    ['AvgPool2d', () => new AvgPool2d(2, { stride: 1 }), [1, 2, 3, 3]],
    ['Dropout', () => new Dropout(0.5, { rng: rng() }), [2, 3]],
    ['Sequential', () => new Sequential(new Linear(3, 2, { dtype: 'float64', rng: rng() }), new Tanh()), [2, 3]],
  ];
}

describe('every layer', () => {
  it.each(everyLayer())('%s: backward before forward is a clear error', (name, make) => {
    expect(() => make().backward(zeros([2, 2], { dtype: 'float64' }))).toThrow(
      new RegExp(`^${name}\\(.*\\)(\\.backward)?: backward\\(\\) called before forward\\(\\)`),
    );
  });

  it.each(everyLayer())('%s: train() and eval() return the layer and set training', (_, make) => {
    const layer = make();
    expect(layer.training).toBe(true);
    expect(layer.eval()).toBe(layer);
    expect(layer.training).toBe(false);
    expect(layer.train()).toBe(layer);
    expect(layer.training).toBe(true);
    expect(layer.train(false).training).toBe(false);
  });

  it.each(everyLayer())('%s: two backwards add their gradients; zeroGrad clears them', (_, make, shape) => {
    const layer = make();
    const x = randn(shape, { dtype: 'float64', rng: new TorchGenerator(5) });
    const y = layer.forward(x);
    const g = randn([...y.shape], { dtype: 'float64', rng: new TorchGenerator(6) });
    const dx1 = Array.from(layer.backward(g).data);
    const once = layer.parameters().map((p) => Array.from(p.grad.data));
    const dx2 = Array.from(layer.backward(g).data);
    expect(dx2).toEqual(dx1);
    for (const [k, p] of layer.parameters().entries()) expectScaled(p.grad, once[k], 2);
    layer.zeroGrad();
    expect(layer.parameters().every((p) => p.grad.data.every((v) => v === 0))).toBe(true);
  });

  it.each(everyLayer())('%s: state dict round trip', (_, make, shape) => {
    const a = make();
    const b = make();
    for (const p of b.parameters()) p.value.data.fill(0.25);
    b.loadStateDict(a.stateDict());
    const x = randn(shape, { dtype: 'float64', rng: new TorchGenerator(7) });
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
  });
});


describe('the rng option', () => {
  it('is checked by the layer that takes it, naming that layer', async () => {
    const { Linear, Conv2d, Dropout } = await import('../src/index');
    expect(() => new Linear(3, 2, { rng: {} as never })).toThrow(
      'Linear(3, 2): rng must be a Generator (such as new TorchGenerator(seed)), got an object with keys []',
    );
    expect(() => new Conv2d(1, 2, 3, { rng: 5 as never })).toThrow(/^Conv2d\(1, 2, 3\): rng must be a Generator .*got 5$/);
    expect(() => new Dropout(0.5, { rng: 'seed' as never })).toThrow(/^Dropout\(0\.5\): rng must be a Generator .*got 'seed'$/);
  });
});
