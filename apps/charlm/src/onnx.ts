/**
 * The four models as ONNX graphs (`@backprop/onnx`): token ids [batch,
 * sequence] (int64, any length up to the block size) to next-character
 * logits [batch, sequence, vocabulary], as each model's `forward`.
 */
import { type ExporterMap, type OnnxGraph, type OnnxValue, exportOnnx, exporter, transformerEncoder } from '@backprop/onnx';
import type { Vocabulary } from '@backprop/data/names';
import { describeModel } from './io';
import { Bigram, type LanguageModel, LSTMModel, MLPModel, TransformerModel } from './models';

/** ids [B, T] → rows of `table` [B, T, width]. */
function gather(graph: OnnxGraph, table: OnnxValue, ids: OnnxValue): OnnxValue {
  return graph.op('Gather', [table, ids], { attributes: { axis: 0 }, shape: [...ids.shape, table.shape[1]], type: 'float32' });
}

/** [B, T] ids → the positions 0 … T − 1, as int64. */
function positions(graph: OnnxGraph, ids: OnnxValue): OnnxValue {
  const length = graph.op('Shape', [ids], { attributes: { start: 1, end: 2 }, shape: [1], type: 'int64' });
  const end = graph.op('Squeeze', [length, graph.ints([0])], { shape: [] });
  const zero = graph.constant(0, { type: 'int64' });
  const one = graph.constant(1, { type: 'int64' });
  return graph.op('Range', [zero, end, one], { shape: [ids.shape[1]], type: 'int64' });
}

/**
 * The MLP's context [B, T, k]: at position t the ids at t, t − 1, …, t − k + 1,
 * the blank id before the name starts (as `MLPModel.contextIds`): the ids
 * padded on the left with k − 1 blanks, then k shifted slices stacked.
 */
function contextIds(graph: OnnxGraph, model: MLPModel, ids: OnnxValue): OnnxValue {
  const { context: k, vocabSize: blank } = model.config;
  const [B, T] = ids.shape;
  const padded = graph.op('Pad', [ids, graph.ints([0, k - 1, 0, 0]), graph.constant(blank, { type: ids.type })], {
    attributes: { mode: 'constant' },
    shape: [B, `${T}+${k - 1}`],
  });
  const length = graph.op('Shape', [ids], { attributes: { start: 1, end: 2 }, shape: [1], type: 'int64' });
  const slices: OnnxValue[] = [];
  for (let j = 0; j < k; j++) {
    const start = graph.ints([k - 1 - j]);
    const end = graph.op('Add', [start, length], { shape: [1] });
    const slice = graph.op('Slice', [padded, start, end, graph.ints([1])], { shape: [B, T] });
    slices.push(graph.op('Unsqueeze', [slice, graph.ints([2])], { shape: [B, T, 1] }));
  }
  return graph.op('Concat', slices, { attributes: { axis: 2 }, shape: [B, T, k] });
}

/** Exporters for the app's model classes, for `exportOnnx`'s `exporters` option. */
export const CHARLM_EXPORTERS: ExporterMap = new Map([
  exporter(Bigram, (graph, model, ids) => gather(graph, graph.weight(model.logProbs), ids)),
  exporter(MLPModel, (graph, model, ids) => {
    const { context: k, embedDim: C } = model.config;
    const embedded = graph.layer(model.wte, contextIds(graph, model, ids)); // [B, T, k, C]
    const [B, T] = ids.shape;
    return graph.layer(model.mlp, graph.reshape(embedded, [0, 0, k * C], [B, T, k * C]));
  }),
  exporter(LSTMModel, (graph, model, ids) => graph.layer(model.head, graph.layer(model.lstm, graph.layer(model.wte, ids)))),
  exporter(TransformerModel, (graph, model, ids) => {
    const tokens = graph.layer(model.wte, ids);
    const x = graph.op('Add', [tokens, gather(graph, graph.weight(model.wpe.weight), positions(graph, ids))], { shape: tokens.shape });
    const encoded = graph.layer(model.encoder, x, (g, encoder, input) => transformerEncoder(g, encoder, input, { causal: true }));
    return graph.layer(model.head, encoded);
  }),
]);

/**
 * `model` as ONNX bytes: input `ids` (int64 [batch, sequence]), output
 * `logits` [batch, sequence, vocabulary]; the configuration and vocabulary
 * in the model's metadata, as in `model.safetensors`.
 */
export function exportModel(model: LanguageModel, vocab: Vocabulary): Uint8Array {
  return exportOnnx(model, {
    inputShape: ['sequence'],
    inputType: 'int64',
    inputName: 'ids',
    outputName: 'logits',
    exporters: CHARLM_EXPORTERS,
    metadata: describeModel(model.config, vocab),
  });
}
