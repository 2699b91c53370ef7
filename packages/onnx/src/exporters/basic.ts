/**
 * Dense layers, activations and the layers that only move data: each torch
 * module as the ONNX operators `torch.onnx.export` writes for it (opset 17).
 */
import {
  Dense,
  Dropout,
  ELU,
  Flatten,
  GELU,
  Identity,
  LeakyReLU,
  Linear,
  LogSoftmax,
  Mish,
  ReLU,
  SiLU,
  Sigmoid,
  Softmax,
  Softplus,
  Tanh,
} from '@backprop/layers';
import type { ActivationName } from '@backprop/layers';
import { ShapeError } from '@backprop/ndarray';
import { type ExporterEntry, type LayerExporter, type OnnxGraph, type OnnxValue, exporter, floatInput } from '../graph';
import { float } from '../proto';

/** y = x Wᵀ + b: `Gemm` for a matrix, `MatMul` + `Add` for more dimensions (as torch.onnx). */
export function linear(graph: OnnxGraph, layer: Linear, input: OnnxValue): OnnxValue {
  const features = input.shape.at(-1);
  if (typeof features === 'number' && features !== layer.inFeatures) {
    throw new ShapeError(`expected inputs of ${layer.inFeatures} features, got shape [${input.shape.join(', ')}]`);
  }
  const shape = [...input.shape.slice(0, -1), layer.outFeatures];
  const weight = graph.weight(layer.weight);
  const bias = layer.bias === null ? null : graph.weight(layer.bias);
  if (input.shape.length === 2) return graph.op('Gemm', [input, weight, bias], { attributes: { transB: 1 }, shape });
  const product = graph.matmul(input, graph.transpose(weight, [1, 0]));
  return bias === null ? product : graph.op('Add', [product, bias]);
}

export function activation(graph: OnnxGraph, name: ActivationName, input: OnnxValue): OnnxValue {
  if (name === 'none') return input;
  return graph.op({ relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid' }[name], [input]);
}

/** gelu(x) = x·Φ(x) = ½x(1 + erf(x/√2)), or its tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(graph: OnnxGraph, input: OnnxValue, approximate: 'none' | 'tanh'): OnnxValue {
  const half = graph.op('Mul', [input, graph.constant(0.5)]);
  let inner: OnnxValue;
  if (approximate === 'none') {
    inner = graph.op('Erf', [graph.op('Div', [input, graph.constant(Math.SQRT2)])]);
  } else {
    const cube = graph.op('Mul', [graph.op('Mul', [input, input]), input]);
    const sum = graph.op('Add', [input, graph.op('Mul', [cube, graph.constant(0.044715)])]);
    inner = graph.op('Tanh', [graph.op('Mul', [sum, graph.constant(Math.sqrt(2 / Math.PI))])]);
  }
  return graph.op('Mul', [half, graph.op('Add', [inner, graph.constant(1)])]);
}

/** softplus(x) = log(1 + exp(βx))/β, and x itself where βx > threshold (torch's cut-off). */
function softplus(graph: OnnxGraph, input: OnnxValue, beta: number, threshold: number): OnnxValue {
  const scaled = beta === 1 ? input : graph.op('Mul', [input, graph.constant(beta)]);
  const smooth = graph.op('Softplus', [scaled]);
  const curve = beta === 1 ? smooth : graph.op('Div', [smooth, graph.constant(beta)]);
  const linear = graph.op('Greater', [scaled, graph.constant(threshold)], { type: 'bool' });
  return graph.op('Where', [linear, input, curve], { type: 'float32' });
}

/** Flatten(startDim, endDim): ONNX's `Flatten` when it flattens everything after the batch, else `Reshape`. */
function flatten(graph: OnnxGraph, layer: Flatten, input: OnnxValue): OnnxValue {
  const rank = input.shape.length;
  const start = layer.startDim < 0 ? layer.startDim + rank : layer.startDim;
  const end = layer.endDim < 0 ? layer.endDim + rank : layer.endDim;
  if (start < 0 || end >= rank || start > end) {
    throw new ShapeError(`Flatten(${layer.startDim}, ${layer.endDim}) does not fit an input of rank ${rank} ([${input.shape.join(', ')}])`);
  }
  const merged = input.shape.slice(start, end + 1);
  const size = merged.every((d) => typeof d === 'number') ? merged.reduce((a, b) => a * b, 1) : 'flat';
  const shape = [...input.shape.slice(0, start), size, ...input.shape.slice(end + 1)];
  if (start === end) return input;
  if (start === 1 && end === rank - 1) return graph.op('Flatten', [input], { attributes: { axis: 1 }, shape });
  // Reshape's 0 copies the input's size at the same index: right for the dims before the merged ones only.
  const after = input.shape.slice(end + 1);
  if (after.every((d) => typeof d === 'number')) {
    return graph.reshape(input, [...new Array(start).fill(0), -1, ...(after as number[])], shape);
  }
  const sizes = graph.op('Shape', [input], { shape: [rank], type: 'int64' });
  const head = graph.op('Slice', [sizes, graph.ints([0]), graph.ints([start])], { shape: [start] });
  const tail = graph.op('Slice', [sizes, graph.ints([end + 1]), graph.ints([rank])], { shape: [rank - end - 1] });
  const target = graph.op('Concat', [head, graph.ints([-1]), tail], { attributes: { axis: 0 }, shape: [shape.length] });
  return graph.op('Reshape', [input, target], { shape });
}

function unary(opType: string): LayerExporter {
  return (graph, _layer, input) => graph.op(opType, [input]);
}

/** Softmax or LogSoftmax along `dim`, which must be a dimension of the input. */
function alongDim(opType: 'Softmax' | 'LogSoftmax'): LayerExporter<Softmax | LogSoftmax> {
  return (graph, layer, input) => {
    const rank = input.shape.length;
    if (layer.dim < -rank || layer.dim >= rank) {
      throw new ShapeError(`dim ${layer.dim} is not a dimension of an input of rank ${rank} ([${input.shape.join(', ')}]); expected -${rank} to ${rank - 1}`);
    }
    return graph.op(opType, [input], { attributes: { axis: layer.dim } });
  };
}

export const BASIC_EXPORTERS: readonly ExporterEntry[] = [
  exporter(Linear, floatInput(linear)),
  exporter(Dense, floatInput((graph, layer, input) => activation(graph, layer.activation, linear(graph, layer, input)))),
  exporter(Identity, (_graph, _layer, input) => input),
  // Inference: dropout passes its input through, as torch.onnx.export in eval mode.
  exporter(Dropout, (_graph, _layer, input) => input),
  exporter(Flatten, flatten),
  exporter(ReLU, floatInput(unary('Relu'))),
  exporter(Tanh, floatInput(unary('Tanh'))),
  exporter(Sigmoid, floatInput(unary('Sigmoid'))),
  exporter(LeakyReLU, floatInput((graph, layer, input) => graph.op('LeakyRelu', [input], { attributes: { alpha: float(layer.negativeSlope) } }))),
  exporter(ELU, floatInput((graph, layer, input) => graph.op('Elu', [input], { attributes: { alpha: float(layer.alpha) } }))),
  exporter(GELU, floatInput((graph, layer, input) => gelu(graph, input, layer.approximate))),
  exporter(SiLU, floatInput((graph, _layer, input) => graph.op('Mul', [input, graph.op('Sigmoid', [input])]))),
  exporter(Softplus, floatInput((graph, layer, input) => softplus(graph, input, layer.beta, layer.threshold))),
  exporter(Mish, floatInput((graph, _layer, input) => graph.op('Mul', [input, graph.op('Tanh', [softplus(graph, input, 1, 20)])]))),
  exporter(Softmax, floatInput(alongDim('Softmax'))),
  exporter(LogSoftmax, floatInput(alongDim('LogSoftmax'))),
];
