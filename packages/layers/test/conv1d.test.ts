import { DTypeError, ShapeError, Slot, TorchGenerator, ValueError, manualSeed, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { type Conv1dOptions, Conv1d, type Size1d } from '../src/conv1d';
import { gradcheck } from '../src/gradcheck';
import {
  type InitCase,
  type LayerCase,
  caseLabel,
  expectParamsBitwise,
  expectMatchesTorch,
  expectScaled,
  loadFixture,
} from './helpers';

interface Conv1dCase extends LayerCase {
  name: string;
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride: number;
  padding: number | 'same' | 'valid';
  dilation: number;
  groups: number;
  bias: boolean;
}

const fixture = loadFixture<{ conv1d: Conv1dCase[]; init: InitCase[]; repr: Record<string, string> }>('conv-more');

describe('Conv1d against torch.nn.Conv1d', () => {
  it.each(fixture.conv1d.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new Conv1d(c.inChannels, c.outChannels, c.kernelSize, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      bias: c.bias,
      dtype: c.dtype,
    });
    expectMatchesTorch(layer, c, label);
  });
});

const makers: Record<string, (dtype: 'float32' | 'float64') => Conv1d> = {
  'Conv1d(3, 4, 5)': (dtype) => new Conv1d(3, 4, 5, { dtype }),
  'Conv1d(4, 6, 3, groups=2, bias=False)': (dtype) => new Conv1d(4, 6, 3, { groups: 2, bias: false, dtype }),
};

describe('Conv1d initialisation equals torch bit for bit', () => {
  const cases = fixture.init.filter((c) => c.module in makers);
  it('has cases', () => expect(cases.length).toBe(4));
  it.each(cases.map((c) => [`manualSeed(${c.seed}); ${c.module} ${c.dtype}`, c] as const))('%s', (label, c) => {
    manualSeed(c.seed);
    const layer = makers[c.module](c.dtype);
    expectParamsBitwise(layer, c.params, label);
  });

  it('draws from the rng option as from the global generator', () => {
    manualSeed(5);
    const global = new Conv1d(2, 3, 4, { dtype: 'float64' });
    const own = new Conv1d(2, 3, 4, { dtype: 'float64', rng: new TorchGenerator(5) });
    expect(Array.from(own.weight.value.data)).toEqual(Array.from(global.weight.value.data));
    expect(Array.from(own.bias!.value.data)).toEqual(Array.from(global.bias!.value.data));
  });
});

describe('Conv1d prints as torch', () => {
  const made: Record<string, Conv1d> = {
    'Conv1d(2, 3, 3)': new Conv1d(2, 3, 3),
    'Conv1d(4, 6, 5, stride=2, padding=2, dilation=2, groups=2, bias=False)': new Conv1d(4, 6, 5, {
      stride: 2,
      padding: 2,
      dilation: 2,
      groups: 2,
      bias: false,
    }),
    "Conv1d(2, 3, 4, padding='same')": new Conv1d(2, 3, 4, { padding: 'same' }),
    "Conv1d(2, 3, 4, padding='valid')": new Conv1d(2, 3, 4, { padding: 'valid' }),
  };
  it.each(Object.entries(made))('%s', (name, layer) => {
    expect(String(layer)).toBe(fixture.repr[name]);
  });
});

describe('Conv1d gradcheck', () => {
  it.each([
    ['k3, batch 2', 2, 3, 3, {}, [2, 2, 6]],
    ['stride 2, padding 1, dilation 2', 2, 3, 3, { stride: 2, padding: 1, dilation: 2 }, [2, 2, 9]],
    ["padding 'same', even kernel", 2, 2, 4, { padding: 'same' }, [2, 2, 5]],
    ["padding 'same', dilation 3, no bias", 2, 2, 2, { padding: 'same', dilation: 3, bias: false }, [1, 2, 6]],
    ['groups 2', 4, 6, 3, { groups: 2, padding: 1 }, [2, 4, 5]],
    ['unbatched input', 2, 3, 3, { padding: 1 }, [2, 5]],
  ] as const)('%s', (_, cin, cout, kernel, options, shape) => {
    const rng = new TorchGenerator(7);
    const layer = new Conv1d(cin, cout, kernel, { ...(options as Conv1dOptions), dtype: 'float64', rng });
    const result = gradcheck(layer, randn([...shape], { dtype: 'float64', rng }));
    if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${result.maxRelError.toExponential(2)} ${result.checked} entries ${_}`);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBeGreaterThan(layer.weight.size);
  });
});

describe('Conv1d behaviour', () => {
  it('computes output lengths as torch', () => {
    expect(new Conv1d(1, 8, 3, { padding: 1 }).forward(zeros([4, 1, 28])).shape).toEqual([4, 8, 28]);
    expect(new Conv1d(1, 2, 3, { stride: 2 }).forward(zeros([1, 1, 8])).shape).toEqual([1, 2, 3]);
    expect(new Conv1d(1, 2, 4, { padding: 'same' }).forward(zeros([3, 1, 7])).shape).toEqual([3, 2, 7]);
    expect(new Conv1d(1, 2, 4, { padding: 'valid' }).forward(zeros([3, 1, 7])).shape).toEqual([3, 2, 4]);
    expect(new Conv1d(2, 3, 3).forward(zeros([2, 5])).shape).toEqual([3, 3]);
    const empty = new Conv1d(2, 3, 3);
    expect(empty.forward(zeros([0, 2, 5])).shape).toEqual([0, 3, 3]);
    expect(empty.backward(zeros([0, 3, 3])).shape).toEqual([0, 2, 5]);
    expect(Array.from(empty.weight.grad.data).every((v) => v === 0)).toBe(true);
  });

  it('has weight [out, in/groups, k] and torch-shaped attributes', () => {
    const layer = new Conv1d(4, 6, 3, { groups: 2, stride: 2 });
    expect(layer.weight.shape).toEqual([6, 2, 3]);
    expect(layer.bias!.shape).toEqual([6]);
    expect([layer.kernelSize, layer.stride, layer.padding, layer.dilation, layer.groups]).toEqual([[3], [2], [0], [1], 2]);
    expect(new Conv1d(1, 1, 3, { padding: 'same' }).padding).toBe('same');
    expect(Object.keys(layer.stateDict())).toEqual(['weight', 'bias']);
  });

  it('accumulates gradients and skips the input gradient when asked', () => {
    const rng = new TorchGenerator(8);
    const layer = new Conv1d(2, 3, 2, { dtype: 'float64', rng, groups: 1 });
    const x = randn([2, 2, 5], { dtype: 'float64', rng });
    const g = randn([2, 3, 4], { dtype: 'float64', rng });
    layer.forward(x);
    const dx = layer.backward(g);
    const once = Array.from(layer.weight.grad.data);
    const onceBias = Array.from(layer.bias!.grad.data);
    expect(layer.backward(g, { inputGrad: false })).toBeUndefined();
    expectScaled(layer.weight.grad, once, 2);
    expectScaled(layer.bias!.grad, onceBias, 2);
    const slot = new Slot();
    const into = layer.backward(g, { into: slot });
    expect(slot.holds(into!)).toBe(true);
    expect(Array.from(into!.data)).toEqual(Array.from(dx.data));
  });

  it("pads 'same' with the extra zero at the end, as torch", () => {
    // Kernel [1, 0, 0, 0] (taps at offsets -1..+2 around each position): output[i] = x[i - 1], zero at i = 0.
    const layer = new Conv1d(1, 1, 4, { padding: 'same', bias: false, dtype: 'float64' });
    layer.weight.value.data.set([1, 0, 0, 0]);
    const input = randn([1, 1, 5], { dtype: 'float64', rng: new TorchGenerator(4) });
    expect(Array.from(layer.forward(input).data)).toEqual([0, ...Array.from(input.data).slice(0, 4)]);
    layer.weight.value.data.set([0, 0, 0, 1]);
    expect(Array.from(layer.forward(input).data)).toEqual([...Array.from(input.data).slice(2), 0, 0]);
  });
});

describe('Conv1d errors', () => {
  it('rejects input that is not 2-D or 3-D', () => {
    const conv = new Conv1d(3, 4, 3);
    expect(() => conv.forward(zeros([1, 3, 5, 5]))).toThrow(ShapeError);
    expect(() => conv.forward(zeros([5]))).toThrow(
      'Conv1d(3, 4, kernelSize: [3]): expected a 3-D input [N, C, L] (or an unbatched 2-D [C, L]), got [5]',
    );
  });

  it('rejects the wrong number of channels, a short input and mixed dtypes', () => {
    const conv = new Conv1d(3, 4, 3, { dilation: 2 });
    expect(() => conv.forward(zeros([1, 2, 9]))).toThrow(
      'Conv1d(3, 4, kernelSize: [3], dilation: [2]): expected input [1, 2, 9] to have 3 channels (dimension 1), got 2',
    );
    expect(() => conv.forward(zeros([3, 4]))).toThrow(
      'Conv1d(3, 4, kernelSize: [3], dilation: [2]): input [3, 4] padded to 4 is smaller than the dilated kernel 5',
    );
    expect(() => conv.forward(zeros([1, 3, 9], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => conv.backward(zeros([1, 4, 5]))).toThrow(/backward\(\) called before forward\(\)/);
    conv.forward(zeros([1, 3, 9]));
    expect(() => conv.backward(zeros([1, 4, 6]))).toThrow(ShapeError);
  });

  it('rejects bad constructor arguments and unknown options', () => {
    expect(() => new Conv1d(0, 4, 3)).toThrow('Conv1d(0, 4, 3): inChannels must be an integer >= 1, got 0');
    expect(() => new Conv1d(3, 4, [3, 3] as unknown as Size1d)).toThrow(
      'Conv1d(3, 4, [3, 3]): kernelSize must be an integer >= 1 or a one-element array [length] of them, got [3, 3]',
    );
    expect(() => new Conv1d(3, 4, 3, { stride: null as unknown as number })).toThrow(/stride must be an integer >= 1 .* got null/);
    expect(() => new Conv1d(3, 4, 3, { padding: 'same', stride: 2 })).toThrow(
      "Conv1d(3, 4, 3): padding 'same' is not supported for strided convolutions (as in torch), got stride [2]",
    );
    expect(() => new Conv1d(3, 4, 3, { padding: 'full' as 'same' })).toThrow(ValueError);
    expect(() => new Conv1d(4, 6, 3, { groups: 4 })).toThrow(
      'Conv1d(4, 6, 3): outChannels must be divisible by groups, got outChannels 6 and groups 4',
    );
    expect(() => new Conv1d(4, 6, 3, { groups: 0 })).toThrow(/groups must be an integer >= 1, got 0/);
    expect(() => new Conv1d(3, 4, 3, { outputPadding: 1 } as object)).toThrow(
      "Conv1d(3, 4, 3): unknown option 'outputPadding'; expected one of 'stride', 'padding', 'dilation', 'groups', 'bias', 'dtype', 'rng'",
    );
    expect(() => new Conv1d(3, 4, 3, { bias: null as unknown as boolean })).toThrow(/bias must be true or false, got null/);
    expect(() => new Conv1d(3, 4, 3, { dtype: 'int32' as 'float32' })).toThrow(/dtype must be one of 'float32', 'float64', got 'int32'/);
  });
});
