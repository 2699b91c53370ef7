import { DTypeError, Parameter, ShapeError, ValueError, TorchGenerator, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Conv2d, Flatten, Identity, Linear, type NeuralLayer, ReLU, Sequential, Sigmoid, Tanh, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectClose, loadFixture, toArray } from './helpers';

interface SequentialCase extends LayerCase {
  model: 'mlp' | 'convnet';
}

const { cases } = loadFixture<{ cases: SequentialCase[] }>('sequential');

function mlp(dtype: 'float32' | 'float64', rng?: TorchGenerator): Sequential {
  return new Sequential(new Linear(4, 8, { dtype, rng }), new ReLU(), new Linear(8, 3, { dtype, rng }));
}

function convnet(dtype: 'float32' | 'float64', rng?: TorchGenerator): Sequential {
  return new Sequential(
    new Conv2d(1, 2, 3, { padding: 1, dtype, rng }),
    new ReLU(),
    new Conv2d(2, 3, 3, { stride: 2, dtype, rng }),
    new Tanh(),
    new Flatten(),
    new Linear(12, 5, { dtype, rng }),
    new Sequential(new Sigmoid(), new Linear(5, 2, { dtype, rng })),
  );
}

describe('Sequential against torch.nn.Sequential', () => {
  it.each(cases.map((c) => [caseLabel({ model: c.model, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const model = c.model === 'mlp' ? mlp(c.dtype) : convnet(c.dtype);
    model.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, toArray(v)])));
    expectClose(model.forward(toArray(c.input)), c.output, `${label} output`);
    expectClose(model.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    const params = Object.fromEntries(model.namedParameters());
    expect(Object.keys(params)).toEqual(Object.keys(c.paramGrads));
    for (const [name, grad] of Object.entries(c.paramGrads)) expectClose(params[name].grad, grad, `${label} ${name} grad`);
  });
});

describe('Sequential naming', () => {
  it('names parameters by position, as torch.nn.Sequential', () => {
    const model = mlp('float32');
    expect(model.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(model.parameters().map((p) => p.name)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  it('names nested Sequentials 1.0.weight', () => {
    const model = new Sequential(new Linear(2, 3), new Sequential(new Linear(3, 3, { bias: false }), new ReLU(), new Linear(3, 1)));
    expect(model.parameters().map((p) => p.name)).toEqual(['0.weight', '0.bias', '1.0.weight', '1.2.weight', '1.2.bias']);
    expect(model.namedChildren().map(([n]) => n)).toEqual(['0', '1']);
  });

  it('names appended layers too', () => {
    const model = new Sequential(new Linear(2, 3)).append(new ReLU()).append(new Linear(3, 1));
    expect(model.length).toBe(3);
    expect(model.parameters().map((p) => p.name)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });
});

describe('Sequential behaviour', () => {
  it('passes gradcheck (an MLP and a small convnet)', () => {
    const rng = new TorchGenerator(11);
    const x = randn([3, 4], { dtype: 'float64', rng });
    for (let i = 0; i < x.size; i++) x.data[i] += Math.sign(x.data[i]) * 0.1;
    const mlpResult = gradcheck(mlp('float64', rng), x);
    expect(mlpResult.ok, JSON.stringify(mlpResult)).toBe(true);
    const convResult = gradcheck(convnet('float64', rng), randn([2, 1, 6, 6], { dtype: 'float64', rng }));
    expect(convResult.ok, JSON.stringify(convResult)).toBe(true);
  });

  it('exposes its layers and runs an empty Sequential as the identity', () => {
    const layers = [new Linear(2, 2), new ReLU()];
    const model = new Sequential(...layers);
    expect(model.layers).toEqual(layers);
    const x = zeros([1, 2]);
    const empty = new Sequential();
    expect(empty.forward(x)).toBe(x);
    expect(empty.backward(x)).toBe(x);
  });

  it('propagates train() and eval() to every layer, returning itself', () => {
    const inner = new Sequential(new ReLU());
    const model = new Sequential(new Linear(2, 2), inner);
    expect(model.eval()).toBe(model);
    expect([model, inner, ...model.layers, ...inner.layers].every((l) => !l.training)).toBe(true);
    expect(model.train()).toBe(model);
    expect([model, inner, ...model.layers, ...inner.layers].every((l) => l.training)).toBe(true);
    expect(() => model.train('yes' as unknown as boolean)).toThrow(/mode must be true or false/);
  });

  it('zeroGrad clears every layer', () => {
    const rng = new TorchGenerator(12);
    const model = mlp('float64', rng);
    model.forward(randn([2, 4], { dtype: 'float64', rng }));
    model.backward(randn([2, 3], { dtype: 'float64', rng }));
    expect(model.parameters().some((p) => p.grad.data.some((v) => v !== 0))).toBe(true);
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad.data.every((v) => v === 0))).toBe(true);
  });
});

describe('Sequential errors', () => {
  it('rejects non-layers and a layer used twice', () => {
    expect(() => new Sequential(new Linear(2, 2), {} as NeuralLayer)).toThrow(ValueError);
    expect(() => new Sequential(new Linear(2, 2), {} as NeuralLayer)).toThrow(
      'Sequential: layer 1 must be a NeuralLayer, got an object with keys []',
    );
    const relu = new ReLU();
    expect(() => new Sequential(new Linear(2, 2), relu, new Linear(2, 2), relu)).toThrow(
      /layer 3 \(ReLU\(\)\) is the same instance as layer 1/,
    );
    expect(() => new Sequential(new Parameter(zeros([1])) as unknown as NeuralLayer)).toThrow(/got a Parameter/);
  });

  it('lets the failing layer name itself', () => {
    const model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(2, 1));
    expect(() => model.forward(zeros([5, 4]))).toThrow(ShapeError);
    expect(() => model.forward(zeros([5, 4]))).toThrow(/^Linear\(2, 1\): expected an input whose last dimension is 2/);
    expect(() => model.forward(zeros([5, 4], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => new Sequential(new Identity()).backward(zeros([1]))).toThrow(/backward\(\) called before forward\(\)/);
  });
});
