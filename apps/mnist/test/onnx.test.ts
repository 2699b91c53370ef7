import { prepareData } from '@backprop/data/mnist/node';
import { TorchGenerator, argmax, array, narrow } from '@backprop/ndarray';
import { assertClose } from '@backprop/ndarray/test';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { architectureFor, buildModel } from '../src/models';
import { encodeOnnx } from '../src/onnx';

const { test, normalization } = prepareData();
const count = 500;

describe('the MNIST models exported to ONNX give the same logits in ONNX Runtime, on real test digits', () => {
  for (const name of ['mlp', 'cnn'] as const) {
    it(name, async () => {
      const architecture = architectureFor(name);
      const model = buildModel(architecture, new TorchGenerator(0)).eval();
      const pixels = narrow(test.inputs, 0, count).reshape([count, ...architecture.inputShape]);
      const expected = model.forward(pixels);

      const session = await ort.InferenceSession.create(encodeOnnx(model, { architecture, normalization }));
      const { logits } = await session.run({ pixels: new ort.Tensor('float32', Float32Array.from(pixels.data), [...pixels.shape]) });
      const actual = array(Array.from(logits.data as Float32Array)).reshape([...logits.dims]);
      assertClose(actual, expected, `${name} logits`);
      expect(Array.from(argmax(actual, 1).data)).toEqual(Array.from(argmax(expected, 1).data));
      expect(session.inputMetadata[0]).toMatchObject({ name: 'pixels', shape: ['batch', ...architecture.inputShape] });
    });
  }
});
