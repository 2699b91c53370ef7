import { DTypeError, ShapeError, TorchGenerator, ValueError, array, ones, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { AvgPool2d, type Size2d, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectClose, loadFixture, toArray } from './helpers';

interface AvgPoolCase extends LayerCase {
  name: string;
  kernelSize: Size2d;
  stride: Size2d;
  padding: Size2d;
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;
}

const { cases } = loadFixture<{ cases: AvgPoolCase[] }>('avgpool2d');

describe('AvgPool2d against torch.nn.AvgPool2d', () => {
  it.each(cases.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const pool = new AvgPool2d(c.kernelSize, {
      stride: c.stride,
      padding: c.padding,
      ceilMode: c.ceilMode,
      countIncludePad: c.countIncludePad,
      divisorOverride: c.divisorOverride,
    });
    expectClose(pool.forward(toArray(c.input)), c.output, `${label} output`);
    expectClose(pool.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    expect(pool.parameters()).toEqual([]);
  });
});

describe('AvgPool2d gradcheck', () => {
  it.each([
    ['k=2, batch 2, channels 3', 2, {}, [2, 3, 4, 6]],
    ['k=3 s=2 p=1', 3, { stride: 2, padding: 1 }, [1, 2, 5, 6]],
    ['k=3 s=2 p=1, countIncludePad false', 3, { stride: 2, padding: 1, countIncludePad: false }, [1, 2, 5, 6]],
    ['overlapping k=3 s=1 p=1', 3, { stride: 1, padding: 1 }, [1, 2, 4, 5]],
    ['k=[2, 3] s=[1, 2] p=[1, 1]', [2, 3], { stride: [1, 2], padding: [1, 1] }, [1, 2, 4, 7]],
    ['ceil mode, countIncludePad false', 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }, [1, 2, 6, 6]],
    ['divisorOverride 5', 3, { stride: 2, padding: 1, divisorOverride: 5 }, [1, 2, 5, 5]],
    ['unbatched input', 2, { stride: 1 }, [3, 3, 4]],
  ] as const)('%s', (_, kernel, options, shape) => {
    const pool = new AvgPool2d(kernel as Size2d, options);
    const result = gradcheck(pool, randn([...shape], { dtype: 'float64', rng: new TorchGenerator(10) }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('AvgPool2d behaviour', () => {
  it('computes output sizes as torch', () => {
    expect(new AvgPool2d(2).forward(zeros([4, 8, 28, 28])).shape).toEqual([4, 8, 14, 14]);
    expect(new AvgPool2d(2, { ceilMode: true }).forward(zeros([1, 1, 5, 5])).shape).toEqual([1, 1, 3, 3]);
    expect(new AvgPool2d(3, { stride: 2, padding: 1 }).forward(zeros([2, 6, 6])).shape).toEqual([2, 3, 3]);
    expect(new AvgPool2d(2).forward(zeros([0, 3, 4, 4])).shape).toEqual([0, 3, 2, 2]);
  });

  it('divides by the window area, the covered inputs or the override (hand-derived on ones)', () => {
    // 3×3 windows, stride 2, padding 1 on a 3×3 image of ones: each window covers 2×2 inputs and 5 padding cells.
    const x = ones([1, 1, 3, 3], { dtype: 'float64' });
    const divided = (options: object) => Array.from(new AvgPool2d(3, { stride: 2, padding: 1, ...options }).forward(x).data);
    expect(divided({})).toEqual([4 / 9, 4 / 9, 4 / 9, 4 / 9]);
    expect(divided({ countIncludePad: false })).toEqual([1, 1, 1, 1]);
    expect(divided({ divisorOverride: 2 })).toEqual([2, 2, 2, 2]);
    // Ceil mode: 2×2 windows, stride 2, on 3×3; the last window hangs past the input (no padding), so the
    // divisor counts only what lies inside the padded input, with or without countIncludePad.
    const ceil = new AvgPool2d(2, { ceilMode: true });
    expect(Array.from(ceil.forward(x).data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(ceil.backward(ones([1, 1, 2, 2], { dtype: 'float64' })).data)).toEqual([
      0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1,
    ]);
  });

  it('spreads grad / divisor over each window, adding where windows overlap', () => {
    const pool = new AvgPool2d([1, 2], { stride: 1 });
    pool.forward(array([[[1, 2, 3]]], { dtype: 'float64' }));
    expect(Array.from(pool.backward(array([[[4, 8]]], { dtype: 'float64' })).data)).toEqual([2, 6, 4]);
  });

  it('propagates NaN to the windows that hold it, as torch', () => {
    const out = new AvgPool2d(2).forward(array([[[[1, Number.NaN, 1, 1], [1, 1, 1, 1]]]], { dtype: 'float64' }));
    expect(Array.from(out.data)).toEqual([Number.NaN, 1]);
  });

  it('names itself with the options that differ from the defaults', () => {
    expect(String(new AvgPool2d(2))).toBe('AvgPool2d(kernel_size=2, stride=2, padding=0)');
    const odd = new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false, divisorOverride: 4 });
    expect(String(odd)).toBe('AvgPool2d(kernel_size=3, stride=2, padding=1)');
    expect(() => odd.forward(zeros([4]))).toThrow(
      /^AvgPool2d\(kernelSize: \[3, 3\], stride: \[2, 2\], padding: \[1, 1\], ceilMode: true, countIncludePad: false, divisorOverride: 4\): /,
    );
    const pool = new AvgPool2d([2, 3]);
    expect([pool.stride, pool.countIncludePad, pool.divisorOverride]).toEqual([[2, 3], true, null]);
  });
});

describe('AvgPool2d errors', () => {
  it('rejects input that is not 3-D or 4-D', () => {
    expect(() => new AvgPool2d(2).forward(zeros([4]))).toThrow(
      'AvgPool2d(kernelSize: [2, 2]): expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got [4]',
    );
    expect(() => new AvgPool2d(2).forward(zeros([1, 1, 1, 4, 4]))).toThrow(ShapeError);
  });

  it('rejects a kernel larger than the padded input', () => {
    expect(() => new AvgPool2d(4, { padding: 1 }).forward(zeros([1, 1, 1, 1]))).toThrow(
      'AvgPool2d(kernelSize: [4, 4], padding: [1, 1]): input [1, 1, 1, 1] padded to 3×3 is smaller than the kernel 4×4',
    );
    expect(new AvgPool2d(3, { padding: 1 }).forward(zeros([1, 1, 1, 1])).shape).toEqual([1, 1, 1, 1]);
  });

  it('rejects padding above half the kernel, as torch', () => {
    expect(() => new AvgPool2d(2, { padding: [0, 2] })).toThrow(
      'AvgPool2d(2): padding must be at most half the kernel size in each dimension (as torch requires), got padding [0, 2] for kernelSize [2, 2]',
    );
  });

  it('rejects bad options and unknown ones', () => {
    expect(() => new AvgPool2d(2, { divisorOverride: 0 })).toThrow(ValueError);
    expect(() => new AvgPool2d(2, { divisorOverride: 0 })).toThrow(
      'AvgPool2d(2): divisorOverride must be a non-zero integer or null, got 0',
    );
    expect(() => new AvgPool2d(2, { divisorOverride: 2.5 })).toThrow(/divisorOverride must be a non-zero integer or null, got 2.5/);
    expect(() => new AvgPool2d(2, { countIncludePad: 'no' as unknown as boolean })).toThrow(
      "AvgPool2d(2): countIncludePad must be true or false, got 'no'",
    );
    expect(() => new AvgPool2d(2, { stride: [1, 0] })).toThrow(/stride must be an integer >= 1 or a pair .* got \[1, 0\]/);
    expect(() => new AvgPool2d(2, { count_include_pad: false } as object)).toThrow(
      "AvgPool2d(2): unknown option 'count_include_pad'; expected one of 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'",
    );
  });

  it('rejects backward before forward and a gradient of the wrong shape or dtype', () => {
    const pool = new AvgPool2d(2);
    expect(() => pool.backward(zeros([1, 1, 1, 1]))).toThrow(/^AvgPool2d\(kernelSize: \[2, 2\]\): backward\(\) called before forward\(\)/);
    pool.forward(zeros([1, 1, 4, 4], { dtype: 'float64' }));
    expect(() => pool.backward(zeros([1, 2, 2], { dtype: 'float64' }))).toThrow(ShapeError);
    expect(() => pool.backward(zeros([1, 1, 2, 2]))).toThrow(
      'AvgPool2d(kernelSize: [2, 2]).backward: outputGrad has dtype float32, expected float64 (the dtype of the last forward output)',
    );
    expect(() => pool.backward(zeros([1, 1, 2, 2]))).toThrow(DTypeError);
  });
});
