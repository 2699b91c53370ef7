import { AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d } from '@backprop/layers';
import { manualSeed, randn } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/export';
import { expectSameInOrt } from './helpers';

const rng = () => manualSeed(1);

describe('convolutions and pooling in ONNX Runtime', () => {
  it.each([
    ['Conv2d 3x3', () => new Conv2d(3, 4, 3, { rng: rng() })],
    ['Conv2d stride 2 padding 1 no bias', () => new Conv2d(3, 4, 3, { stride: 2, padding: 1, bias: false, rng: rng() })],
    ['Conv2d dilation 2 groups 3', () => new Conv2d(3, 6, [3, 2], { dilation: 2, groups: 3, rng: rng() })],
    ["Conv2d padding 'same' (even kernel: one more zero after)", () => new Conv2d(3, 2, 4, { padding: 'same', rng: rng() })],
    ["Conv2d padding 'valid'", () => new Conv2d(3, 2, 2, { padding: 'valid', rng: rng() })],
    ['ConvTranspose2d stride 2 output padding 1', () => new ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1, rng: rng() })],
    ['ConvTranspose2d groups 3 dilation 2', () => new ConvTranspose2d(3, 6, 2, { groups: 3, dilation: 2, rng: rng() })],
    ['ConvTranspose2d output padding not below the stride', () => new ConvTranspose2d(3, 2, 3, { dilation: 2, outputPadding: 1, rng: rng() })],
    ['ConvTranspose2d output padding 2 beyond padding 1', () => new ConvTranspose2d(3, 2, 3, { dilation: 3, padding: 1, outputPadding: 2, rng: rng() })],
    ['ConvTranspose2d output padding within the padding, no bias', () => new ConvTranspose2d(3, 2, 3, { stride: 2, padding: 2, outputPadding: 1, bias: false, rng: rng() })],
    ['MaxPool2d 2', () => new MaxPool2d(2)],
    ['MaxPool2d 3 stride 2 padding 1 ceil', () => new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true })],
    ['AvgPool2d 2', () => new AvgPool2d(2)],
    ['AvgPool2d 3 stride 2 padding 1', () => new AvgPool2d(3, { stride: 2, padding: 1 })],
    ['AvgPool2d padding 1 not counted', () => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false })],
    ['AvgPool2d ceil mode', () => new AvgPool2d(2, { stride: 2, ceilMode: true })],
    ['MaxPool2d ceil mode whose last window would start in the padding (torch drops it)', () => new MaxPool2d(3, { stride: 3, padding: 1, ceilMode: true })],
    ['AvgPool2d ceil mode, padding counted', () => new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true })],
    ['AvgPool2d ceil mode, padding not counted', () => new AvgPool2d(3, { stride: 3, padding: 1, ceilMode: true, countIncludePad: false })],
    ['AvgPool2d divisorOverride', () => new AvgPool2d(2, { padding: 1, divisorOverride: 3 })],
    ['AdaptiveAvgPool2d 1', () => new AdaptiveAvgPool2d(1)],
    ['AdaptiveAvgPool2d uneven windows 4×5', () => new AdaptiveAvgPool2d([4, 5])],
    ['AdaptiveAvgPool2d [3, null]', () => new AdaptiveAvgPool2d([3, null])],
  ])('%s', async (label, make) => {
    await expectSameInOrt(make(), { inputShape: [3, 9, 7] }, label);
  });

  it('Conv1d with padding and groups', async () => {
    await expectSameInOrt(new Conv1d(4, 6, 3, { padding: 2, groups: 2, stride: 2, rng: rng() }), { inputShape: [4, 11] }, 'Conv1d');
    await expectSameInOrt(new Conv1d(4, 2, 4, { padding: 'same', rng: rng() }), { inputShape: [4, 9] }, "Conv1d 'same'");
  });

  it('refuses an input it cannot size, naming the layer', () => {
    expect(() => exportOnnx(new AdaptiveAvgPool2d(3), { inputShape: [1, 'height', 'width'] })).toThrow(
      /the model \(AdaptiveAvgPool2d\): an output of 3×3 needs the input's pooled sizes fixed/,
    );
    expect(() => exportOnnx(new MaxPool2d(2, { ceilMode: true }), { inputShape: [1, 'height', 8] })).toThrow(/the model \(MaxPool2d\): ceilMode needs/);
    expect(() => exportOnnx(new Conv2d(3, 2, 3), { inputShape: [4, 8, 8] })).toThrow(/the model \(Conv2d\): expected 3 input channels, got \[batch, 4, 8, 8\]/);
  });

  it('an AdaptiveAvgPool2d keeps a dimension given as null at any size', async () => {
    const x = randn([2, 3, 6, 5], { rng: manualSeed(4) });
    await expectSameInOrt(new AdaptiveAvgPool2d([4, null]), { inputShape: [3, 6, 'width'] }, 'AdaptiveAvgPool2d [4, null] symbolic', x);
    await expectSameInOrt(new AdaptiveAvgPool2d([null, null]), { inputShape: [3, 'height', 'width'] }, 'AdaptiveAvgPool2d [null, null]', x);
  });

  it('a Conv2d with a symbolic image size still runs at any size', async () => {
    const conv = new Conv2d(3, 4, 3, { padding: 1, rng: rng() });
    await expectSameInOrt(conv, { inputShape: [3, 'height', 'width'] }, 'Conv2d symbolic', randn([2, 3, 6, 5], { rng: manualSeed(3) }));
  });
});
