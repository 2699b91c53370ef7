/** Convolutions and pooling as ONNX's `Conv`, `ConvTranspose`, `MaxPool` and `AveragePool` (NCHW, as torch). */
import { AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d } from '@backprop/layers';
import { ShapeError } from '@backprop/ndarray';
import { type Dim, type ExporterEntry, type OnnxGraph, type OnnxValue, exporter, floatInput } from '../graph';
import { OnnxExportError } from '../errors';

type ConvLayer = Conv1d | Conv2d | ConvTranspose2d;

/** ONNX's `pads`: every dimension's zeros before, then every dimension's zeros after ('same' may pad one more after). */
function convPads(layer: ConvLayer): number[] {
  if (layer.padding === 'valid') return new Array(2 * layer.kernelSize.length).fill(0);
  if (layer.padding === 'same') {
    const total = layer.kernelSize.map((k, i) => layer.dilation[i] * (k - 1));
    const before = total.map((t) => Math.floor(t / 2));
    return [...before, ...total.map((t, i) => t - before[i])];
  }
  return [...layer.padding, ...layer.padding];
}

/** A spatial size after a window slides over it (symbolic sizes stay symbolic). */
function slid(size: Dim, kernel: number, stride: number, before: number, after: number, dilation: number, ceil = false): Dim {
  if (typeof size === 'string') return `${size}'`;
  const span = size + before + after - dilation * (kernel - 1) - 1;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // torch's ceil mode drops a last window that would start in the padding after the input.
  if (ceil && (out - 1) * stride >= size + before) out -= 1;
  return out;
}

function checkChannels(input: OnnxValue, rank: number, channels: number | null): void {
  if (input.shape.length !== rank) {
    throw new ShapeError(`expected an input of rank ${rank} (batch, channels, ${rank === 3 ? 'length' : 'height, width'}), got [${input.shape.join(', ')}]`);
  }
  const c = input.shape[1];
  if (channels !== null && typeof c === 'number' && c !== channels) {
    throw new ShapeError(`expected ${channels} input channels, got [${input.shape.join(', ')}]`);
  }
}

function conv(graph: OnnxGraph, layer: Conv1d | Conv2d, input: OnnxValue): OnnxValue {
  const dims = layer.kernelSize.length;
  checkChannels(input, dims + 2, layer.inChannels);
  const pads = convPads(layer);
  const spatial = input.shape.slice(2).map((size, i) =>
    slid(size, layer.kernelSize[i], layer.stride[i], pads[i], pads[i + dims], layer.dilation[i]),
  );
  const inputs = [input, graph.weight(layer.weight), layer.bias === null ? null : graph.weight(layer.bias)];
  return graph.op('Conv', inputs, {
    attributes: { kernel_shape: layer.kernelSize, strides: layer.stride, pads, dilations: layer.dilation, group: layer.groups },
    shape: [input.shape[0], layer.outChannels, ...spatial],
  });
}

/**
 * `ConvTranspose`. Torch's output padding adds rows and columns at the end of
 * the output, computed where the full transposed convolution reaches them and
 * zeros (plus the bias) beyond it; ONNX Runtime refuses an `output_padding`
 * not below the stride, so it is written as less cropping at the end
 * (max(0, p − op)), a zero `Pad` for the rest (max(0, op − p)), then the bias.
 */
function convTranspose(graph: OnnxGraph, layer: ConvTranspose2d, input: OnnxValue): OnnxValue {
  checkChannels(input, 4, layer.inChannels);
  const pads = convPads(layer);
  const extra = layer.outputPadding;
  const spatial = input.shape.slice(2).map((size, i) =>
    typeof size === 'string'
      ? `${size}'`
      : (size - 1) * layer.stride[i] - pads[i] - pads[i + 2] + layer.dilation[i] * (layer.kernelSize[i] - 1) + extra[i] + 1,
  );
  const shape = [input.shape[0], layer.outChannels, ...spatial];
  const attributes = { kernel_shape: layer.kernelSize, strides: layer.stride, dilations: layer.dilation, group: layer.groups };
  const bias = layer.bias === null ? null : graph.weight(layer.bias);
  if (extra.every((e) => e === 0)) {
    return graph.op('ConvTranspose', [input, graph.weight(layer.weight), bias], { attributes: { ...attributes, pads }, shape });
  }
  const cropped = [pads[0], pads[1], Math.max(0, pads[2] - extra[0]), Math.max(0, pads[3] - extra[1])];
  const beyond = extra.map((e, i) => Math.max(0, e - pads[i + 2]));
  const reached = spatial.map((d, i) => (typeof d === 'number' ? d - beyond[i] : d));
  let x = graph.op('ConvTranspose', [input, graph.weight(layer.weight)], { attributes: { ...attributes, pads: cropped }, shape: [shape[0], shape[1], ...reached] });
  if (beyond.some((b) => b > 0)) x = graph.op('Pad', [x, graph.ints([0, 0, 0, 0, 0, 0, beyond[0], beyond[1]])], { shape });
  if (bias === null) return x;
  return graph.op('Add', [x, graph.reshape(bias, [-1, 1, 1], [layer.outChannels, 1, 1])], { shape });
}

/**
 * Pooling with torch's sizes. ONNX Runtime's `ceil_mode` keeps a last window
 * that starts in the padding after the input, which torch drops, so the
 * windows are written out instead: `ceil_mode` 0 and `extra` zeros after each
 * dimension, just enough for torch's last window. Max pooling never sees
 * padding; average pooling counts it as torch does: with `countIncludePad`,
 * torch's own padding becomes real zeros (a `Pad`) and only the extra is left
 * uncounted, and `divisorOverride` divides the window's sum instead.
 */
function pool(graph: OnnxGraph, layer: MaxPool2d | AvgPool2d, input: OnnxValue): OnnxValue {
  checkChannels(input, 4, null);
  const sizes = input.shape.slice(2);
  if (layer.ceilMode && sizes.some((d) => typeof d === 'string')) {
    throw new OnnxExportError(`ceilMode needs the input's height and width fixed, got [${input.shape.join(', ')}]`);
  }
  const spatial = sizes.map((size, i) => slid(size, layer.kernelSize[i], layer.stride[i], layer.padding[i], layer.padding[i], 1, layer.ceilMode));
  const extra = sizes.map((size, i) => {
    if (typeof size === 'string') return 0;
    const needed = ((spatial[i] as number) - 1) * layer.stride[i] + layer.kernelSize[i];
    return Math.max(0, needed - (size + 2 * layer.padding[i]));
  });
  const [ph, pw] = layer.padding;
  const shape = [input.shape[0], input.shape[1], ...spatial];
  const window = { kernel_shape: layer.kernelSize, strides: layer.stride };
  if (layer instanceof MaxPool2d) {
    return graph.op('MaxPool', [input], { attributes: { ...window, pads: [ph, pw, ph + extra[0], pw + extra[1]] }, shape });
  }
  if (layer.divisorOverride !== null) {
    const area = layer.kernelSize[0] * layer.kernelSize[1];
    const mean = graph.op('AveragePool', [input], {
      attributes: { ...window, pads: [ph, pw, ph + extra[0], pw + extra[1]], count_include_pad: 1 },
      shape,
    });
    return graph.op('Mul', [mean, graph.constant(area / layer.divisorOverride)], { shape });
  }
  const counted = layer.countIncludePad && (ph > 0 || pw > 0);
  if (counted && extra.every((e) => e === 0)) {
    return graph.op('AveragePool', [input], { attributes: { ...window, pads: [ph, pw, ph, pw], count_include_pad: 1 }, shape });
  }
  const padded = counted
    ? graph.op('Pad', [input, graph.ints([0, 0, ph, pw, 0, 0, ph, pw])], { shape: [input.shape[0], input.shape[1], ...sizes.map((d, i) => (typeof d === 'number' ? d + 2 * layer.padding[i] : d))] })
    : input;
  const pads = counted ? [0, 0, extra[0], extra[1]] : [ph, pw, ph + extra[0], pw + extra[1]];
  return graph.op('AveragePool', [padded], { attributes: { ...window, pads, count_include_pad: 0 }, shape });
}

/**
 * Adaptive average pooling as torch computes it: output cell i along a
 * dimension of size n averages [⌊i·n/o⌋, ⌈(i+1)·n/o⌉). `GlobalAveragePool` for
 * 1×1; `AveragePool` where the windows tile the input evenly; otherwise a
 * `ReduceMean` per window, one dimension after the other (a mean over a
 * rectangle is the mean of its rows' means).
 */
function adaptiveAvgPool(graph: OnnxGraph, layer: AdaptiveAvgPool2d, input: OnnxValue): OnnxValue {
  checkChannels(input, 4, null);
  const requested = typeof layer.outputSize === 'number' ? [layer.outputSize, layer.outputSize] : layer.outputSize;
  const sizes = input.shape.slice(2);
  const out = requested.map((o, i) => o ?? sizes[i]);
  const [N, C] = input.shape;
  if (out[0] === 1 && out[1] === 1) return graph.op('GlobalAveragePool', [input], { shape: [N, C, 1, 1] });
  // A null output size keeps that dimension as it is, whatever its size.
  const pooled = [0, 1].filter((i) => requested[i] !== null && sizes[i] !== out[i]);
  if (pooled.some((i) => typeof sizes[i] !== 'number')) {
    throw new OnnxExportError(`an output of ${out.join('×')} needs the input's pooled sizes fixed, got [${input.shape.join(', ')}]`);
  }
  if (pooled.every((i) => (sizes[i] as number) % (out[i] as number) === 0) && sizes.every((s) => typeof s === 'number')) {
    const kernel = sizes.map((s, i) => (s as number) / (out[i] as number));
    return graph.op('AveragePool', [input], { attributes: { kernel_shape: kernel, strides: kernel }, shape: [N, C, ...out] });
  }
  let x = input;
  for (const i of pooled) {
    const [axis, n, o] = [i + 2, sizes[i] as number, out[i] as number];
    const cells: OnnxValue[] = [];
    for (let j = 0; j < o; j++) {
      const [start, end] = [Math.floor((j * n) / o), Math.ceil(((j + 1) * n) / o)];
      const window = x.shape.map((d, k) => (k === axis ? end - start : d));
      const slice = graph.op('Slice', [x, graph.ints([start]), graph.ints([end]), graph.ints([axis])], { shape: window });
      cells.push(graph.reduceMean(slice, [axis]));
    }
    x = graph.op('Concat', cells, { attributes: { axis }, shape: x.shape.map((d, k) => (k === axis ? o : d)) });
  }
  return x;
}

export const CONV_EXPORTERS: readonly ExporterEntry[] = [
  exporter(Conv1d, floatInput(conv)),
  exporter(Conv2d, floatInput(conv)),
  exporter(ConvTranspose2d, floatInput(convTranspose)),
  exporter(MaxPool2d, floatInput(pool)),
  exporter(AvgPool2d, floatInput(pool)),
  exporter(AdaptiveAvgPool2d, floatInput(adaptiveAvgPool)),
];
