import { Dense, Dropout, ELU, Flatten, GELU, Identity, LeakyReLU, Linear, LogSoftmax, Mish, ReLU, SiLU, Sequential, Sigmoid, Softmax, Softplus, Tanh } from '@backprop/layers';
import { manualSeed } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/export';
import { expectSameInOrt } from './helpers';

const rng = () => manualSeed(0);

describe('dense layers and activations in ONNX Runtime', () => {
  it('Linear as Gemm on a batch of vectors, and as MatMul + Add on a batch of sequences', async () => {
    await expectSameInOrt(new Linear(5, 4, { rng: rng() }), { inputShape: [5] }, 'Linear 2-D');
    await expectSameInOrt(new Linear(5, 4, { rng: rng() }), { inputShape: [6, 5] }, 'Linear 3-D');
    await expectSameInOrt(new Linear(5, 4, { bias: false, rng: rng() }), { inputShape: [2, 6, 5] }, 'Linear no bias 4-D');
  });

  it('Dense with each activation', async () => {
    for (const activation of ['relu', 'tanh', 'sigmoid', 'none'] as const) {
      await expectSameInOrt(new Dense(5, 3, { activation, rng: rng() }), { inputShape: [5] }, `Dense ${activation}`);
    }
  });

  it.each([
    ['ReLU', () => new ReLU()],
    ['Tanh', () => new Tanh()],
    ['Sigmoid', () => new Sigmoid()],
    ['LeakyReLU', () => new LeakyReLU(0.2)],
    ['ELU', () => new ELU({ alpha: 0.7 })],
    ['GELU', () => new GELU()],
    ['GELU tanh', () => new GELU({ approximate: 'tanh' })],
    ['SiLU', () => new SiLU()],
    ['Softplus', () => new Softplus()],
    ['Softplus beta 2 threshold 1', () => new Softplus({ beta: 2, threshold: 1 })],
    ['Mish', () => new Mish()],
    ['Softmax', () => new Softmax({ dim: -1 })],
    ['Softmax dim 1', () => new Softmax({ dim: 1 })],
    ['LogSoftmax', () => new LogSoftmax({ dim: 1 })],
    ['Identity', () => new Identity()],
    ['Dropout (inference)', () => new Dropout(0.5)],
  ])('%s', async (label, make) => {
    await expectSameInOrt(new Sequential(new Linear(4, 6, { rng: rng() }), make()), { inputShape: [3, 4] }, label);
  });

  it('a Softmax dim that is not a dimension of the input is refused at export', () => {
    expect(() => exportOnnx(new Softmax({ dim: 3 }), { inputShape: [4, 5] })).toThrow(
      /the model \(Softmax\): dim 3 is not a dimension of an input of rank 3 \(\[batch, 4, 5\]\); expected -3 to 2/,
    );
  });

  it('Flatten over every pair of dimensions', async () => {
    for (const [start, end] of [[1, -1], [1, 2], [2, 3], [0, 1], [-2, -1], [0, -1]]) {
      await expectSameInOrt(new Flatten(start, end), { inputShape: [2, 3, 4] }, `Flatten(${start}, ${end})`);
    }
  });
});
