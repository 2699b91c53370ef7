import {
  DTypeError,
  type NDArray,
  ShapeError,
  TorchGenerator,
  ValueError,
  add,
  decodeSafetensors,
  div,
  encodeSafetensors,
  mul,
  randn,
  sqrt,
} from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { ReLU } from '../src/activations';
import { BatchNorm1d, BatchNorm2d, type BatchNormBase, type BatchNormOptions } from '../src/batchnorm';
import { gradcheck } from '../src/gradcheck';
import { Linear } from '../src/linear';
import {
  GroupNorm,
  type GroupNormOptions,
  LayerNorm,
  type LayerNormOptions,
} from '../src/normalization';
import { pythonFloat } from '../src/python-repr';
import { Sequential } from '../src/sequential';
import { type FixtureTensor, caseLabel, expectBitwiseEqual, expectClose, expectParamGrads, expectScaled, loadFixture, toArray } from './helpers';

type DTypeName = 'float32' | 'float64';
type State = [string, FixtureTensor][];

interface Step {
  input: FixtureTensor;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  inputGrad: FixtureTensor;
  paramGrads: Record<string, FixtureTensor>;
}

interface BatchNormCase {
  name: string;
  kind: 'BatchNorm1d' | 'BatchNorm2d';
  numFeatures: number;
  options: BatchNormOptions;
  dtype: DTypeName;
  initialState: State;
  startState: State;
  steps: (Step & { mode: 'train' | 'eval'; state: State })[];
}

interface LayerNormCase extends Step {
  name: string;
  normalizedShape: number | number[];
  options: LayerNormOptions;
  dtype: DTypeName;
  initialState: State;
  state: State;
}

interface GroupNormCase extends Step {
  name: string;
  numGroups: number;
  numChannels: number;
  options: GroupNormOptions;
  dtype: DTypeName;
  initialState: State;
  state: State;
}

const fixture = loadFixture<{
  batchNorm: BatchNormCase[];
  layerNorm: LayerNormCase[];
  groupNorm: GroupNormCase[];
  repr: [string, unknown[], Record<string, unknown>, string][];
  sequentialStateKeys: string[];
}>('normalization');

const BATCHNORMS = { BatchNorm1d, BatchNorm2d };

function stateOf(state: State): Record<string, NDArray> {
  return Object.fromEntries(state.map(([k, v]) => [k, toArray(v)]));
}

/** The layer's state dict against torch's: the same keys in the same order, each value close (counts exact). */
function expectState(layer: { stateDict(): Record<string, NDArray> }, expected: State, label: string): void {
  const actual = layer.stateDict();
  expect(Object.keys(actual), `${label} state keys`).toEqual(expected.map(([k]) => k));
  for (const [key, value] of expected) {
    if (value.dtype === 'int64') {
      expect(actual[key].dtype, `${label} ${key}`).toBe('int32');
      expect(actual[key].shape, `${label} ${key}`).toEqual(value.shape);
      expect(Array.from(actual[key].data), `${label} ${key}`).toEqual(value.data);
    } else {
      expectClose(actual[key], value, `${label} ${key}`);
    }
  }
}

/** One forward and backward as the fixture's step did it (gradients zeroed first). */
function expectStep(layer: BatchNormBase | LayerNorm | GroupNorm, step: Step, label: string): void {
  layer.zeroGrad();
  expectClose(layer.forward(toArray(step.input)), step.output, `${label} output`);
  expectClose(layer.backward(toArray(step.outputGrad)), step.inputGrad, `${label} input grad`);
  expectParamGrads(layer, step.paramGrads, label);
}

/** A fresh layer's state dict equals torch's bit for bit, keys in torch's order. */
function expectInitialState(layer: { stateDict(): Record<string, NDArray> }, expected: State, label: string): void {
  const initial = layer.stateDict();
  expect(Object.keys(initial), `${label} initial state keys`).toEqual(expected.map(([k]) => k));
  for (const [key, value] of expected) {
    // int64 in torch, int32 here: the values compared bit for bit as int32.
    expectBitwiseEqual(initial[key], value.dtype === 'int64' ? { ...value, dtype: 'int32' } : value, `${label} initial ${key}`);
  }
}

function batchNorm(c: BatchNormCase): BatchNormBase {
  return new BATCHNORMS[c.kind](c.numFeatures, { ...c.options, dtype: c.dtype });
}

describe('BatchNorm1d / BatchNorm2d against torch, step by step', () => {
  it.each(fixture.batchNorm.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = batchNorm(c);
    // torch's initialisation: weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0, exactly.
    expectInitialState(layer, c.initialState, label);
    layer.loadStateDict(stateOf(c.startState));
    c.steps.forEach((step, k) => {
      layer.train(step.mode === 'train');
      expectStep(layer, step, `${label} step ${k} (${step.mode})`);
      expectState(layer, step.state, `${label} step ${k} (${step.mode})`);
    });
  });

  it.each(fixture.batchNorm.filter((c) => c.steps.length >= 3).map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))(
    'continues from a loaded state dict: %s',
    (label, c) => {
      // The buffers are loaded in place, and the next step reads num_batches_tracked from them.
      const layer = batchNorm(c);
      const runningMean = layer.runningMean;
      layer.loadStateDict(stateOf(c.steps[0].state));
      expect(layer.runningMean).toBe(runningMean);
      for (const step of c.steps.slice(1)) {
        layer.train(step.mode === 'train');
        expectStep(layer, step, `${label} after loading`);
        expectState(layer, step.state, `${label} after loading`);
      }
    },
  );
});

describe('BatchNorm gradcheck (float64)', () => {
  const cases: [string, () => BatchNormBase, number[]][] = [
    ['1d [N, C]', () => new BatchNorm1d(3, { dtype: 'float64' }), [5, 3]],
    ['1d [N, C, L], momentum null', () => new BatchNorm1d(2, { momentum: null, dtype: 'float64' }), [3, 2, 4]],
    ['2d', () => new BatchNorm2d(3, { dtype: 'float64' }), [2, 3, 3, 2]],
    ['2d, affine false', () => new BatchNorm2d(2, { affine: false, dtype: 'float64' }), [2, 2, 2, 3]],
    ['2d, trackRunningStats false', () => new BatchNorm2d(2, { trackRunningStats: false, dtype: 'float64' }), [3, 2, 2, 2]],
    ['1d, 2 values per channel', () => new BatchNorm1d(2, { dtype: 'float64' }), [2, 2]],
  ];

  function prepared(make: () => BatchNormBase, shape: number[], rng: TorchGenerator): BatchNormBase {
    const layer = make();
    // Weight, bias and running statistics away from 1 and 0: one training pass on shifted data, then random affine.
    layer.forward(add(mul(randn(shape, { dtype: 'float64', rng }), 2), 1));
    if (layer.weight && layer.bias) {
      layer.weight.value.data.set(randn([layer.numFeatures], { dtype: 'float64', rng }).data);
      layer.bias.value.data.set(randn([layer.numFeatures], { dtype: 'float64', rng }).data);
    }
    return layer;
  }

  it.each(cases)('train: %s', (_, make, shape) => {
    const rng = new TorchGenerator(11);
    const layer = prepared(make, shape, rng);
    const result = gradcheck(layer, randn(shape, { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(shape.reduce((p, d) => p * d, 1) + (layer.affine ? 2 * layer.numFeatures : 0));
  });

  it.each(cases)('eval: %s', (_, make, shape) => {
    const rng = new TorchGenerator(12);
    const layer = prepared(make, shape, rng).eval();
    const result = gradcheck(layer, randn(shape, { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('eval backward is the affine map of the input: dx = g·weight/√(running_var + eps)', () => {
    const rng = new TorchGenerator(13);
    const layer = prepared(() => new BatchNorm1d(3, { dtype: 'float64' }), [4, 3], rng).eval();
    layer.forward(randn([4, 3], { dtype: 'float64', rng }));
    const g = randn([4, 3], { dtype: 'float64', rng });
    const dx = layer.backward(g);
    const factor = div(layer.weight!.value, sqrt(add(layer.runningVar!, layer.eps)));
    expectClose(dx, mul(g, factor), 'eval input grad');
  });
});

describe('BatchNorm behaviour', () => {
  it('refuses training with one value per channel, as torch', () => {
    expect(() => new BatchNorm1d(3).forward(randn([1, 3]))).toThrow(
      /BatchNorm1d\(3\): expected more than 1 value per channel when training, got input of shape \[1, 3\] \(1 value per channel\)/,
    );
    expect(() => new BatchNorm1d(2).forward(randn([1, 2, 1]))).toThrow(ValueError);
    expect(() => new BatchNorm2d(2).forward(randn([1, 2, 1, 1]))).toThrow(/more than 1 value per channel/);
    // Batch statistics in eval mode too without running statistics: the same check.
    expect(() => new BatchNorm2d(2, { trackRunningStats: false }).eval().forward(randn([1, 2, 1, 1]))).toThrow(ValueError);
    // With running statistics, eval takes a single sample.
    expect(new BatchNorm1d(3).eval().forward(randn([1, 3])).shape).toEqual([1, 3]);
    expect(new BatchNorm2d(2).forward(randn([1, 2, 1, 2])).shape).toEqual([1, 2, 1, 2]);
  });

  it('checks rank, channels and dtype of the input', () => {
    expect(() => new BatchNorm1d(3).forward(randn([2, 3, 4, 5]))).toThrow(
      /BatchNorm1d\(3\): expected a 2-D \[N, 3\] or 3-D \[N, 3, L\] input, got shape \[2, 3, 4, 5\] \(4-D\)/,
    );
    expect(() => new BatchNorm2d(3).forward(randn([2, 3, 4]))).toThrow(ShapeError);
    expect(() => new BatchNorm2d(3).forward(randn([2, 4, 2, 2]))).toThrow(
      /BatchNorm2d\(3\): expected 3 channels in dimension 1 of the input, got shape \[2, 4, 2, 2\]/,
    );
    expect(() => new BatchNorm1d(3).forward(randn([4, 3], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => new BatchNorm1d(3).forward([1, 2, 3] as unknown as NDArray)).toThrow(ValueError);
  });

  it('checks its options', () => {
    expect(() => new BatchNorm1d(3, { momentm: 0.1 } as BatchNormOptions)).toThrow(/unknown option 'momentm'/);
    expect(() => new BatchNorm1d(null as unknown as number)).toThrow(/numFeatures must be an integer >= 1, got null/);
    expect(() => new BatchNorm1d(0)).toThrow(ValueError);
    expect(() => new BatchNorm1d(3, { eps: Number.NaN })).toThrow(/eps must be a finite number, got NaN/);
    expect(() => new BatchNorm1d(3, { momentum: 1.5 })).toThrow(/momentum must be <= 1, got 1.5/);
    expect(() => new BatchNorm2d(3, { affine: 'yes' as unknown as boolean })).toThrow(/affine must be true or false/);
    expect(() => new BatchNorm2d(3, { dtype: 'int32' as 'float32' })).toThrow(/dtype must be one of/);
  });

  it('checks backward: called before forward, or with a gradient of the wrong shape', () => {
    const layer = new BatchNorm1d(3);
    expect(() => layer.backward(randn([4, 3]))).toThrow(/backward\(\) called before forward\(\)/);
    layer.forward(randn([4, 3]));
    expect(() => layer.backward(randn([4, 2]))).toThrow(ShapeError);
  });

  it('has torch buffers, in the state dict after the parameters', () => {
    const layer = new BatchNorm2d(4, { dtype: 'float64' });
    expect(Object.keys(layer.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(layer.namedBuffers().map(([name]) => name)).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    expect(layer.runningMean!.dtype).toBe('float64');
    expect(layer.numBatchesTracked!.dtype).toBe('int32');
    expect(layer.numBatchesTracked!.shape).toEqual([]);
    expect(layer.parameters().length).toBe(2);
    expect(Object.keys(new BatchNorm2d(4, { affine: false }).stateDict())).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    const untracked = new BatchNorm2d(4, { trackRunningStats: false });
    expect(Object.keys(untracked.stateDict())).toEqual(['weight', 'bias']);
    expect(untracked.runningMean).toBeNull();
  });

  it('round-trips its buffers through safetensors (num_batches_tracked as int32)', () => {
    const rng = new TorchGenerator(7);
    const source = new BatchNorm2d(3, { dtype: 'float64' });
    for (let i = 0; i < 3; i++) source.forward(randn([2, 3, 2, 2], { dtype: 'float64', rng }));
    const target = new BatchNorm2d(3, { dtype: 'float64' });
    const { tensors } = decodeSafetensors(encodeSafetensors(source.stateDict()));
    expect(tensors.num_batches_tracked).toMatchObject({ dtype: 'int32', shape: [] });
    target.loadStateDict(tensors);
    expect(target.numBatchesTracked!.item()).toBe(3);
    expect(Array.from(target.runningVar!.data)).toEqual(Array.from(source.runningVar!.data));
    const x = randn([2, 3, 2, 2], { dtype: 'float64', rng });
    expect(Array.from(target.eval().forward(x).data)).toEqual(Array.from(source.eval().forward(x).data));
  });

  it("names a Sequential's buffers as torch", () => {
    const model = new Sequential(new Linear(4, 3), new BatchNorm1d(3), new ReLU(), new LayerNorm(3), new GroupNorm(1, 3));
    expect(Object.keys(model.stateDict())).toEqual(fixture.sequentialStateKeys);
  });

  it('counts batches in training mode only, and resets its running statistics', () => {
    const layer = new BatchNorm1d(2, { dtype: 'float64' });
    const rng = new TorchGenerator(3);
    layer.forward(add(randn([4, 2], { dtype: 'float64', rng }), 5));
    layer.forward(randn([4, 2], { dtype: 'float64', rng }));
    expect(layer.numBatchesTracked!.item()).toBe(2);
    layer.eval().forward(randn([4, 2], { dtype: 'float64', rng }));
    expect(layer.numBatchesTracked!.item()).toBe(2);
    expect(layer.runningMean!.data[0]).not.toBe(0);
    const buffer = layer.runningVar;
    layer.resetRunningStats();
    expect(Array.from(layer.runningMean!.data)).toEqual([0, 0]);
    expect(Array.from(layer.runningVar!.data)).toEqual([1, 1]);
    expect(layer.numBatchesTracked!.item()).toBe(0);
    expect(layer.runningVar).toBe(buffer);
  });

  it('adds into parameter gradients, and skips the input gradient on request', () => {
    const rng = new TorchGenerator(4);
    const layer = new BatchNorm2d(2, { dtype: 'float64' });
    layer.forward(randn([2, 2, 2, 2], { dtype: 'float64', rng }));
    const g = randn([2, 2, 2, 2], { dtype: 'float64', rng });
    const dx = layer.backward(g);
    const once = [Array.from(layer.weight!.grad.data), Array.from(layer.bias!.grad.data)];
    expect(layer.backward(g, { inputGrad: false })).toBeUndefined();
    expectScaled(layer.weight!.grad, once[0], 2);
    expectScaled(layer.bias!.grad, once[1], 2);
    expect(Array.from(layer.backward(g).data)).toEqual(Array.from(dx.data));
  });

  it('gives the same numbers inside a Sequential (which hands it slots) as alone', () => {
    const rng = new TorchGenerator(5);
    const make = () => {
      const r = new TorchGenerator(6);
      return [new Linear(4, 3, { dtype: 'float64', rng: r }), new BatchNorm1d(3, { dtype: 'float64' }), new ReLU()] as const;
    };
    const model = new Sequential(...make());
    const [linear, bn, relu] = make();
    for (let step = 0; step < 2; step++) {
      const x = randn([5, 4], { dtype: 'float64', rng });
      const g = randn([5, 3], { dtype: 'float64', rng });
      const y = model.forward(x);
      const alone = relu.forward(bn.forward(linear.forward(x)));
      expect(Array.from(y.data)).toEqual(Array.from(alone.data));
      const dx = model.backward(g);
      const dxAlone = linear.backward(bn.backward(relu.backward(g)));
      expect(Array.from(dx.data)).toEqual(Array.from(dxAlone.data));
    }
    expect(Array.from(model.stateDict()['1.running_var'].data)).toEqual(Array.from(bn.runningVar!.data));
  });
});

describe('LayerNorm against torch', () => {
  it.each(fixture.layerNorm.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new LayerNorm(c.normalizedShape, { ...c.options, dtype: c.dtype });
    expectInitialState(layer, c.initialState, label);
    layer.loadStateDict(stateOf(c.state));
    expectState(layer, c.state, label);
    expectStep(layer, c, label);
  });
});

describe('LayerNorm gradcheck (float64)', () => {
  it.each([
    ['normalizedShape 4', 4, {}, [3, 4]],
    ['normalizedShape [2, 3] on [2, 2, 3]', [2, 3], {}, [2, 2, 3]],
    ['elementwiseAffine false', [5], { elementwiseAffine: false }, [2, 5]],
    ['bias false', 3, { bias: false }, [4, 3]],
  ] as const)('%s', (_, shape, options, inputShape) => {
    const rng = new TorchGenerator(21);
    const layer = new LayerNorm(shape as number | number[], { ...options, dtype: 'float64' });
    for (const p of layer.parameters()) p.value.data.set(randn(p.shape, { dtype: 'float64', rng }).data);
    const result = gradcheck(layer, randn([...inputShape], { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('LayerNorm behaviour', () => {
  it('initialises weight 1 and bias 0, and drops the bias with { bias: false }', () => {
    const layer = new LayerNorm([2, 3], { dtype: 'float64' });
    expect(layer.weight!.shape).toEqual([2, 3]);
    expect(Array.from(layer.weight!.value.data)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(layer.bias!.value.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Object.keys(new LayerNorm(3, { bias: false }).stateDict())).toEqual(['weight']);
    expect(Object.keys(new LayerNorm(3, { elementwiseAffine: false }).stateDict())).toEqual([]);
  });

  it('checks the input and its options', () => {
    expect(() => new LayerNorm(4).forward(randn([3, 5]))).toThrow(
      /LayerNorm\(4\): expected an input whose trailing dimensions are \[4\] \(shape \[\*, 4\]\), got \[3, 5\]/,
    );
    expect(() => new LayerNorm([3, 4]).forward(randn([4]))).toThrow(ShapeError);
    expect(() => new LayerNorm(4).forward(randn([2, 4], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => new LayerNorm([])).toThrow(/normalizedShape must be a positive integer or a non-empty array/);
    expect(() => new LayerNorm(0)).toThrow(/normalizedShape\[0\] must be an integer >= 1, got 0/);
    expect(() => new LayerNorm(null as unknown as number)).toThrow(ValueError);
    expect(() => new LayerNorm(4, { elementwise_affine: false } as LayerNormOptions)).toThrow(/unknown option 'elementwise_affine'/);
    expect(() => new LayerNorm(4, { eps: -1 })).toThrow(/eps must be >= 0, got -1/);
  });

  it('adds into parameter gradients and skips the input gradient on request', () => {
    const rng = new TorchGenerator(22);
    const layer = new LayerNorm(3, { dtype: 'float64' });
    layer.forward(randn([2, 3], { dtype: 'float64', rng }));
    const g = randn([2, 3], { dtype: 'float64', rng });
    layer.backward(g);
    const once = Array.from(layer.weight!.grad.data);
    expect(layer.backward(g, { inputGrad: false })).toBeUndefined();
    expectScaled(layer.weight!.grad, once, 2);
  });
});

describe('GroupNorm against torch', () => {
  it.each(fixture.groupNorm.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new GroupNorm(c.numGroups, c.numChannels, { ...c.options, dtype: c.dtype });
    expectInitialState(layer, c.initialState, label);
    layer.loadStateDict(stateOf(c.state));
    expectState(layer, c.state, label);
    expectStep(layer, c, label);
  });
});

describe('GroupNorm gradcheck (float64)', () => {
  it.each([
    ['2 groups of 2 on [2, 4, 3]', 2, 4, {}, [2, 4, 3]],
    ['1 group on [3, 3]', 1, 3, {}, [3, 3]],
    ['3 groups of 2 on [2, 6, 2, 2]', 3, 6, {}, [2, 6, 2, 2]],
    ['affine false', 2, 4, { affine: false }, [2, 4, 3]],
  ] as const)('%s', (_, groups, channels, options, shape) => {
    const rng = new TorchGenerator(31);
    const layer = new GroupNorm(groups, channels, { ...options, dtype: 'float64' });
    for (const p of layer.parameters()) p.value.data.set(randn(p.shape, { dtype: 'float64', rng }).data);
    const result = gradcheck(layer, randn([...shape], { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('GroupNorm behaviour', () => {
  it('checks its arguments and input', () => {
    expect(() => new GroupNorm(3, 4)).toThrow(/GroupNorm\(3, 4\): numChannels must be divisible by numGroups, got 4 channels in 3 groups/);
    expect(() => new GroupNorm(0, 4)).toThrow(ValueError);
    expect(() => new GroupNorm(2, 4, { afine: false } as GroupNormOptions)).toThrow(/unknown option 'afine'/);
    expect(() => new GroupNorm(2, 4).forward(randn([4]))).toThrow(
      /GroupNorm\(2, 4\): expected an input \[N, 4, \*\] with 4 channels in dimension 1, got shape \[4\]/,
    );
    expect(() => new GroupNorm(2, 4).forward(randn([2, 6, 3]))).toThrow(ShapeError);
    expect(() => new GroupNorm(2, 4).forward(randn([2, 4], { dtype: 'float64' }))).toThrow(DTypeError);
  });

  it('adds into parameter gradients and skips the input gradient on request', () => {
    const rng = new TorchGenerator(32);
    const layer = new GroupNorm(2, 4, { dtype: 'float64' });
    layer.forward(randn([2, 4, 3], { dtype: 'float64', rng }));
    const g = randn([2, 4, 3], { dtype: 'float64', rng });
    const dx = layer.backward(g);
    const once = Array.from(layer.bias!.grad.data);
    expect(layer.backward(g, { inputGrad: false })).toBeUndefined();
    expectScaled(layer.bias!.grad, once, 2);
    expect(Array.from(layer.backward(g).data)).toEqual(Array.from(dx.data));
  });
});

describe('printing, as torch', () => {
  it.each(fixture.repr.map((r) => [r[3], r] as const))('%s', (_, [kind, args, options, expected]) => {
    let layer: { toString(): string };
    if (kind === 'BatchNorm1d' || kind === 'BatchNorm2d') layer = new BATCHNORMS[kind](args[0] as number, options);
    else if (kind === 'LayerNorm') layer = new LayerNorm(args[0] as number | number[], options);
    else if (kind === 'GroupNorm') layer = new GroupNorm(args[0] as number, args[1] as number, options);
    else layer = new Sequential(new Linear(4, 3), new BatchNorm1d(3), new ReLU());
    expect(String(layer)).toBe(expected);
  });

  it('writes floats as Python does', () => {
    const cases: [number, string][] = [
      [1e-5, '1e-05'],
      [1.5e-5, '1.5e-05'],
      [1e-4, '0.0001'],
      [0.001, '0.001'],
      [0.1, '0.1'],
      [1, '1.0'],
      [2.5, '2.5'],
      [1e16, '1e+16'],
      [1.2345678901234568e17, '1.2345678901234568e+17'],
      [123456789012345.6, '123456789012345.6'],
      [-1e-7, '-1e-07'],
    ];
    for (const [x, repr] of cases) expect(pythonFloat(x)).toBe(repr);
  });
});
