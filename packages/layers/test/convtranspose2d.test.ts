import { DTypeError, type NDArray, ShapeError, TorchGenerator, ValueError, manualSeed, mul, randn, sum, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { ConvTranspose2d, type ConvTranspose2dOptions } from '../src/convtranspose2d';
import { Conv2d } from '../src/conv2d';
import { gradcheck } from '../src/gradcheck';
import type { Size2d } from '../src/size2d';
import {
  type InitCase,
  type LayerCase,
  caseLabel,
  expectParamsBitwise,
  expectMatchesTorch,
  expectScaled,
  loadFixture,
} from './helpers';

interface ConvTransposeCase extends LayerCase {
  name: string;
  inChannels: number;
  outChannels: number;
  kernelSize: Size2d;
  stride: Size2d;
  padding: Size2d;
  outputPadding: Size2d;
  dilation: Size2d;
  groups: number;
  bias: boolean;
}

const fixture = loadFixture<{ convTranspose2d: ConvTransposeCase[]; init: InitCase[]; repr: Record<string, string> }>('conv-more');

describe('ConvTranspose2d against torch.nn.ConvTranspose2d', () => {
  it.each(fixture.convTranspose2d.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new ConvTranspose2d(c.inChannels, c.outChannels, c.kernelSize, {
      stride: c.stride,
      padding: c.padding,
      outputPadding: c.outputPadding,
      dilation: c.dilation,
      groups: c.groups,
      bias: c.bias,
      dtype: c.dtype,
    });
    expectMatchesTorch(layer, c, label);
  });
});

const makers: Record<string, (dtype: 'float32' | 'float64') => ConvTranspose2d> = {
  'ConvTranspose2d(2, 3, 3)': (dtype) => new ConvTranspose2d(2, 3, 3, { dtype }),
  'ConvTranspose2d(4, 6, (2, 3), groups=2)': (dtype) => new ConvTranspose2d(4, 6, [2, 3], { groups: 2, dtype }),
};

describe('ConvTranspose2d initialisation equals torch bit for bit', () => {
  const cases = fixture.init.filter((c) => c.module in makers);
  it('has cases', () => expect(cases.length).toBe(4));
  it.each(cases.map((c) => [`manualSeed(${c.seed}); ${c.module} ${c.dtype}`, c] as const))('%s', (label, c) => {
    manualSeed(c.seed);
    const layer = makers[c.module](c.dtype);
    expectParamsBitwise(layer, c.params, label);
  });
});

describe('ConvTranspose2d prints as torch', () => {
  const made: Record<string, ConvTranspose2d> = {
    'ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)': new ConvTranspose2d(2, 3, 3, { stride: 2, outputPadding: 1 }),
    'ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), padding=(1, 0), dilation=2, groups=2, bias=False)': new ConvTranspose2d(
      4,
      6,
      [2, 3],
      { stride: [2, 1], padding: [1, 0], dilation: 2, groups: 2, bias: false },
    ),
    'ConvTranspose2d(3, 1, 1)': new ConvTranspose2d(3, 1, 1),
  };
  it.each(Object.entries(made))('%s', (name, layer) => {
    expect(String(layer)).toBe(fixture.repr[name]);
  });
});

describe('ConvTranspose2d gradcheck', () => {
  it.each([
    ['3x3, batch 2', 2, 3, 3, {}, [2, 2, 3, 2]],
    ['stride 2, padding 1, outputPadding 1', 2, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }, [2, 2, 3, 3]],
    ['kernel [2, 3], stride [3, 1], outputPadding [2, 0]', 3, 2, [2, 3], { stride: [3, 1], outputPadding: [2, 0] }, [1, 3, 2, 3]],
    ['dilation 2, outputPadding 1 at stride 1, no bias', 2, 2, 2, { dilation: 2, outputPadding: 1, bias: false }, [1, 2, 3, 3]],
    ['groups 2', 4, 2, 3, { groups: 2, stride: 2 }, [2, 4, 2, 2]],
    ['unbatched input', 2, 3, 3, { stride: 2, padding: 1 }, [2, 3, 2]],
  ] as const)('%s', (_, cin, cout, kernel, options, shape) => {
    const rng = new TorchGenerator(9);
    const layer = new ConvTranspose2d(cin, cout, kernel as Size2d, { ...(options as ConvTranspose2dOptions), dtype: 'float64', rng });
    const result = gradcheck(layer, randn([...shape], { dtype: 'float64', rng }));
    if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${result.maxRelError.toExponential(2)} ${result.checked} entries ${_}`);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBeGreaterThan(layer.weight.size);
  });
});

describe('ConvTranspose2d behaviour', () => {
  it('computes output sizes as torch: (H − 1)·s − 2·p + d·(k − 1) + outputPadding + 1', () => {
    expect(new ConvTranspose2d(16, 8, 3, { stride: 2, padding: 1, outputPadding: 1 }).forward(zeros([2, 16, 14, 14])).shape).toEqual([
      2, 8, 28, 28,
    ]);
    expect(new ConvTranspose2d(2, 3, [2, 3], { stride: [3, 1], dilation: [1, 2] }).forward(zeros([1, 2, 4, 5])).shape).toEqual([1, 3, 11, 9]);
    expect(new ConvTranspose2d(2, 3, 1).forward(zeros([2, 4, 5])).shape).toEqual([3, 4, 5]);
  });

  it('has weight [in, out/groups, kh, kw]', () => {
    const layer = new ConvTranspose2d(4, 6, [2, 3], { groups: 2 });
    expect(layer.weight.shape).toEqual([4, 3, 2, 3]);
    expect(layer.bias!.shape).toEqual([6]);
    expect(layer.outputPadding).toEqual([0, 0]);
    expect(new ConvTranspose2d(1, 1, 3, { stride: 2, outputPadding: [1, 0] }).outputPadding).toEqual([1, 0]);
  });

  it("is Conv2d's input gradient: <convT(x), y> = <x, conv(y)> with the same weight", () => {
    const rng = new TorchGenerator(10);
    const options = { stride: 2, padding: 1, dilation: [1, 2] as const, bias: false, dtype: 'float64' as const, rng };
    const transposed = new ConvTranspose2d(3, 2, 3, { ...options, outputPadding: 1 });
    const conv = new Conv2d(2, 3, 3, options);
    conv.weight.value.data.set(transposed.weight.value.data);
    const x = randn([2, 3, 4, 3], { dtype: 'float64', rng });
    const up = transposed.forward(x);
    const y = randn(up.shape, { dtype: 'float64', rng });
    const down = conv.forward(y);
    expect(down.shape).toEqual(x.shape);
    const dot = (a: NDArray, b: NDArray) => sum(mul(a, b)).data[0];
    expect(dot(up, y)).toBeCloseTo(dot(x, down), 10);
  });

  it('accumulates gradients and skips the input gradient when asked', () => {
    const rng = new TorchGenerator(11);
    const layer = new ConvTranspose2d(2, 4, 2, { groups: 2, stride: 2, dtype: 'float64', rng });
    layer.forward(randn([2, 2, 3, 3], { dtype: 'float64', rng }));
    const g = randn([2, 4, 6, 6], { dtype: 'float64', rng });
    layer.backward(g);
    const once = Array.from(layer.weight.grad.data);
    const onceBias = Array.from(layer.bias!.grad.data);
    expect(layer.backward(g, { inputGrad: false })).toBeUndefined();
    expectScaled(layer.weight.grad, once, 2);
    expectScaled(layer.bias!.grad, onceBias, 2);
  });
});

describe('ConvTranspose2d errors', () => {
  it('rejects an outputPadding not smaller than the stride or the dilation, as torch', () => {
    expect(() => new ConvTranspose2d(2, 3, 3, { stride: 2, outputPadding: 2 })).toThrow(
      'ConvTranspose2d(2, 3, 3): outputPadding must be smaller than either stride or dilation (as torch requires), ' +
        'got outputPadding [2, 2] with stride [2, 2] and dilation [1, 1]',
    );
    expect(() => new ConvTranspose2d(2, 3, 3, { outputPadding: [0, 1] })).toThrow(ValueError);
    expect(() => new ConvTranspose2d(2, 3, 3, { outputPadding: 1, dilation: 2 })).not.toThrow();
  });

  it('rejects bad options', () => {
    expect(() => new ConvTranspose2d(2, 3, 3, { padding: 'same' as unknown as number })).toThrow(
      /padding must be an integer >= 0 or a pair \[height, width\] of them, got 'same'/,
    );
    expect(() => new ConvTranspose2d(2, 3, 3, { groups: 2 })).toThrow(/outChannels must be divisible by groups, got outChannels 3 and groups 2/);
    expect(() => new ConvTranspose2d(2, 3, 3, { outputSize: [4, 4] } as object)).toThrow(
      "ConvTranspose2d(2, 3, 3): unknown option 'outputSize'; expected one of 'stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias', 'dtype', 'rng'",
    );
    expect(() => new ConvTranspose2d(2, 3, 3, { outputPadding: null as unknown as number })).toThrow(/outputPadding must be .* got null/);
  });

  it('rejects bad input, an output smaller than 1, and a mismatched gradient', () => {
    const layer = new ConvTranspose2d(2, 3, 3, { stride: 2 });
    expect(() => layer.forward(zeros([2, 5]))).toThrow(
      'ConvTranspose2d(2, 3, kernelSize: [3, 3], stride: [2, 2]): expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got [2, 5]',
    );
    expect(() => layer.forward(zeros([1, 3, 2, 2]))).toThrow(/expected input \[1, 3, 2, 2\] to have 2 channels \(dimension 1\), got 3/);
    expect(() => layer.forward(zeros([1, 2, 2, 2], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => new ConvTranspose2d(1, 1, 1, { padding: 1 }).forward(zeros([1, 1, 2, 2]))).toThrow(
      'ConvTranspose2d(1, 1, kernelSize: [1, 1], padding: [1, 1]): input [1, 1, 2, 2] gives an output of size [0, 0], which is too small (every size must be at least 1)',
    );
    layer.forward(zeros([1, 2, 2, 2]));
    expect(() => layer.backward(zeros([1, 3, 4, 4]))).toThrow(ShapeError);
  });
});
