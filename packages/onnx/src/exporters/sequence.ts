/**
 * Sequence layers: multi-head attention and the transformer encoder composed
 * of MatMul/Softmax as torch.onnx writes them, and the recurrent layers as
 * ONNX's `RNN`, `LSTM` and `GRU` operators, one node per layer, reading the
 * state dict's weights through nodes that reorder the gates (ONNX Runtime
 * folds them into constants when it loads the model).
 */
import { GRU, LSTM, MultiheadAttention, RNN, TransformerEncoder, TransformerEncoderLayer } from '@backprop/layers';
import type { RecurrentMode } from '@backprop/layers';
import { DTypeError, type Parameter, ShapeError } from '@backprop/ndarray';
import { type Dim, type ExporterEntry, type OnnxGraph, type OnnxValue, exporter } from '../graph';
import { strings } from '../proto';
import { gelu, linear } from './basic';

/** How a model's exporter asks for an attention layer's form: `causal` masks every key after the query's position. */
export interface AttentionExportOptions {
  /** Each position attends to itself and those before it, as `forward(x, { isCausal: true })` (default false). */
  causal?: boolean;
}

/** Throws unless `input` is a float32 value of rank 2 (unbatched) or 3 ending in `features`. */
function checkSequence(input: OnnxValue, features: number, layout: string): void {
  if (input.type !== 'float32') throw new DTypeError(`expected a float32 input ${layout}, got ${input.type}; token ids go through an Embedding first`);
  const last = input.shape.at(-1);
  if ((input.shape.length !== 2 && input.shape.length !== 3) || (typeof last === 'number' && last !== features)) {
    throw new ShapeError(`expected an input ${layout} or unbatched [L, ${features}], got [${input.shape.join(', ')}]`);
  }
}

function unsqueeze(graph: OnnxGraph, value: OnnxValue, axis: number): OnnxValue {
  const shape = [...value.shape.slice(0, axis), 1, ...value.shape.slice(axis)];
  return graph.op('Unsqueeze', [value, graph.ints([axis])], { shape });
}

function squeeze(graph: OnnxGraph, value: OnnxValue, axis: number): OnnxValue {
  return graph.op('Squeeze', [value, graph.ints([axis])], { shape: value.shape.filter((_, i) => i !== axis) });
}

/**
 * The additive causal mask [L, L] for the sequence along `axis` of `x` (L may
 * be symbolic): 0 on and below the diagonal, −∞ above, as the layers'
 * `causalMask`: −∞ expanded to [L, L], then `Trilu` keeps the part above the diagonal.
 */
export function causalMask(graph: OnnxGraph, x: OnnxValue, axis: number): OnnxValue {
  const length = x.shape[axis];
  const size = graph.op('Shape', [x], { attributes: { start: axis, end: axis + 1 }, shape: [1], type: 'int64' });
  const square = graph.op('Concat', [size, size], { attributes: { axis: 0 }, shape: [2] });
  const full = graph.op('Expand', [graph.constant(Number.NEGATIVE_INFINITY), square], { shape: [length, length], type: 'float32' });
  return graph.op('Trilu', [full, graph.constant(1, { shape: [], type: 'int64' })], { attributes: { upper: 1 }, shape: [length, length] });
}

/**
 * Self-attention as `layer.forward(input)` in eval mode: one projection by
 * `in_proj_weight` [3E, E] split into q, k and v, each viewed as heads
 * [N, H, L, D], q/√D·kᵀ (+ the causal mask), softmax, ·v, the heads joined
 * and projected by `out_proj`. Masks given to `forward` at call time
 * (`attnMask`, `keyPaddingMask`) are not part of the layer, so not of the export.
 */
export function multiheadAttention(graph: OnnxGraph, layer: MultiheadAttention, input: OnnxValue, options: AttentionExportOptions = {}): OnnxValue {
  const { embedDim: E, numHeads: H, headDim: D } = layer;
  checkSequence(input, E, layer.batchFirst ? `[N, L, ${E}]` : `[L, N, ${E}]`);
  // Work batch first, [N, L, E]: an unbatched [L, E] is one sequence.
  const unbatched = input.shape.length === 2;
  const x = unbatched ? unsqueeze(graph, input, 0) : layer.batchFirst ? input : graph.transpose(input, [1, 0, 2]);
  const [N, L] = x.shape;
  let packed = graph.matmul(x, graph.transpose(graph.weight(layer.in_proj_weight), [1, 0]));
  if (layer.inProjBias !== null) packed = graph.op('Add', [packed, graph.weight(layer.inProjBias)]);
  const [q, k, v] = graph.ops('Split', [packed, graph.ints([E, E, E])], 3, { attributes: { axis: -1 }, shape: [N, L, E] });
  const heads = (part: OnnxValue, perm: number[]): OnnxValue => graph.transpose(graph.reshape(part, [0, 0, H, D], [N, L, H, D]), perm);
  // The layer's order: q / √D first, then q·kᵀ.
  const scaled = graph.op('Div', [heads(q, [0, 2, 1, 3]), graph.constant(Math.sqrt(D))]);
  let scores = graph.matmul(scaled, heads(k, [0, 2, 3, 1]));
  if (options.causal === true) scores = graph.op('Add', [scores, causalMask(graph, x, 1)]);
  const weights = graph.op('Softmax', [scores], { attributes: { axis: -1 } });
  const attended = graph.matmul(weights, heads(v, [0, 2, 1, 3]));
  const joined = graph.reshape(graph.transpose(attended, [0, 2, 1, 3]), [0, 0, E], [N, L, E]);
  const restored = unbatched ? squeeze(graph, joined, 0) : layer.batchFirst ? joined : graph.transpose(joined, [1, 0, 2]);
  // out_proj is a NonDynamicallyQuantizableLinear: a Linear under another class name.
  return graph.layer(layer.out_proj, restored, linear);
}

/**
 * One encoder layer as `layer.forward(input, { isCausal: causal })` in eval
 * mode (dropout off): self-attention and the feedforward network, each with
 * its residual and LayerNorm, post-norm or pre-norm (`normFirst`).
 */
export function transformerEncoderLayer(
  graph: OnnxGraph,
  layer: TransformerEncoderLayer,
  input: OnnxValue,
  options: AttentionExportOptions = {},
): OnnxValue {
  checkSequence(input, layer.dModel, layer.batchFirst ? `[N, L, ${layer.dModel}]` : `[L, N, ${layer.dModel}]`);
  const attend = (x: OnnxValue): OnnxValue => graph.layer(layer.self_attn, x, (g, attn, v) => multiheadAttention(g, attn, v, options));
  const feedforward = (x: OnnxValue): OnnxValue => {
    const hidden = graph.layer(layer.linear1, x);
    const activated = layer.activation === 'relu' ? graph.op('Relu', [hidden]) : gelu(graph, hidden, 'none');
    return graph.layer(layer.linear2, activated);
  };
  const shape = { shape: input.shape };
  if (layer.normFirst) {
    const h = graph.op('Add', [input, attend(graph.layer(layer.norm1, input))], shape);
    return graph.op('Add', [h, feedforward(graph.layer(layer.norm2, h))], shape);
  }
  const h = graph.layer(layer.norm1, graph.op('Add', [input, attend(input)], shape));
  return graph.layer(layer.norm2, graph.op('Add', [h, feedforward(h)], shape));
}

/** The stack as `encoder.forward(input, { isCausal: causal })`: every layer in order (each given the same form), then the final norm if any. */
export function transformerEncoder(graph: OnnxGraph, encoder: TransformerEncoder, input: OnnxValue, options: AttentionExportOptions = {}): OnnxValue {
  let x = input;
  for (const child of encoder.layers.layers as TransformerEncoderLayer[]) {
    x = graph.layer(child, x, (g, l, v) => transformerEncoderLayer(g, l, v, options));
  }
  return encoder.norm === null ? x : graph.layer(encoder.norm, x);
}

type RecurrentLayer = RNN | LSTM | GRU;

/** The ONNX operator of each mode, its gate count, and torch's gate at each ONNX gate position. */
const RECURRENT_OPS: Record<RecurrentMode, { opType: string; gates: number; order: number[] }> = {
  RNN_TANH: { opType: 'RNN', gates: 1, order: [0] },
  RNN_RELU: { opType: 'RNN', gates: 1, order: [0] },
  // torch stacks i, f, g, o; ONNX i, o, f, c.
  LSTM: { opType: 'LSTM', gates: 4, order: [0, 3, 1, 2] },
  // torch stacks r, z, n; ONNX z, r, h.
  GRU: { opType: 'GRU', gates: 3, order: [1, 0, 2] },
};

/**
 * The recurrent layer as `layer.forward(input)` in eval mode: zero initial
 * states, the last layer's output sequence [L, N, D·H] ([N, L, D·H] with
 * `batchFirst`, [L, D·H] unbatched), not h_n. One ONNX `RNN`/`LSTM`/`GRU`
 * node per layer, sequence first (ONNX Runtime's CPU kernels refuse
 * `layout: 1`, so batch-first inputs are transposed), both directions in one
 * node when bidirectional; the GRU with `linear_before_reset: 1`, torch's form.
 * Dropout between layers is off in inference.
 */
export function recurrent(graph: OnnxGraph, layer: RecurrentLayer, input: OnnxValue): OnnxValue {
  const { inputSize, hiddenSize: H, directions: D } = layer;
  checkSequence(input, inputSize, layer.batchFirst ? `[N, L, ${inputSize}]` : `[L, N, ${inputSize}]`);
  const unbatched = input.shape.length === 2;
  let x = unbatched ? unsqueeze(graph, input, 1) : layer.batchFirst ? graph.transpose(input, [1, 0, 2]) : input;
  const { opType, gates, order } = RECURRENT_OPS[layer.mode];
  const parameters = new Map(layer.namedParameters());
  const attributes = {
    hidden_size: H,
    direction: D === 2 ? 'bidirectional' : 'forward',
    activations: layer.mode === 'RNN_RELU' ? strings(new Array(D).fill('Relu')) : undefined,
    linear_before_reset: layer.mode === 'GRU' ? 1 : undefined,
  };
  for (let k = 0; k < layer.numLayers; k++) {
    const suffixes = D === 2 ? [`_l${k}`, `_l${k}_reverse`] : [`_l${k}`];
    const stacked = (make: (suffix: string) => OnnxValue, shape: Dim[]): OnnxValue =>
      D === 1 ? make(suffixes[0]) : graph.op('Concat', suffixes.map(make), { attributes: { axis: 0 }, shape: [D, ...shape.slice(1)] });
    const get = (name: string): Parameter => parameters.get(name) as Parameter;
    const reordered = (name: string): OnnxValue => reorderGates(graph, get(name), gates, order);
    const columns = x.shape[2] as number;
    const W = stacked((s) => reordered(`weight_ih${s}`), [1, gates * H, columns]);
    const R = stacked((s) => reordered(`weight_hh${s}`), [1, gates * H, H]);
    const bias = (s: string): OnnxValue =>
      graph.op('Concat', [reordered(`bias_ih${s}`), reordered(`bias_hh${s}`)], { attributes: { axis: 1 }, shape: [1, 2 * gates * H] });
    const B = layer.bias ? stacked(bias, [1, 2 * gates * H]) : null;
    const [L, N] = x.shape;
    const [Y] = graph.ops(opType, [x, W, R, B], 1, { attributes, shape: [L, D, N, H] });
    // Y is [L, D, N, H]: the directions side by side per step, as torch's output.
    x = graph.reshape(graph.transpose(Y, [0, 2, 1, 3]), [0, 0, D * H], [L, N, D * H]);
  }
  return unbatched ? squeeze(graph, x, 1) : layer.batchFirst ? graph.transpose(x, [1, 0, 2]) : x;
}

/**
 * A weight [G·H, …] or bias [G·H] of torch's gate order as ONNX's, with a
 * leading direction axis: viewed as [G, H, …], `Gather`ed in `order`, reshaped
 * to [1, G·H, …] (a bias to [1, G·H]). The initializer keeps the state dict's name and shape.
 */
function reorderGates(graph: OnnxGraph, parameter: Parameter, gates: number, order: readonly number[]): OnnxValue {
  const weight = graph.weight(parameter);
  const [rows, ...rest] = weight.shape as number[];
  const flat = [1, rows, ...rest];
  if (gates === 1) return graph.reshape(weight, flat, flat);
  const split = graph.reshape(weight, [gates, rows / gates, ...rest], [gates, rows / gates, ...rest]);
  const gathered = graph.op('Gather', [split, graph.ints(order)], { attributes: { axis: 0 }, shape: split.shape });
  return graph.reshape(gathered, flat, flat);
}

export const SEQUENCE_EXPORTERS: readonly ExporterEntry[] = [
  exporter(MultiheadAttention, (graph, layer, input) => multiheadAttention(graph, layer, input)),
  exporter(TransformerEncoderLayer, (graph, layer, input) => transformerEncoderLayer(graph, layer, input)),
  exporter(TransformerEncoder, (graph, layer, input) => transformerEncoder(graph, layer, input)),
  exporter(RNN, recurrent),
  exporter(LSTM, recurrent),
  exporter(GRU, recurrent),
];
