import { type DType, TorchGenerator, randn } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { AvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectParamGrads, expectParamsBitwise, expectClose, loadFixture, toArray } from './helpers';

interface CnnCase extends LayerCase {
  seed: number;
}

const { cases } = loadFixture<{ cases: CnnCase[] }>('cnn');

/** tools/torch-fixtures/layers.py's `cnn`: every layer draws from the one generator, in torch's order. */
function cnn(dtype: DType, rng: TorchGenerator): Sequential {
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1, dtype, rng }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(4, 4, 3, { padding: 1, dtype, rng }),
    new ReLU(),
    new AvgPool2d(2),
    new Flatten(),
    new Dropout(0.3, { rng }),
    new Linear(16, 3, { dtype, rng }),
  );
}

describe('a CNN (conv, max pool, avg pool, dropout) against torch, in training mode', () => {
  it.each(cases.map((c) => [caseLabel({ seed: c.seed, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    // One generator seeded as torch.manual_seed: the initial weights, then the dropout mask, as torch draws them.
    const model = cnn(c.dtype, new TorchGenerator(c.seed));
    expectParamsBitwise(model, c.params, label);
    expectClose(model.forward(toArray(c.input)), c.output, `${label} output`);
    expectClose(model.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
    expectParamGrads(model, c.paramGrads, label);
  });

  it('passes gradcheck in eval mode (dropout off)', () => {
    const rng = new TorchGenerator(62);
    const model = cnn('float64', rng).eval();
    const result = gradcheck(model, randn([2, 1, 8, 8], { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });
});
