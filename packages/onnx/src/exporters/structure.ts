/** Containers and lookups: Sequential runs its layers in order, Residual adds its block's output to its input, Embedding gathers rows. */
import { Embedding, Residual, Sequential } from '@backprop/layers';
import { DTypeError, ShapeError } from '@backprop/ndarray';
import { type ExporterEntry, exporter } from '../graph';

export const STRUCTURE_EXPORTERS: readonly ExporterEntry[] = [
  exporter(Sequential, (graph, layer, input) => layer.layers.reduce((x, child) => graph.layer(child, x), input)),
  exporter(Residual, (graph, layer, input) => {
    const branch = graph.layer(layer.block, input);
    const mismatch = branch.shape.length !== input.shape.length || branch.shape.some((d, i) => typeof d === 'number' && typeof input.shape[i] === 'number' && d !== input.shape[i]);
    if (mismatch) {
      throw new ShapeError(`the block maps an input of shape [${input.shape.join(', ')}] to [${branch.shape.join(', ')}]; a residual connection needs the same shape`);
    }
    return graph.op('Add', [input, branch], { shape: input.shape });
  }),
  exporter(Embedding, (graph, layer, input) => {
    if (input.type === 'float32') throw new DTypeError(`expected token ids (int64 or int32), got a float32 input; export with { inputType: 'int64' }`);
    return graph.op('Gather', [graph.weight(layer.weight), input], {
      attributes: { axis: 0 },
      shape: [...input.shape, layer.embeddingDim],
      type: 'float32',
    });
  }),
];
