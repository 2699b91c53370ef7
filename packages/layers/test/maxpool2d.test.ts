import { DTypeError, ShapeError, TorchGenerator, ValueError, array, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { MaxPool2d, type Size2d, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectClose, loadFixture, toArray } from './helpers';

interface MaxPoolCase extends LayerCase {
  name: string;
  kernelSize: Size2d;
  stride: Size2d;
  padding: Size2d;
  ceilMode: boolean;
}

const { cases } = loadFixture<{ cases: MaxPoolCase[] }>('maxpool2d');

describe('MaxPool2d against torch.nn.MaxPool2d', () => {
  it.each(cases.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const pool = new MaxPool2d(c.kernelSize, { stride: c.stride, padding: c.padding, ceilMode: c.ceilMode });
    expectClose(pool.forward(toArray(c.input)), c.output, `${label} output`);
    expectClose(pool.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    expect(pool.parameters()).toEqual([]);
  });

  it('the fixtures include windows with tied maxima', () => {
    const tied = cases.filter((c) => c.name.startsWith('ties'));
    expect(tied.length).toBeGreaterThan(0);
    for (const c of tied) expect(new Set(c.input.data).size).toBeLessThan(c.input.data.length / 4);
  });
});

describe('MaxPool2d gradcheck (random inputs: no ties)', () => {
  it.each([
    ['k=2, batch 2, channels 3', 2, {}, [2, 3, 4, 6]],
    ['k=3 s=2 p=1', 3, { stride: 2, padding: 1 }, [1, 2, 5, 6]],
    ['overlapping k=3 s=1 p=1', 3, { stride: 1, padding: 1 }, [1, 2, 4, 5]],
    ['k=[2, 3] s=[1, 2]', [2, 3], { stride: [1, 2] }, [1, 2, 4, 7]],
    ['ceil mode', 3, { stride: 2, padding: 1, ceilMode: true }, [1, 2, 6, 6]],
    ['unbatched input', 2, { stride: 1 }, [3, 3, 4]],
  ] as const)('%s', (_, kernel, options, shape) => {
    const pool = new MaxPool2d(kernel as Size2d, options);
    const result = gradcheck(pool, randn([...shape], { dtype: 'float64', rng: new TorchGenerator(9) }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});

describe('MaxPool2d behaviour', () => {
  it('computes output sizes as torch', () => {
    expect(new MaxPool2d(2).forward(zeros([4, 8, 28, 28])).shape).toEqual([4, 8, 14, 14]);
    expect(new MaxPool2d(2).forward(zeros([1, 1, 5, 5])).shape).toEqual([1, 1, 2, 2]);
    expect(new MaxPool2d(2, { ceilMode: true }).forward(zeros([1, 1, 5, 5])).shape).toEqual([1, 1, 3, 3]);
    expect(new MaxPool2d(3, { stride: 2, padding: 1 }).forward(zeros([1, 1, 6, 6])).shape).toEqual([1, 1, 3, 3]);
    expect(new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }).forward(zeros([1, 1, 6, 6])).shape).toEqual([
      1, 1, 4, 4,
    ]);
    // Ceil mode keeps a window that starts inside the input even when it hangs past the padding.
    expect(new MaxPool2d(3, { stride: 2, ceilMode: true }).forward(zeros([1, 1, 2, 2])).shape).toEqual([1, 1, 1, 1]);
    // ...and drops one that would start in the right padding: ⌈(5 + 2 − 2) / 3⌉ + 1 = 3 becomes 2.
    expect(new MaxPool2d(2, { stride: 3, padding: 1, ceilMode: true }).forward(zeros([1, 1, 5, 5])).shape).toEqual([
      1, 1, 2, 2,
    ]);
    expect(new MaxPool2d([2, 3], { stride: [1, 2] }).forward(zeros([2, 4, 7])).shape).toEqual([2, 3, 3]);
    expect(new MaxPool2d(2).forward(zeros([0, 3, 4, 4])).shape).toEqual([0, 3, 2, 2]);
  });

  it('sends a tied window gradient to the first maximum in row-major order, adding over overlapping windows', () => {
    const pool = new MaxPool2d(2, { stride: 1 });
    // Every 2×2 window of [[1, 2, 2], [2, 1, 2]] holds two 2s: torch picks the first, index 1 both times.
    const out = pool.forward(array([[[[1, 2, 2], [2, 1, 2]]]], { dtype: 'float64' }));
    expect(Array.from(out.data)).toEqual([2, 2]);
    expect(Array.from(pool.backward(array([[[[10, 100]]]], { dtype: 'float64' })).data)).toEqual([0, 110, 0, 0, 0, 0]);
  });

  it('propagates NaN: a NaN is the maximum, and the gradient goes to the last NaN of the window (torch CPU)', () => {
    const pool = new MaxPool2d(2);
    const out = pool.forward(array([[[[1, Number.NaN, 3, Number.NaN], [2, 5, Number.NaN, 0]]]], { dtype: 'float64' }));
    expect(Array.from(out.data)).toEqual([Number.NaN, Number.NaN]);
    expect(Array.from(pool.backward(array([[[[1, 10]]]], { dtype: 'float64' })).data)).toEqual([0, 1, 0, 0, 0, 0, 10, 0]);
  });

  it('treats padding as −∞: an all −∞ window sends its gradient to its first input', () => {
    const pool = new MaxPool2d(2, { padding: 1 });
    const inf = Number.NEGATIVE_INFINITY;
    expect(Array.from(pool.forward(array([[[[inf, inf], [inf, inf]]]])).data)).toEqual([inf, inf, inf, inf]);
    expect(Array.from(pool.backward(array([[[[1, 2], [3, 4]]]])).data)).toEqual([1, 2, 3, 4]);
    const overlapping = new MaxPool2d(2, { stride: 1 });
    expect(Array.from(overlapping.forward(array([[[[inf, inf, inf], [inf, inf, inf]]]])).data)).toEqual([inf, inf]);
    expect(Array.from(overlapping.backward(array([[[[1, 2]]]])).data)).toEqual([1, 2, 0, 0, 0, 0]);
    // Negative inputs beat the padding.
    expect(Array.from(pool.forward(array([[[[-5, -6], [-7, -8]]]])).data)).toEqual([-5, -6, -7, -8]);
  });

  it('keeps the input dtype', () => {
    const pool = new MaxPool2d(2);
    expect(pool.forward(zeros([1, 1, 2, 2])).dtype).toBe('float32');
    expect(pool.forward(zeros([1, 1, 2, 2], { dtype: 'float64' })).dtype).toBe('float64');
    expect(pool.backward(zeros([1, 1, 1, 1], { dtype: 'float64' })).dtype).toBe('float64');
  });

  it('names itself with the options that differ from the defaults', () => {
    expect(String(new MaxPool2d(2))).toBe('MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)');
    expect(String(new MaxPool2d([3, 2], { stride: 1, padding: [1, 0], ceilMode: true }))).toBe(
      'MaxPool2d(kernel_size=(3, 2), stride=1, padding=(1, 0), dilation=1, ceil_mode=True)',
    );
    // Errors name it by the options that differ from the defaults.
    expect(() => new MaxPool2d([3, 2], { stride: 1 }).forward(zeros([4]))).toThrow(/^MaxPool2d\(kernelSize: \[3, 2\], stride: \[1, 1\]\): expected a 4-D input/);
    const pool = new MaxPool2d(3, { stride: 2 });
    expect([pool.kernelSize, pool.stride, pool.padding, pool.ceilMode]).toEqual([[3, 3], [2, 2], [0, 0], false]);
  });
});

describe('MaxPool2d errors', () => {
  it('rejects input that is not 3-D or 4-D', () => {
    const pool = new MaxPool2d(2);
    expect(() => pool.forward(zeros([4, 4]))).toThrow(ShapeError);
    expect(() => pool.forward(zeros([4, 4]))).toThrow(
      'MaxPool2d(kernelSize: [2, 2]): expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got [4, 4]',
    );
    expect(() => pool.forward(zeros([1, 1, 1, 4, 4]))).toThrow(/expected a 4-D input .* got \[1, 1, 1, 4, 4\]/);
    expect(() => pool.forward([[1, 2]] as never)).toThrow('MaxPool2d(kernelSize: [2, 2]): input must be an NDArray, got an array of length 1');
  });

  it('rejects empty channels, height or width', () => {
    expect(() => new MaxPool2d(1).forward(zeros([1, 0, 4, 4]))).toThrow(
      'MaxPool2d(kernelSize: [1, 1]): expected an input with non-zero channels, height and width (only the batch may be empty), got [1, 0, 4, 4]',
    );
    expect(() => new MaxPool2d(1).forward(zeros([0, 4, 4]))).toThrow(ShapeError);
  });

  it('rejects a kernel larger than the padded input', () => {
    expect(() => new MaxPool2d(3).forward(zeros([1, 1, 2, 4]))).toThrow(
      'MaxPool2d(kernelSize: [3, 3]): input [1, 1, 2, 4] padded to 2×4 is smaller than the kernel 3×3',
    );
    expect(() => new MaxPool2d([2, 5], { padding: [1, 1] }).forward(zeros([3, 4, 2]))).toThrow(
      /input \[3, 4, 2\] padded to 6×4 is smaller than the kernel 2×5/,
    );
  });

  it('rejects padding above half the kernel, as torch', () => {
    expect(() => new MaxPool2d(3, { padding: 2 })).toThrow(ValueError);
    expect(() => new MaxPool2d(3, { padding: 2 })).toThrow(
      'MaxPool2d(3): padding must be at most half the kernel size in each dimension (as torch requires), got padding [2, 2] for kernelSize [3, 3]',
    );
    expect(() => new MaxPool2d([4, 1], { padding: [2, 1] })).toThrow(/got padding \[2, 1\] for kernelSize \[4, 1\]/);
    expect(() => new MaxPool2d([4, 2], { padding: [2, 1] })).not.toThrow();
  });

  it('rejects bad sizes, a non-boolean ceilMode and unknown options', () => {
    expect(() => new MaxPool2d(0)).toThrow(
      'MaxPool2d(0): kernelSize must be an integer >= 1 or a pair [height, width] of them, got 0',
    );
    expect(() => new MaxPool2d([2, 2, 2] as unknown as Size2d)).toThrow(/kernelSize must be .* got \[2, 2, 2\]/);
    expect(() => new MaxPool2d(2, { stride: 0 })).toThrow(/stride must be an integer >= 1 or a pair .* got 0/);
    expect(() => new MaxPool2d(2, { padding: -1 })).toThrow(/padding must be an integer >= 0 or a pair .* got -1/);
    expect(() => new MaxPool2d(2, { stride: 1.5 })).toThrow(/stride must be an integer >= 1 .* got 1.5/);
    expect(() => new MaxPool2d(2, { ceilMode: 1 as unknown as boolean })).toThrow(
      'MaxPool2d(2): ceilMode must be true or false, got 1',
    );
    expect(() => new MaxPool2d(2, { dilation: 2 } as object)).toThrow(
      "MaxPool2d(2): unknown option 'dilation'; expected one of 'stride', 'padding', 'ceilMode'",
    );
  });

  it('rejects backward before forward and a gradient of the wrong shape or dtype', () => {
    const pool = new MaxPool2d(2);
    expect(() => pool.backward(zeros([1, 1, 1, 1]))).toThrow(
      'MaxPool2d(kernelSize: [2, 2]): backward() called before forward()',
    );
    pool.forward(zeros([1, 1, 4, 4]));
    expect(() => pool.backward(zeros([1, 1, 4, 4]))).toThrow(
      'MaxPool2d(kernelSize: [2, 2]).backward: outputGrad has shape [1, 1, 4, 4], expected the shape of the last forward output [1, 1, 2, 2]',
    );
    expect(() => pool.backward(zeros([1, 1, 2, 2], { dtype: 'float64' }))).toThrow(DTypeError);
  });
});
