import { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, type NeuralLayer } from '@backprop/layers';
import { manualSeed, randn } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/export';
import { expectSameInOrt } from './helpers';

/** A few training-mode batches, so the running statistics are not the initial 0 and 1. */
function trained<L extends NeuralLayer>(layer: L, shape: number[]): L {
  const rng = manualSeed(3);
  for (let i = 0; i < 3; i++) layer.forward(randn(shape, { rng }));
  return layer;
}

describe('normalisation in ONNX Runtime', () => {
  it('BatchNorm2d and BatchNorm1d with their running statistics', async () => {
    await expectSameInOrt(trained(new BatchNorm2d(3), [4, 3, 5, 5]), { inputShape: [3, 5, 5] }, 'BatchNorm2d');
    await expectSameInOrt(trained(new BatchNorm2d(3, { affine: false, eps: 1e-3 }), [4, 3, 5, 5]), { inputShape: [3, 5, 5] }, 'BatchNorm2d no affine');
    await expectSameInOrt(trained(new BatchNorm1d(6), [8, 6]), { inputShape: [6] }, 'BatchNorm1d [N, C]');
    await expectSameInOrt(trained(new BatchNorm1d(6), [8, 6, 4]), { inputShape: [6, 4] }, 'BatchNorm1d [N, C, L]');
  });

  it('a BatchNorm without running statistics normalizes with the batch’s own, as torch in eval mode', async () => {
    const bn = new BatchNorm2d(3, { trackRunningStats: false });
    bn.weight?.value.data.set(randn([3], { rng: manualSeed(8) }).data);
    await expectSameInOrt(bn, { inputShape: [3, 4, 5] }, 'BatchNorm2d batch statistics');
    await expectSameInOrt(new BatchNorm1d(4, { trackRunningStats: false, affine: false }), { inputShape: [4] }, 'BatchNorm1d batch statistics');
    expect(() => exportOnnx(new BatchNorm1d(3), { inputShape: [4] })).toThrow(/the model \(BatchNorm1d\): expected \[N, C\] or \[N, C, L\] with C = 3, got \[batch, 4\]/);
    expect(() => exportOnnx(new BatchNorm1d(3), { inputShape: [3, 2, 2] })).toThrow(/got \[batch, 3, 2, 2\]/);
  });

  it('LayerNorm over one and two dimensions, with and without affine parameters', async () => {
    const ln = new LayerNorm(6);
    // Not the initial ones and zeros, so a swapped scale and bias would show.
    ln.weight?.value.data.set(randn([6], { rng: manualSeed(4) }).data);
    ln.bias?.value.data.set(randn([6], { rng: manualSeed(5) }).data);
    await expectSameInOrt(ln, { inputShape: [5, 6] }, 'LayerNorm');
    await expectSameInOrt(new LayerNorm([5, 6], { eps: 1e-3 }), { inputShape: [5, 6] }, 'LayerNorm 2-D');
    await expectSameInOrt(new LayerNorm(6, { elementwiseAffine: false }), { inputShape: [6] }, 'LayerNorm no affine');
  });

  it('GroupNorm', async () => {
    const gn = new GroupNorm(2, 6);
    gn.weight?.value.data.set(randn([6], { rng: manualSeed(6) }).data);
    gn.bias?.value.data.set(randn([6], { rng: manualSeed(7) }).data);
    await expectSameInOrt(gn, { inputShape: [6, 4, 3] }, 'GroupNorm');
    await expectSameInOrt(new GroupNorm(3, 6, { affine: false }), { inputShape: [6, 5] }, 'GroupNorm no affine');
    await expectSameInOrt(new GroupNorm(3, 6, { affine: false }), { inputShape: [6, 5], opset: 18 }, 'GroupNorm opset 18');
  });
});
