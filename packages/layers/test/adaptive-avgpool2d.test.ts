import { DTypeError, ShapeError, Slot, TorchGenerator, ValueError, mean, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { AdaptiveAvgPool2d, type AdaptiveSize2d } from '../src/adaptive-avgpool2d';
import { AvgPool2d } from '../src/avgpool2d';
import { gradcheck } from '../src/gradcheck';
import { type LayerCase, caseLabel, expectClose, loadFixture, toArray } from './helpers';

interface AdaptiveCase extends LayerCase {
  name: string;
  outputSize: number | [number | null, number | null];
}

const fixture = loadFixture<{ adaptiveAvgPool2d: AdaptiveCase[]; repr: Record<string, string> }>('conv-more');

describe('AdaptiveAvgPool2d against torch.nn.AdaptiveAvgPool2d', () => {
  it.each(fixture.adaptiveAvgPool2d.map((c) => [caseLabel({ case: c.name, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new AdaptiveAvgPool2d(c.outputSize);
    expectClose(layer.forward(toArray(c.input)), c.output, `${label} output`);
    expectClose(layer.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
  });
});

describe('AdaptiveAvgPool2d prints as torch', () => {
  const made: Record<string, AdaptiveAvgPool2d> = {
    'AdaptiveAvgPool2d((2, 3))': new AdaptiveAvgPool2d([2, 3]),
    'AdaptiveAvgPool2d(5)': new AdaptiveAvgPool2d(5),
    'AdaptiveAvgPool2d((None, 7))': new AdaptiveAvgPool2d([null, 7]),
  };
  it.each(Object.entries(made))('%s', (name, layer) => {
    expect(String(layer)).toBe(fixture.repr[name]);
  });
});

describe('AdaptiveAvgPool2d gradcheck', () => {
  it.each([
    ['global', 1, [2, 2, 3, 4]],
    ['[3, 4] not dividing 7x6', [3, 4], [1, 2, 7, 6]],
    ['[null, 2]', [null, 2], [2, 1, 3, 5]],
    ['larger than the input', [4, 5], [1, 2, 3, 3]],
    ['unbatched', 2, [2, 5, 3]],
  ] as const)('%s', (_, size, shape) => {
    const rng = new TorchGenerator(12);
    const result = gradcheck(new AdaptiveAvgPool2d(size as AdaptiveSize2d), randn([...shape], { dtype: 'float64', rng }));
    if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${result.maxRelError.toExponential(2)} ${result.checked} entries ${_}`);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe((shape as readonly number[]).reduce((p, d) => p * d, 1));
  });
});

describe('AdaptiveAvgPool2d behaviour', () => {
  it('is AvgPool2d when the size divides the input, and the mean when it is 1', () => {
    const x = randn([2, 3, 6, 8], { dtype: 'float64', rng: new TorchGenerator(13) });
    expectClose(new AdaptiveAvgPool2d([3, 2]).forward(x), new AvgPool2d([2, 4]).forward(x), 'adaptive [3, 2] vs AvgPool2d([2, 4])');
    expectClose(new AdaptiveAvgPool2d(1).forward(x), mean(x, [2, 3], true), 'global average');
  });

  it('keeps a null dimension and allows an empty output, as torch', () => {
    expect(new AdaptiveAvgPool2d([null, 3]).forward(zeros([2, 4, 5, 7])).shape).toEqual([2, 4, 5, 3]);
    expect(new AdaptiveAvgPool2d([4, null]).forward(zeros([4, 5, 7])).shape).toEqual([4, 4, 7]);
    expect(new AdaptiveAvgPool2d(0).forward(zeros([1, 2, 3, 3])).shape).toEqual([1, 2, 0, 0]);
    expect(new AdaptiveAvgPool2d(2).forward(zeros([0, 2, 3, 3])).shape).toEqual([0, 2, 2, 2]);
  });

  it('follows the input size from call to call, writing into a slot when given one', () => {
    const pool = new AdaptiveAvgPool2d(2);
    const slot = new Slot();
    const a = pool.forward(randn([1, 1, 4, 4], { rng: new TorchGenerator(14) }), { into: slot });
    expect(slot.holds(a)).toBe(true);
    const big = randn([1, 1, 6, 5], { dtype: 'float64', rng: new TorchGenerator(15) });
    const b = pool.forward(big);
    expect(b.shape).toEqual([1, 1, 2, 2]);
    // Rows [0, 3) and [3, 6); columns [0, 3) and [2, 5), overlapping at column 2.
    expect(b.data[0]).toBeCloseTo(windowMean(big, 0, 3, 0, 3), 12);
    expect(b.data[3]).toBeCloseTo(windowMean(big, 3, 6, 2, 5), 12);
    expect(pool.backward(zeros([1, 1, 2, 2], { dtype: 'float64' })).shape).toEqual([1, 1, 6, 5]);
    expect(pool.backward(zeros([1, 1, 2, 2], { dtype: 'float64' }), { inputGrad: false })).toBeUndefined();
  });
});

/** The mean of rows [r0, r1) and columns [c0, c1) of a [1, 1, H, W] array, by hand (the test's reference). */
function windowMean(x: { shape: readonly number[]; data: ArrayLike<number> }, r0: number, r1: number, c0: number, c1: number): number {
  const w = x.shape[3];
  let total = 0;
  for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) total += x.data[r * w + c];
  return total / ((r1 - r0) * (c1 - c0));
}

describe('AdaptiveAvgPool2d errors', () => {
  it('rejects a bad output size', () => {
    expect(() => new AdaptiveAvgPool2d(-1)).toThrow(
      "AdaptiveAvgPool2d(-1): outputSize must be an integer >= 0 or a pair [height, width] of them (null keeps the input's size), got -1",
    );
    expect(() => new AdaptiveAvgPool2d([2, 2, 2] as unknown as AdaptiveSize2d)).toThrow(/got \[2, 2, 2\]/);
    expect(() => new AdaptiveAvgPool2d(null as unknown as number)).toThrow(ValueError);
    expect(() => new AdaptiveAvgPool2d([1.5, 2])).toThrow(/got \[1.5, 2\]/);
  });

  it('rejects bad input and a mismatched gradient', () => {
    const pool = new AdaptiveAvgPool2d([2, 3]);
    expect(() => pool.forward(zeros([3, 3]))).toThrow(
      'AdaptiveAvgPool2d(outputSize: [2, 3]): expected a 4-D input [N, C, H, W] (or an unbatched 3-D [C, H, W]), got [3, 3]',
    );
    expect(() => pool.forward(zeros([1, 2, 0, 3]))).toThrow(ShapeError);
    expect(() => pool.forward(zeros([1, 2, 3, 3], { dtype: 'int32' }))).toThrow(DTypeError);
    expect(() => pool.backward(zeros([1, 2, 2, 3]))).toThrow(/backward\(\) called before forward\(\)/);
    pool.forward(zeros([1, 2, 3, 3]));
    expect(() => pool.backward(zeros([1, 2, 3, 2]))).toThrow(ShapeError);
    expect(() => pool.backward(zeros([1, 2, 2, 3], { dtype: 'float64' }))).toThrow(DTypeError);
  });
});
