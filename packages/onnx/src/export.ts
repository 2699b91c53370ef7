import type { NeuralLayer } from '@backprop/layers';
import { ValueError, checkChoice, checkOptions, describe } from '@backprop/ndarray';
import { OnnxExportError } from './errors';
import { BASIC_EXPORTERS } from './exporters/basic';
import { CONV_EXPORTERS } from './exporters/conv';
import { NORM_EXPORTERS } from './exporters/norm';
import { SEQUENCE_EXPORTERS } from './exporters/sequence';
import { STRUCTURE_EXPORTERS } from './exporters/structure';
import { type Dim, type ExporterMap, OnnxGraph, type OnnxValue } from './graph';
import { ELEMENT_TYPES, type ElementType, onnx } from './proto';

/** The opsets this package writes: 17 (LayerNormalization's first) and 18 (reductions take axes as an input). */
export const OPSETS = [17, 18] as const;
export type Opset = (typeof OPSETS)[number];

export interface ExportOnnxOptions {
  /**
   * The shape of ONE input sample; the graph's input is `['batch', ...inputShape]`
   * with the batch dimension left dynamic. A string names another dynamic
   * dimension, e.g. `['sequence']` for token ids of any length.
   */
  inputShape: readonly Dim[];
  /** The input's element type: `'float32'` (the default), or `'int64'`/`'int32'` for token ids. */
  inputType?: 'float32' | 'int64' | 'int32';
  /** The ONNX opset: 17 (the default) or 18. */
  opset?: Opset;
  /** The graph's input and output names (default `'input'` and `'output'`). */
  inputName?: string;
  outputName?: string;
  /** Exporters for layer classes this package does not know (your own layers and models), tried first. */
  exporters?: ExporterMap;
  /** Written into the model's `doc_string`. */
  docString?: string;
  /** Key-value pairs for the model's `metadata_props` (what ONNX Runtime's `session.handler.metadata` and Netron show): vocabularies, normalisation, versions. */
  metadata?: Readonly<Record<string, string>>;
}

/** Every layer of `@backprop/layers` that has an ONNX form. */
export const EXPORTERS: ExporterMap = new Map([
  ...BASIC_EXPORTERS,
  ...CONV_EXPORTERS,
  ...NORM_EXPORTERS,
  ...STRUCTURE_EXPORTERS,
  ...SEQUENCE_EXPORTERS,
]);

const KNOWN = ['inputShape', 'inputType', 'opset', 'inputName', 'outputName', 'exporters', 'docString', 'metadata'];

/**
 * The model as the bytes of an ONNX file: its `forward` in eval mode (dropout
 * off, batch norm on running statistics), float32, with a dynamic batch
 * dimension, every parameter and buffer an initializer under its state-dict
 * name. The model is not changed. A layer with no exporter, or an option ONNX
 * cannot express, is an {@link OnnxExportError} that names the layer.
 *
 * @example
 * const bytes = exportOnnx(model, { inputShape: [784] });
 * writeFileSync('model.onnx', bytes);
 * // then, in ONNX Runtime:
 * const session = await ort.InferenceSession.create(bytes);
 * const { output } = await session.run({ input: new ort.Tensor('float32', pixels, [1, 784]) });
 */
export function exportOnnx(model: NeuralLayer, options: ExportOnnxOptions): Uint8Array {
  checkOptions('exportOnnx', options, KNOWN);
  if (options === undefined || options === null) throw new ValueError('exportOnnx: options with an inputShape are required, e.g. { inputShape: [784] }');
  const { inputShape } = options;
  if (!Array.isArray(inputShape) || !inputShape.every((d) => (Number.isInteger(d) && (d as number) > 0) || (typeof d === 'string' && d !== ''))) {
    throw new ValueError(`exportOnnx: inputShape must be an array of positive integers or dimension names (one sample, without the batch), got ${describe(inputShape)}`);
  }
  const inputType: ElementType = checkChoice('exportOnnx', 'inputType', options.inputType ?? 'float32', ['float32', 'int64', 'int32']);
  const opset = options.opset ?? 17;
  if (!OPSETS.includes(opset)) throw new ValueError(`exportOnnx: opset must be one of ${OPSETS.join(', ')}, got ${describe(opset)}`);
  if (options.exporters !== undefined && !(options.exporters instanceof Map)) {
    throw new ValueError(`exportOnnx: exporters must be a Map from layer classes to exporters, got ${describe(options.exporters)}`);
  }
  const metadata = options.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata) || ![Object.prototype, null].includes(Object.getPrototypeOf(metadata))) {
    throw new ValueError(`exportOnnx: metadata must be a plain object of strings, got ${describe(metadata)}`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new ValueError(`exportOnnx: metadata values must be strings, got ${describe(value)} for '${key}'`);
  }
  if (options.docString !== undefined && typeof options.docString !== 'string') {
    throw new ValueError(`exportOnnx: docString must be a string, got ${describe(options.docString)}`);
  }
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const exporters: ExporterMap = new Map([...EXPORTERS, ...(options.exporters ?? new Map())]);
  const graph = new OnnxGraph(model, opset, exporters);
  for (const [option, name] of [['inputName', inputName], ['outputName', outputName]] as const) {
    if (typeof name !== 'string' || name === '') throw new ValueError(`exportOnnx: ${option} must be a non-empty string, got ${describe(name)}`);
    if (graph.isWeightName(name)) throw new ValueError(`exportOnnx: ${option} '${name}' is the name of one of the model's weights; choose another`);
  }
  if (inputName === outputName) throw new ValueError(`exportOnnx: inputName and outputName are both '${inputName}'`);

  const input = graph.input(inputName, ['batch', ...inputShape], inputType);
  graph.reserve(outputName);
  const result = graph.layer(model, input);
  if (result.type !== 'float32') throw new OnnxExportError(`exportOnnx: the model's output is ${result.type}, expected float32`);
  const output = graph.op('Identity', [result], { shape: result.shape, output: outputName });

  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: '@backprop/onnx',
    opsetImport: [{ domain: '', version: opset }],
    docString: options.docString ?? '',
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: model.typeName,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(inputName, input)],
      output: [valueInfo(outputName, output)],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

function valueInfo(name: string, value: OnnxValue) {
  const dim = value.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ELEMENT_TYPES[value.type], shape: { dim } } } };
}
