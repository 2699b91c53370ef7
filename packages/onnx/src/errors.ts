/**
 * A model that cannot be written as ONNX: a layer with no exporter, an option
 * ONNX has no operator for, a weight that is not the model's. The message names
 * the layer by its state-dict path and class.
 */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}
