/**
 * @backprop/onnx: exports `@backprop/layers` models to ONNX for ONNX Runtime
 * (Node, browsers, servers) and every other ONNX engine.
 */
export { exportOnnx, EXPORTERS, OPSETS, type ExportOnnxOptions, type Opset } from './export';
export {
  OnnxGraph,
  broadcastDims,
  exporter,
  type Dim,
  type ExporterEntry,
  type ExporterMap,
  type LayerClass,
  type LayerExporter,
  type NodeOptions,
  type OnnxValue,
} from './graph';
export {
  multiheadAttention,
  transformerEncoderLayer,
  transformerEncoder,
  recurrent,
  causalMask,
  type AttentionExportOptions,
} from './exporters/sequence';
export { linear, gelu } from './exporters/basic';
export { OnnxExportError } from './errors';
export { float, floats, strings, type AttributeValue, type ElementType } from './proto';
