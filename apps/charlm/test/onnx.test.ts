import { Vocabulary, encodeNames } from '@backprop/data/names';
import { type NDArray, TorchGenerator, array } from '@backprop/ndarray';
import { assertClose } from '@backprop/ndarray/test';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Bigram, buildModel, configFor } from '../src/models';
import { exportModel } from '../src/onnx';

const NAMES = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'mia', 'charlotte', 'amelia', 'evelyn', 'abigail'];
const vocab = Vocabulary.of(NAMES);
const blockSize = 12;

/** ids [B, T] of a few names, cut to T. */
function someIds(length: number): NDArray {
  const { x } = encodeNames(NAMES.slice(0, 3), vocab, blockSize);
  return array(Array.from({ length: 3 }, (_, b) => Array.from(x.data.slice(b * blockSize, b * blockSize + length))), { dtype: 'int32' });
}

async function logitsInOrt(bytes: Uint8Array, ids: NDArray): Promise<NDArray> {
  const session = await ort.InferenceSession.create(bytes);
  const feed = new ort.Tensor('int64', BigInt64Array.from(Array.from(ids.data, (v) => BigInt(v))), [...ids.shape]);
  const { logits } = await session.run({ ids: feed });
  return array(Array.from(logits.data as Float32Array)).reshape([...logits.dims]);
}

describe('the default models exported to ONNX give the same logits in ONNX Runtime', () => {
  for (const name of ['bigram', 'mlp', 'lstm', 'transformer'] as const) {
    it(`${name}, at the full block and a shorter prefix, from one file`, async () => {
      const model = buildModel(configFor(name, vocab.size, blockSize), { rng: new TorchGenerator(1) });
      if (model instanceof Bigram) {
        const { x, y } = encodeNames(NAMES, vocab, blockSize);
        model.fit(x, y);
      }
      const bytes = exportModel(model, vocab);
      for (const length of [blockSize, 3]) {
        const ids = someIds(length);
        const expected = model.forward(ids);
        const actual = await logitsInOrt(bytes, ids);
        expect(actual.shape).toEqual([3, length, vocab.size]);
        assertClose(actual, expected, `${name} T=${length}`);
      }
    });
  }

  it('takes int64 ids of any length as input `ids` and gives `logits`', async () => {
    const model = buildModel(configFor('bigram', vocab.size, blockSize));
    const session = await ort.InferenceSession.create(exportModel(model, vocab));
    expect(session.inputMetadata[0]).toMatchObject({ name: 'ids', type: 'int64', shape: ['batch', 'sequence'] });
    expect(session.outputNames).toEqual(['logits']);
  });
});
