/** Normalisation layers as in eval mode: per channel (BatchNorm), over the last dimensions (LayerNorm), per group (GroupNorm). */
import { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm } from '@backprop/layers';
import { type Parameter, ShapeError } from '@backprop/ndarray';
import { type ExporterEntry, type OnnxGraph, type OnnxValue, exporter, floatInput } from '../graph';
import { float } from '../proto';

/**
 * Batch norm in eval mode: `BatchNormalization` with the running mean and
 * variance, or, for a layer without them (`trackRunningStats: false`), the
 * batch's own statistics as torch uses then: the mean and biased variance over
 * every dimension but the channels'.
 */
function batchNorm(graph: OnnxGraph, layer: BatchNorm1d | BatchNorm2d, input: OnnxValue): OnnxValue {
  const channels = input.shape[1];
  const ranks = layer instanceof BatchNorm2d ? [4] : [2, 3];
  if (!ranks.includes(input.shape.length) || (typeof channels === 'number' && channels !== layer.numFeatures)) {
    const expected = layer instanceof BatchNorm2d ? '[N, C, H, W]' : '[N, C] or [N, C, L]';
    throw new ShapeError(`expected ${expected} with C = ${layer.numFeatures}, got [${input.shape.join(', ')}]`);
  }
  const n = layer.numFeatures;
  if (layer.runningMean !== null && layer.runningVar !== null) {
    const scale = layer.weight === null ? graph.constant(new Array(n).fill(1)) : graph.weight(layer.weight);
    const bias = layer.bias === null ? graph.constant(new Array(n).fill(0)) : graph.weight(layer.bias);
    const inputs = [input, scale, bias, graph.weight(layer.runningMean), graph.weight(layer.runningVar)];
    return graph.op('BatchNormalization', inputs, { attributes: { epsilon: float(layer.eps) }, shape: input.shape });
  }
  const axes = input.shape.map((_, i) => i).filter((i) => i !== 1);
  const centred = graph.op('Sub', [input, graph.reduceMean(input, axes)], { shape: input.shape });
  const variance = graph.reduceMean(graph.op('Mul', [centred, centred]), axes);
  const normalized = graph.op('Div', [centred, graph.op('Sqrt', [graph.op('Add', [variance, graph.constant(layer.eps)])])], { shape: input.shape });
  if (layer.weight === null || layer.bias === null) return normalized;
  return graph.op('Add', [graph.op('Mul', [normalized, perChannel(graph, layer.weight, input)]), perChannel(graph, layer.bias, input)]);
}

/** A per-channel vector [C] as [C, 1, …], to broadcast over an input [N, C, …]. */
function perChannel(graph: OnnxGraph, parameter: Parameter, input: OnnxValue): OnnxValue {
  const ones = new Array(input.shape.length - 2).fill(1);
  return graph.reshape(graph.weight(parameter), [-1, ...ones], [parameter.value.shape[0], ...ones]);
}

/** `LayerNormalization` over the last `normalizedShape.length` dimensions. */
function layerNorm(graph: OnnxGraph, layer: LayerNorm, input: OnnxValue): OnnxValue {
  const k = layer.normalizedShape.length;
  const last = input.shape.slice(-k);
  if (input.shape.length < k || last.some((d, i) => typeof d === 'number' && d !== layer.normalizedShape[i])) {
    throw new ShapeError(`expected the input to end in [${layer.normalizedShape.join(', ')}], got [${input.shape.join(', ')}]`);
  }
  const count = layer.normalizedShape.reduce((a, b) => a * b, 1);
  const shape = { shape: layer.normalizedShape };
  const scale = layer.weight === null ? graph.constant(new Array(count).fill(1), shape) : graph.weight(layer.weight);
  const bias = layer.bias === null ? null : graph.weight(layer.bias);
  return graph.op('LayerNormalization', [input, scale, bias], {
    attributes: { axis: -k, epsilon: float(layer.eps) },
    shape: input.shape,
  });
}

/**
 * GroupNorm from its definition (ONNX's own GroupNormalization changed meaning
 * between opsets 18 and 21): [N, C, …] viewed as [N, G, C/G·…], normalized by
 * each group's mean and biased variance, then scaled and shifted per channel.
 */
function groupNorm(graph: OnnxGraph, layer: GroupNorm, input: OnnxValue): OnnxValue {
  const channels = input.shape[1];
  if (input.shape.length < 2 || (typeof channels === 'number' && channels !== layer.numChannels)) {
    throw new ShapeError(`expected [batch, ${layer.numChannels}, ...], got [${input.shape.join(', ')}]`);
  }
  const groups = graph.reshape(input, [0, layer.numGroups, -1], [input.shape[0], layer.numGroups, 'group']);
  const centred = graph.op('Sub', [groups, graph.reduceMean(groups, [2])]);
  const variance = graph.reduceMean(graph.op('Mul', [centred, centred]), [2]);
  const spread = graph.op('Sqrt', [graph.op('Add', [variance, graph.constant(layer.eps)])]);
  const normalized = graph.op('Div', [centred, spread]);
  const restored = graph.op('Reshape', [normalized, graph.op('Shape', [input], { shape: [input.shape.length], type: 'int64' })], {
    shape: input.shape,
  });
  if (layer.weight === null || layer.bias === null) return restored;
  return graph.op('Add', [graph.op('Mul', [restored, perChannel(graph, layer.weight, input)]), perChannel(graph, layer.bias, input)]);
}

export const NORM_EXPORTERS: readonly ExporterEntry[] = [
  exporter(BatchNorm1d, floatInput(batchNorm)),
  exporter(BatchNorm2d, floatInput(batchNorm)),
  exporter(LayerNorm, floatInput(layerNorm)),
  exporter(GroupNorm, floatInput(groupNorm)),
];
