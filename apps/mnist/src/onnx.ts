import type { Sequential } from '@backprop/layers';
import { exportOnnx } from '@backprop/onnx';
import type { Architecture } from './models';
import type { Normalization } from '@backprop/data/mnist';

/**
 * The trained model as ONNX bytes (`--export-onnx` writes them to `model.onnx`):
 * input `pixels`, standardized digits [batch, ...inputShape] ((pixel/255 − mean)/std,
 * the mean and std in the metadata, as in `model.safetensors`); output
 * `logits` [batch, 10].
 */
export function encodeOnnx(model: Sequential, metadata: { architecture: Architecture; normalization: Normalization }): Uint8Array {
  return exportOnnx(model, {
    inputShape: metadata.architecture.inputShape,
    inputName: 'pixels',
    outputName: 'logits',
    metadata: { architecture: JSON.stringify(metadata.architecture), normalization: JSON.stringify(metadata.normalization) },
  });
}
