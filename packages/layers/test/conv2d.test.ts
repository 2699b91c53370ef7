import { DTypeError, ShapeError, TorchGenerator, ValueError, manualSeed, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { type Conv2dOptions, Conv2d } from '../src/conv2d';
import { type Size2d, gradcheck } from '../src/index';
import {
  type InitCase,
  type LayerCase,
  caseLabel,
  expectBitwiseEqual,
  expectMatchesTorch,
  expectScaled,
  loadFixture,
} from './helpers';

interface ConvCase extends LayerCase {
  name: string;
  inChannels: number;
  outChannels: number;
  kernelSize: Size2d;
  stride: Size2d;
  padding: Size2d;
  dilation: Size2d;
  bias: boolean;
}

const { cases } = loadFixture<{ cases: ConvCase[] }>('conv2d');

describe('Conv2d against torch.nn.Conv2d', () => {
  it.each(cases.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new Conv2d(c.inChannels, c.outChannels, c.kernelSize, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      bias: c.bias,
      dtype: c.dtype,
    });
    expectMatchesTorch(layer, c, label);
  });
});

interface GroupedCase extends Omit<ConvCase, 'padding'> {
  padding: Size2d | 'same' | 'valid';
  groups: number;
}
const more = loadFixture<{ conv2d: GroupedCase[]; init: InitCase[]; repr: Record<string, string> }>('conv-more');

describe('Conv2d groups and padding words against torch (conv-more fixture)', () => {
  it.each(more.conv2d.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new Conv2d(c.inChannels, c.outChannels, c.kernelSize, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      bias: c.bias,
      dtype: c.dtype,
    });
    expectMatchesTorch(layer, c, label);
  });

  it.each(more.init.filter((c) => c.module === 'Conv2d(4, 6, 3, groups=2)').map((c) => [`manualSeed(${c.seed}) ${c.dtype}`, c] as const))(
    'initialises Conv2d(4, 6, 3, groups=2) as torch bit for bit after %s',
    (label, c) => {
      manualSeed(c.seed);
      const layer = new Conv2d(4, 6, 3, { groups: 2, dtype: c.dtype });
      expect(layer.weight.shape).toEqual([6, 2, 3, 3]);
      expectBitwiseEqual(layer.weight.value, c.params.weight, `${label} weight`);
      expectBitwiseEqual(layer.bias!.value, c.params.bias, `${label} bias`);
    },
  );

  it('prints padding words and groups as torch', () => {
    expect(String(new Conv2d(4, 6, [2, 3], { padding: 'same', groups: 2 }))).toBe(more.repr["Conv2d(4, 6, (2, 3), padding='same', groups=2)"]);
  });
});

describe('Conv2d gradcheck', () => {
  it.each([
    ['3x3, batch 2', 3, {}, [2, 2, 5, 4]],
    ['stride 2, padding 1', 3, { stride: 2, padding: 1 }, [2, 2, 5, 5]],
    ['kernel [2, 3], stride [2, 1], padding [1, 0]', [2, 3], { stride: [2, 1], padding: [1, 0] }, [2, 2, 4, 5]],
    ['dilation 2, no bias', 2, { dilation: 2, bias: false }, [1, 2, 5, 5]],
    ['unbatched input', 3, { padding: 1 }, [2, 4, 4]],
    ["padding 'same', kernel [2, 4], dilation [2, 1]", [2, 4], { padding: 'same', dilation: [2, 1] }, [2, 2, 4, 5]],
    ['groups 2 (channels 2 → 4 via a 4-output layer)', 3, { groups: 2, padding: 1, outChannels: 4 }, [2, 2, 4, 3]],
  ] as const)('%s', (_, kernel, options, shape) => {
    const rng = new TorchGenerator(6);
    const { outChannels = 3, ...rest } = options as Conv2dOptions & { outChannels?: number };
    const layer = new Conv2d(2, outChannels, kernel as Size2d, { ...rest, dtype: 'float64', rng });
    const result = gradcheck(layer, randn([...shape], { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('Conv2d behaviour', () => {
  it('computes output sizes as torch', () => {
    expect(new Conv2d(1, 8, 3, { padding: 1 }).forward(zeros([4, 1, 28, 28])).shape).toEqual([4, 8, 28, 28]);
    expect(new Conv2d(1, 2, 3, { stride: 2 }).forward(zeros([1, 1, 7, 8])).shape).toEqual([1, 2, 3, 3]);
    expect(new Conv2d(3, 2, [2, 3], { stride: [2, 1], padding: [1, 0] }).forward(zeros([1, 3, 5, 6])).shape).toEqual([1, 2, 3, 4]);
    expect(new Conv2d(2, 3, 3).forward(zeros([2, 5, 5])).shape).toEqual([3, 3, 3]);
  });

  it('has weight [out, in, kh, kw] and accumulates gradients', () => {
    const rng = new TorchGenerator(8);
    const layer = new Conv2d(2, 3, [2, 3], { dtype: 'float64', rng });
    expect(layer.weight.shape).toEqual([3, 2, 2, 3]);
    expect(layer.bias!.shape).toEqual([3]);
    layer.forward(randn([2, 2, 4, 4], { dtype: 'float64', rng }));
    const g = randn([2, 3, 3, 2], { dtype: 'float64', rng });
    layer.backward(g);
    const once = Array.from(layer.weight.grad.data);
    const onceBias = Array.from(layer.bias!.grad.data);
    layer.backward(g);
    expectScaled(layer.weight.grad, once, 2);
    expectScaled(layer.bias!.grad, onceBias, 2);
  });

  it('names itself with its geometry', () => {
    expect(String(new Conv2d(3, 4, 3))).toBe('Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1))');
    expect(String(new Conv2d(3, 4, [2, 3], { stride: 2, padding: [1, 0], bias: false }))).toBe(
      'Conv2d(3, 4, kernel_size=(2, 3), stride=(2, 2), padding=(1, 0), bias=False)',
    );
  });
});

describe('Conv2d errors', () => {
  it('rejects input that is not 3-D or 4-D', () => {
    const conv = new Conv2d(3, 4, 3);
    expect(() => conv.forward(zeros([3, 5]))).toThrow(ShapeError);
    expect(() => conv.forward(zeros([3, 5]))).toThrow(
      'Conv2d(3, 4, kernelSize: [3, 3]): expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got [3, 5]',
    );
    expect(() => conv.forward(zeros([1, 1, 3, 5, 5]))).toThrow(/expected a 4-D input .* got \[1, 1, 3, 5, 5\]/);
  });

  it('rejects the wrong number of channels', () => {
    const conv = new Conv2d(3, 4, 3);
    expect(() => conv.forward(zeros([1, 2, 5, 5]))).toThrow(
      'Conv2d(3, 4, kernelSize: [3, 3]): expected input [1, 2, 5, 5] to have 3 channels (dimension 1), got 2',
    );
    expect(() => conv.forward(zeros([2, 5, 5]))).toThrow(/to have 3 channels \(dimension 0\), got 2/);
  });

  it('rejects an input smaller than the kernel', () => {
    expect(() => new Conv2d(3, 4, 3).forward(zeros([1, 3, 2, 2]))).toThrow(
      'Conv2d(3, 4, kernelSize: [3, 3]): input [1, 3, 2, 2] padded to 2×2 is smaller than the kernel 3×3',
    );
  });

  it('rejects mixed dtypes and a mismatched gradient', () => {
    const conv = new Conv2d(1, 1, 1);
    expect(() => conv.forward(zeros([1, 1, 2, 2], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => conv.backward(zeros([1, 1, 2, 2]))).toThrow(/backward\(\) called before forward\(\)/);
    conv.forward(zeros([1, 1, 2, 2]));
    expect(() => conv.backward(zeros([1, 1, 3, 3]))).toThrow(ShapeError);
  });

  it('rejects bad constructor arguments and unknown options', () => {
    expect(() => new Conv2d(0, 4, 3)).toThrow('Conv2d(0, 4, 3): inChannels must be an integer >= 1, got 0');
    expect(() => new Conv2d(3, 1.5, 3)).toThrow(/outChannels must be an integer >= 1, got 1.5/);
    expect(() => new Conv2d(3, 4, 0)).toThrow(/kernelSize must be an integer >= 1 or a pair \[height, width\] of them, got 0/);
    expect(() => new Conv2d(3, 4, [3, 3, 3] as unknown as Size2d)).toThrow(/kernelSize must be .* got \[3, 3, 3\]/);
    expect(() => new Conv2d(3, 4, 3, { stride: 0 })).toThrow(/stride must be an integer >= 1/);
    expect(() => new Conv2d(3, 4, 3, { padding: -1 })).toThrow(/padding must be an integer >= 0 .* got -1/);
    expect(() => new Conv2d(3, 4, 3, { paddingMode: 'reflect' } as object)).toThrow(ValueError);
    expect(() => new Conv2d(3, 4, 3, { paddingMode: 'reflect' } as object)).toThrow(
      "Conv2d(3, 4, 3): unknown option 'paddingMode'; expected one of 'stride', 'padding', 'dilation', 'groups', 'bias', 'dtype', 'rng'",
    );
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(
      'Conv2d(3, 4, 3): inChannels must be divisible by groups, got inChannels 3 and groups 2',
    );
    expect(() => new Conv2d(4, 3, 3, { groups: 2 })).toThrow(/outChannels must be divisible by groups, got outChannels 3 and groups 2/);
    expect(() => new Conv2d(3, 4, 3, { padding: 'full' } as object)).toThrow(/padding must be .* 'valid' or 'same', got 'full'/);
    expect(() => new Conv2d(3, 4, 3, { padding: 'same', stride: 2 })).toThrow(
      "Conv2d(3, 4, 3): padding 'same' is not supported for strided convolutions (as in torch), got stride [2, 2]",
    );
  });
});

describe('Conv2d keeps the unfolded input for backward only in training', () => {
  const grads = (conv: Conv2d) => [Array.from(conv.weight.grad.data), Array.from(conv.bias!.grad.data)];

  it('gives the same gradients in eval mode (unfolding again) as in training (kept columns)', () => {
    const make = () => new Conv2d(2, 3, 3, { padding: 1, stride: 2, rng: new TorchGenerator(0) });
    const x = randn([4, 2, 7, 7], { rng: new TorchGenerator(1) });
    const training = make();
    const evaluating = make().eval();
    const y = training.forward(x);
    expect(Array.from(evaluating.forward(x).data)).toEqual(Array.from(y.data));
    const g = randn(y.shape, { rng: new TorchGenerator(2) });
    const dxTrain = training.backward(g);
    const dxEval = evaluating.backward(g);
    expect(Array.from(dxEval.data)).toEqual(Array.from(dxTrain.data));
    expect(grads(evaluating)).toEqual(grads(training));
  });

  it('uses the last forward: a training batch, then an eval pass of another size, then backward', () => {
    const a = new Conv2d(1, 2, 3, { rng: new TorchGenerator(0) });
    const b = new Conv2d(1, 2, 3, { rng: new TorchGenerator(0) });
    const big = randn([5, 1, 6, 6], { rng: new TorchGenerator(3) });
    const small = randn([2, 1, 6, 6], { rng: new TorchGenerator(4) });
    a.forward(big);
    a.eval();
    const y = a.forward(small);
    b.eval();
    b.forward(small);
    const g = randn(y.shape, { rng: new TorchGenerator(5) });
    a.backward(g, { inputGrad: false });
    b.backward(g, { inputGrad: false });
    expect(grads(a)).toEqual(grads(b));
  });
});
