import {
  DTypeError,
  NDArray,
  ShapeError,
  ValueError,
  TorchGenerator,
  randn,
  zeros,
} from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Linear, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectClose, loadFixture, toArray } from './helpers';

interface LinearCase extends LayerCase {
  name: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
}

const { cases } = loadFixture<{ cases: LinearCase[] }>('linear');

function fromCase(c: LinearCase): Linear {
  const layer = new Linear(c.inFeatures, c.outFeatures, { bias: c.bias, dtype: c.dtype });
  layer.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, toArray(v)])));
  return layer;
}

describe('Linear against torch.nn.Linear', () => {
  it.each(cases.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = fromCase(c);
    expectClose(layer.forward(toArray(c.input)), c.output, `${label} output`);
    expectClose(layer.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    expectClose(layer.weight.grad, c.paramGrads.weight, `${label} weight grad`);
    if (c.bias) expectClose(layer.bias!.grad, c.paramGrads.bias, `${label} bias grad`);
    else expect(layer.bias).toBeNull();
  });
});

describe('Linear gradcheck', () => {
  it.each([
    ['batch', [5, 4], true],
    ['no bias', [5, 4], false],
    ['1-D input', [4], true],
    ['3-D input', [2, 3, 4], true],
  ] as const)('%s', (_, shape, bias) => {
    const rng = new TorchGenerator(1);
    const layer = new Linear(4, 3, { bias, dtype: 'float64', rng });
    const result = gradcheck(layer, randn([...shape], { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(shape.reduce((a, b) => a * b, 1) + 12 + (bias ? 3 : 0));
  });
});

describe('Linear behaviour', () => {
  it('accepts a 1-D input [in] and returns [out]', () => {
    const layer = new Linear(3, 2, { rng: new TorchGenerator(0) });
    const x = randn([3], { rng: new TorchGenerator(1) });
    const y = layer.forward(x);
    expect(y.shape).toEqual([2]);
    const batched = layer.forward(x.reshape([1, 3]));
    expect(Array.from(y.data)).toEqual(Array.from(batched.data));
    expect(layer.backward(zeros([1, 2])).shape).toEqual([1, 3]);
  });

  it('adds into the gradients on every backward (PyTorch accumulation) until zeroGrad', () => {
    const rng = new TorchGenerator(2);
    const layer = new Linear(4, 3, { dtype: 'float64', rng });
    const x = randn([5, 4], { dtype: 'float64', rng });
    const g = randn([5, 3], { dtype: 'float64', rng });
    layer.forward(x);
    layer.backward(g);
    const once = layer.weight.grad.clone();
    const onceBias = layer.bias!.grad.clone();
    layer.backward(g);
    expectClose(layer.weight.grad, new NDArray(once.data.map((v) => 2 * v), once.shape), 'weight grad after two backwards');
    expectClose(layer.bias!.grad, new NDArray(onceBias.data.map((v) => 2 * v), onceBias.shape), 'bias grad after two backwards');
    layer.zeroGrad();
    expect(layer.weight.grad.data.every((v) => v === 0)).toBe(true);
    expect(layer.bias!.grad.data.every((v) => v === 0)).toBe(true);
  });

  it('has weight [out, in], bias [out] and names them weight and bias', () => {
    const layer = new Linear(10, 2);
    expect(layer.weight.shape).toEqual([2, 10]);
    expect(layer.bias!.shape).toEqual([2]);
    expect(layer.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(layer.parameters().map((p) => p.name)).toEqual(['weight', 'bias']);
    expect(new Linear(10, 2, { bias: false }).parameters()).toHaveLength(1);
    expect(layer.dtype).toBe('float32');
    expect(new Linear(1, 1, { dtype: 'float64' }).weight.dtype).toBe('float64');
  });

  it('works with zero features, as torch does (the output is the bias)', () => {
    const layer = new Linear(0, 2, { dtype: 'float64', rng: new TorchGenerator(0) });
    const y = layer.forward(zeros([3, 0], { dtype: 'float64' }));
    expect(y.shape).toEqual([3, 2]);
    expect(Array.from(y.data)).toEqual([...layer.bias!.value.data, ...layer.bias!.value.data, ...layer.bias!.value.data]);
  });

  it('prints as torch does', () => {
    expect(String(new Linear(10, 2))).toBe('Linear(in_features=10, out_features=2, bias=True)');
    expect(String(new Linear(10, 2, { bias: false }))).toBe('Linear(in_features=10, out_features=2, bias=False)');
  });
});

describe('Linear errors', () => {
  it('names the layer, the expected last dimension and the shape it got', () => {
    const layer = new Linear(10, 2);
    expect(() => layer.forward(zeros([8, 3]))).toThrow(ShapeError);
    expect(() => layer.forward(zeros([8, 3]))).toThrow(
      'Linear(10, 2): expected an input whose last dimension is 10 (shape [*, 10]), got [8, 3]',
    );
    expect(() => layer.forward(zeros([]))).toThrow(/Linear\(10, 2\): expected .* got \[\]/);
  });

  it('rejects an input of another dtype', () => {
    const layer = new Linear(3, 2);
    expect(() => layer.forward(zeros([4, 3], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => layer.forward(zeros([4, 3], { dtype: 'float64' }))).toThrow(
      /Linear\(3, 2\): input has dtype float64 but the layer's parameters are float32/,
    );
  });

  it('rejects a non-array input', () => {
    expect(() => new Linear(3, 2).forward([1, 2, 3] as unknown as NDArray)).toThrow(
      'Linear(3, 2): input must be an NDArray, got an array of length 3',
    );
  });

  it('rejects backward before forward, and a gradient of the wrong shape or dtype', () => {
    const layer = new Linear(3, 2);
    expect(() => layer.backward(zeros([4, 2]))).toThrow(/Linear\(3, 2\): backward\(\) called before forward\(\)/);
    layer.forward(zeros([4, 3]));
    expect(() => layer.backward(zeros([4, 3]))).toThrow(ShapeError);
    expect(() => layer.backward(zeros([4, 3]))).toThrow(
      'Linear(3, 2).backward: outputGrad has shape [4, 3], expected the shape of the last forward output [4, 2]',
    );
    expect(() => layer.backward(zeros([4, 2], { dtype: 'float64' }))).toThrow(DTypeError);
  });

  it('rejects bad constructor arguments', () => {
    expect(() => new Linear(-1, 2)).toThrow(ValueError);
    expect(() => new Linear(-1, 2)).toThrow('Linear(-1, 2): inFeatures must be an integer >= 0, got -1');
    expect(() => new Linear(2.5, 2)).toThrow('Linear(2.5, 2): inFeatures must be an integer >= 0, got 2.5');
    expect(() => new Linear(2, -3)).toThrow(/outFeatures must be an integer >= 0, got -3/);
    expect(() => new Linear(Number.NaN, 2)).toThrow(/inFeatures must be an integer >= 0, got NaN/);
    expect(() => new Linear('3' as unknown as number, 2)).toThrow(/inFeatures must be an integer >= 0, got '3'/);
    expect(() => new Linear(3, 2, { dtype: 'int32' as 'float32' })).toThrow(
      "Linear(3, 2): dtype must be one of 'float32', 'float64', got 'int32'",
    );
    expect(() => new Linear(3, 2, { bias: 1 as unknown as boolean })).toThrow(/bias must be true or false, got 1/);
    expect(() => new Linear(3, 2, { rng: {} as TorchGenerator })).toThrow(/rng must be a Generator/);
  });

  it('rejects unknown options', () => {
    expect(() => new Linear(3, 2, { biass: false } as object)).toThrow(
      "Linear(3, 2): unknown option 'biass'; expected one of 'bias', 'dtype', 'rng'",
    );
  });
});
