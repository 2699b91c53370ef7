import { type DType, type NDArray, type Parameter, ValueError, checkChoice, checkOptions, describe, zeros } from '@backprop/ndarray';
import { NeuralLayer } from './layer';

/** Options of {@link summary} and {@link summarize}. */
export interface SummaryOptions {
  /**
   * Dtype of the zeros the forward pass runs on; by default the dtype of the
   * model's first parameter (float32 for a model without parameters).
   */
  dtype?: DType;
  /**
   * Nested layers deeper than this are not listed (as torchinfo's `depth`,
   * default 3); a layer at the last listed depth that has children shows
   * the parameters of everything under it.
   */
  depth?: number;
}

/** One row of a {@link ModelSummary}: a layer, as torchinfo lists it. */
export interface SummaryRow {
  /** The layer's qualified name, as in `namedParameters()`: `''` for the model, `'0'`, `'1.0'`. */
  name: string;
  /** The layer's type, `'Linear'` (its `typeName`, which survives minification). */
  type: string;
  /** The layer as torch prints it, `'Linear(in_features=784, out_features=128, bias=True)'`; a container's type. */
  layer: string;
  /** 0 for the model, 1 for its children, 2 for theirs. */
  depth: number;
  /** 1-based position in the listing among the rows of its depth (torchinfo's `depth-idx`); 0 for the model. */
  index: number;
  /** Shape of the layer's output in the forward pass, or null when the forward pass did not call it. */
  outputShape: number[] | null;
  /**
   * Parameters counted on this row: the layer's own (those not inside a child),
   * plus everything under it when its children are not listed (beyond `depth`).
   */
  params: number;
  /** True when the layer has child layers. */
  container: boolean;
}

/** What {@link summarize} measures: the rows and the totals {@link summary} prints. */
export interface ModelSummary {
  rows: SummaryRow[];
  inputShape: number[];
  outputShape: number[];
  dtype: DType;
  /** Σ numel over `model.parameters()` (each shared parameter once): torch's `sum(p.numel() for p in model.parameters())`. */
  totalParams: number;
  /** Parameters an optimizer updates: every one (a `Parameter` here is always trainable, as `requires_grad=True`). */
  trainableParams: number;
  nonTrainableParams: number;
  /** Bytes the parameter values take (4 per float32, 8 per float64). */
  paramBytes: number;
}

const OP = 'summary';
const NAME_WIDTH = 40;
const COLUMN_WIDTH = 25;
const DEFAULT_DEPTH = 3;

/**
 * Runs `model` once on zeros of `inputShape` (the whole input, batch
 * dimension included, as torchinfo's `input_size`) and measures each layer:
 * its output shape and parameter count, with the totals. {@link summary}
 * prints the same as a table.
 *
 * The pass runs in evaluation mode, so `Dropout` draws nothing from its
 * generator and a seeded run trains the same with or without a summary;
 * afterwards every layer's `training` flag is what it was, and parameters and
 * gradients are untouched. The layers do cache this pass for `backward`, so
 * take a summary before a training step, not between its forward and backward.
 *
 * Throws a `ValueError` when `model` is not a layer, `inputShape` is not a
 * list of positive integers or an option is unknown; a layer that rejects the
 * input throws its own error (it names the layer, the shape it got and the
 * one it expected).
 */
export function summarize(model: NeuralLayer, inputShape: readonly number[], options: SummaryOptions = {}): ModelSummary {
  if (!(model instanceof NeuralLayer)) {
    throw new ValueError(`${OP}: model must be a NeuralLayer (such as a Sequential), got ${describe(model)}`);
  }
  checkOptions(OP, options, ['dtype', 'depth']);
  const shape = checkInputShape(inputShape);
  const depthLimit = options.depth ?? DEFAULT_DEPTH;
  if (!Number.isInteger(depthLimit) || depthLimit < 0) {
    throw new ValueError(`${OP}: depth must be an integer >= 0, got ${describe(options.depth)}`);
  }
  const parameters = model.parameters();
  const dtype =
    options.dtype === undefined ? (parameters[0]?.dtype ?? 'float32') : checkChoice(OP, 'dtype', options.dtype, ['float32', 'float64'] as const);

  const tree = walk(model);
  const outputShapes = new Map<NeuralLayer, number[]>();
  const output = recordForward(tree, model, zeros(shape, { dtype }), outputShapes);

  const rows: SummaryRow[] = [];
  const counters: number[] = [];
  for (const node of tree) {
    if (node.depth > depthLimit) continue;
    const collapsed = node.depth === depthLimit;
    counters[node.depth] = (counters[node.depth] ?? 0) + 1;
    const container = node.layer.namedChildren().length > 0;
    rows.push({
      name: node.name,
      type: node.layer.typeName,
      layer: container ? node.layer.typeName : node.layer.toString(),
      depth: node.depth,
      index: node.depth === 0 ? 0 : counters[node.depth],
      outputShape: outputShapes.get(node.layer) ?? null,
      params: count(collapsed ? node.layer.parameters() : ownParameters(node.layer)),
      container,
    });
  }
  const totalParams = count(parameters);
  return {
    rows,
    inputShape: shape,
    outputShape: [...output.shape],
    dtype,
    totalParams,
    trainableParams: totalParams,
    nonTrainableParams: 0,
    paramBytes: parameters.reduce((bytes, p) => bytes + p.size * (p.dtype === 'float64' ? 8 : 4), 0),
  };
}

/**
 * A table of the model's layers, as torchinfo's `summary(model, input_size)`
 * prints it (Keras's `model.summary()` holds the same): each layer's type,
 * depth and index, output shape and parameter count, then the total,
 * trainable and non-trainable parameters and their size. See
 * {@link summarize} for how it is measured and what it leaves untouched.
 *
 * @example
 * const model = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 * console.log(summary(model, [1, 784]));
 * // ==========================================================================================
 * // Layer (type:depth-idx)                   Output Shape              Param #
 * // ==========================================================================================
 * // Sequential                               [1, 10]                   --
 * // ├─Linear: 1-1                            [1, 128]                  100,480
 * // ├─ReLU: 1-2                              [1, 128]                  --
 * // ├─Linear: 1-3                            [1, 10]                   1,290
 * // ==========================================================================================
 * // Total params: 101,770
 * // Trainable params: 101,770
 * // Non-trainable params: 0
 * // Params size (MB): 0.41
 * // ==========================================================================================
 */
export function summary(model: NeuralLayer, inputShape: readonly number[], options: SummaryOptions = {}): string {
  return formatSummary(summarize(model, inputShape, options));
}

/** Renders a {@link ModelSummary} as torchinfo's table. */
function formatSummary(s: ModelSummary): string {
  const labels = s.rows.map((row, i) => treePrefix(s.rows, i) + (row.depth === 0 ? row.type : `${row.type}: ${row.depth}-${row.index}`));
  // torchinfo's widths: the layer column 40, the others 25, each followed by a space; wider where a value would not fit.
  const nameWidth = Math.max(NAME_WIDTH, ...labels.map((label) => label.length));
  const shapes = s.rows.map((row) => (row.outputShape === null ? '--' : `[${row.outputShape.join(', ')}]`));
  const shapeWidth = Math.max(COLUMN_WIDTH, ...shapes.map((text) => text.length));
  const rule = '='.repeat(nameWidth + shapeWidth + COLUMN_WIDTH);
  const line = (a: string, b: string, c: string) => `${a.padEnd(nameWidth)} ${b.padEnd(shapeWidth)} ${c}`.trimEnd();
  const lines = [rule, line('Layer (type:depth-idx)', 'Output Shape', 'Param #'), rule];
  s.rows.forEach((row, i) => {
    // torchinfo's "--": a layer without parameters of its own, or a container whose children hold them.
    lines.push(line(labels[i], shapes[i], row.params === 0 ? '--' : grouped(row.params)));
  });
  lines.push(
    rule,
    `Total params: ${grouped(s.totalParams)}`,
    `Trainable params: ${grouped(s.trainableParams)}`,
    `Non-trainable params: ${grouped(s.nonTrainableParams)}`,
    `Params size (MB): ${(s.paramBytes / 1e6).toFixed(2)}`,
    rule,
  );
  return lines.join('\n');
}

/** torchinfo's tree: `├─` before each listed child, `│    ` for each open ancestor, `└─` below depth 1. */
function treePrefix(rows: readonly SummaryRow[], i: number): string {
  const depth = rows[i].depth;
  if (depth === 0) return '';
  if (depth === 1) return '├─';
  return `${'│    '.repeat(depth - 1)}└─`;
}

interface Node {
  layer: NeuralLayer;
  name: string;
  depth: number;
}

/** The model and every layer under it, depth first in registration order (each instance once). */
function walk(model: NeuralLayer): Node[] {
  const nodes: Node[] = [];
  const seen = new Set<NeuralLayer>();
  const visit = (layer: NeuralLayer, name: string, depth: number) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    nodes.push({ layer, name, depth });
    for (const [childName, child] of layer.namedChildren()) visit(child, name === '' ? childName : `${name}.${childName}`, depth + 1);
  };
  visit(model, '', 0);
  return nodes;
}

/**
 * One forward pass in evaluation mode that records every layer's output
 * shape, as torchinfo's forward hooks do: each layer's `forward` is wrapped
 * on the instance for the pass, then the instance is put back as it was
 * (its own `forward` property, if it had one, and its `training` flag).
 */
function recordForward(tree: readonly Node[], model: NeuralLayer, input: NDArray, shapes: Map<NeuralLayer, number[]>): NDArray {
  const saved = tree.map(({ layer }) => ({
    layer,
    training: layer.training,
    ownForward: Object.hasOwn(layer, 'forward') ? layer.forward : undefined,
  }));
  try {
    for (const { layer } of tree) {
      const forward = layer.forward;
      layer.forward = (x: NDArray): NDArray => {
        const out = forward.call(layer, x);
        shapes.set(layer, [...out.shape]);
        return out;
      };
      layer.training = false;
    }
    return model.forward(input);
  } finally {
    for (const { layer, training, ownForward } of saved) {
      if (ownForward === undefined) delete (layer as { forward?: unknown }).forward;
      else layer.forward = ownForward;
      layer.training = training;
    }
  }
}

/** The layer's parameters that none of its children holds. */
function ownParameters(layer: NeuralLayer): Parameter[] {
  const inChildren = new Set(layer.namedChildren().flatMap(([, child]) => child.parameters()));
  return layer.parameters().filter((p) => !inChildren.has(p));
}

function count(parameters: readonly Parameter[]): number {
  return parameters.reduce((n, p) => n + p.size, 0);
}

function checkInputShape(inputShape: unknown): number[] {
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ValueError(
      `${OP}: inputShape must be a non-empty array of positive integers, the whole input with its batch dimension ` +
        `(e.g. [1, 784]), got ${Array.isArray(inputShape) ? `[${inputShape.map((d) => describe(d)).join(', ')}]` : describe(inputShape)}`,
    );
  }
  return [...inputShape];
}

/** 101,770: thousands separated by commas, as torchinfo prints counts. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
