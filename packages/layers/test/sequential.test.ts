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

  it('lets the failing layer name itself, after its index and type', () => {
    const model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(2, 1));
    expect(() => model.forward(zeros([5, 4]))).toThrow(ShapeError);
    expect(() => model.forward(zeros([5, 4]))).toThrow(
      /^Sequential\[2\] \(Linear\): Linear\(2, 1\): expected an input whose last dimension is 2/,
    );
    expect(() => model.forward(zeros([5, 4], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => model.forward(zeros([5, 4], { dtype: 'float64' }))).toThrow(/^Sequential\[0\] \(Linear\): /);
    expect(() => new Sequential(new Identity()).backward(zeros([1]))).toThrow(/backward\(\) called before forward\(\)/);
  });

  /** What `fn` throws (it must throw). */
  function thrown(fn: () => unknown): Error {
    try {
      fn();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a throw');
  }

  it('keeps the class, the original message and a stack that says where', () => {
    const linear = new Linear(2, 1);
    const direct = thrown(() => linear.forward(zeros([5, 3]))); // what Linear(4, 3) hands on
    const error = thrown(() => new Sequential(new Linear(4, 3), new ReLU(), new Linear(2, 1)).forward(zeros([5, 4])));
    expect(error).toBeInstanceOf(ShapeError);
    expect(error.name).toBe('ShapeError');
    expect(error.message).toBe(`Sequential[2] (Linear): ${direct.message}`);
    // Node prints the stack of an uncaught error: its first line carries the new message.
    expect(error.stack?.split('\n')[0]).toBe(`ShapeError: ${error.message}`);
    expect(error.stack).toMatch(/\n\s+at /);
  });

  it('names the path through nested Sequentials once', () => {
    const model = new Sequential(new Linear(4, 4), new Sequential(new Linear(3, 2), new ReLU()), new Linear(2, 1));
    const error = thrown(() => model.forward(zeros([5, 4])));
    expect(error).toBeInstanceOf(ShapeError);
    expect(error.message).toMatch(/^Sequential\[1\]\[0\] \(Linear\): Linear\(3, 2\): expected an input whose last dimension is 3 \(shape \[\*, 3\]\), got \[5, 4\]$/);
    expect(error.message.match(/Sequential\[/g)).toHaveLength(1);
    const deep = new Sequential(new Sequential(new Identity(), new Sequential(new ReLU(), new Linear(2, 2))));
    expect(() => deep.forward(zeros([1, 3]))).toThrow(/^Sequential\[0\]\[1\]\[1\] \(Linear\): Linear\(2, 2\): /);
  });

  it('names the layer that failed in backward', () => {
    const model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    model.forward(zeros([5, 4]));
    const error = thrown(() => model.backward(zeros([5, 3])));
    expect(error).toBeInstanceOf(ShapeError);
    expect(error.message).toMatch(/^Sequential\[2\] \(Linear\): Linear\(3, 2\)/);
    const nested = new Sequential(new Linear(4, 3), new Sequential(new ReLU(), new Linear(3, 2)));
    nested.forward(zeros([5, 4]));
    expect(() => nested.backward(zeros([5, 3]))).toThrow(/^Sequential\[1\]\[1\] \(Linear\): Linear\(3, 2\)/);
  });

  it('starts a new prefix below a layer that is not a Sequential, and leaves its own errors and non-Errors as they are', () => {
    class Wrapper extends Identity {
      readonly inner = new Sequential(new Linear(3, 2));
      override get typeName(): string {
        return 'Wrapper';
      }
      override forward(input: Parameters<Identity['forward']>[0]) {
        return this.inner.forward(input);
      }
    }
    const model = new Sequential(new ReLU(), new Wrapper());
    expect(() => model.forward(zeros([1, 4]))).toThrow(/^Sequential\[1\] \(Wrapper\): Sequential\[0\] \(Linear\): Linear\(3, 2\): /);

    class Throws extends Identity {
      override forward(): never {
        throw 'not an Error';
      }
    }
    expect(() => new Sequential(new Throws()).forward(zeros([1]))).toThrow('not an Error');

    class Frozen extends Identity {
      override forward(): never {
        throw Object.freeze(new ShapeError('frozen'));
      }
    }
    const frozen = thrown(() => new Sequential(new Frozen()).forward(zeros([1])));
    expect(frozen).toBeInstanceOf(ShapeError);
    expect(frozen.message).toBe('frozen');
  });
});
