import type { NeuralLayer } from '@backprop/layers';
import { DTypeError, type NDArray, Parameter, formatShape } from '@backprop/ndarray';
import { OnnxExportError } from './errors';
import { type AttributeValue, type ElementType, attribute, type NodeProto, type TensorProto, tensorProto } from './proto';

/** A dimension: a size, or the name of one fixed only when the model runs (`'batch'`). */
export type Dim = number | string;

/** A value in the graph being written: its name, shape and element type. */
export interface OnnxValue {
  readonly name: string;
  readonly shape: readonly Dim[];
  readonly type: ElementType;
}

/**
 * Writes one layer into `graph` as ONNX nodes reading `input`, and returns the
 * value its `forward` (in eval mode) would return.
 *
 * @example
 * // A layer that scales its input by a learned vector.
 * const exportScale: LayerExporter<Scale> = (graph, layer, input) =>
 *   graph.op('Mul', [input, graph.weight(layer.weight)]);
 */
export type LayerExporter<L extends NeuralLayer = NeuralLayer> = (graph: OnnxGraph, layer: L, input: OnnxValue) => OnnxValue;

// biome-ignore lint/suspicious/noExplicitAny: a map from any layer class to the exporter of that class.
export type LayerClass = abstract new (...args: any[]) => NeuralLayer;

/** Exporters by layer class; `exportOnnx`'s `exporters` option is one of these. */
export type ExporterMap = ReadonlyMap<LayerClass, LayerExporter<never>>;

/** One class and its exporter, typed together. */
export type ExporterEntry = readonly [LayerClass, LayerExporter<never>];

/**
 * Pairs a layer class with its exporter, so the exporter's `layer` is typed as
 * that class: `new Map([exporter(Scale, (graph, layer, input) => ...)])`.
 */
// biome-ignore lint/suspicious/noExplicitAny: any constructor arguments.
export function exporter<L extends NeuralLayer>(layerClass: abstract new (...args: any[]) => L, write: LayerExporter<L>): ExporterEntry {
  return [layerClass, write as LayerExporter<never>];
}

export interface NodeOptions {
  /** The node's attributes; integers are INT(S), {@link float}/{@link floats} are FLOAT(S). */
  attributes?: Record<string, AttributeValue | undefined>;
  /** The output's shape; by default the inputs' broadcast shape. */
  shape?: readonly Dim[];
  /** The output's element type; by default the first input's. */
  type?: ElementType;
  /** The output's name (the graph's output, say); by default one made from the scope and the operator. */
  output?: string;
}

/**
 * The graph an export writes. Exporters add nodes through it: {@link op} for
 * one node, {@link weight} for a parameter or buffer of the model (an
 * initializer under its state-dict name), {@link layer} to export a child layer
 * in place. Nodes are named after the layer that wrote them
 * (`encoder.layers.0.self_attn/MatMul_3`), so ONNX Runtime's errors and a graph
 * viewer point back to the model.
 */
export class OnnxGraph {
  readonly opset: number;
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly #weightNames: ReadonlyMap<NDArray, string>;
  readonly #weightNameSet: ReadonlySet<string>;
  readonly #layerNames: ReadonlyMap<NeuralLayer, string>;
  readonly #exporters: ExporterMap;
  readonly #written = new Map<string, OnnxValue>();
  readonly #used = new Set<string>();
  readonly #reserved = new Set<string>();
  #scope = '';

  constructor(model: NeuralLayer, opset: number, exporters: ExporterMap) {
    this.opset = opset;
    this.#exporters = exporters;
    const named: [string, NDArray][] = [...model.namedParameters().map(([name, p]): [string, NDArray] => [name, p.value]), ...model.namedBuffers()];
    const weights = new Map<NDArray, string>();
    for (const [name, array] of named) if (!weights.has(array)) weights.set(array, name);
    this.#weightNames = weights;
    this.#weightNameSet = new Set(named.map(([name]) => name));
    const layers = new Map<NeuralLayer, string>([[model, '']]);
    const visit = (layer: NeuralLayer, prefix: string): void => {
      for (const [name, child] of layer.namedChildren()) {
        if (layers.has(child)) continue;
        const path = prefix === '' ? name : `${prefix}.${name}`;
        layers.set(child, path);
        visit(child, path);
      }
    };
    visit(model, '');
    this.#layerNames = layers;
  }

  /** Whether `name` is a weight's state-dict name (the initializer it becomes, read or not). */
  isWeightName(name: string): boolean {
    return this.#weightNameSet.has(name);
  }

  /** Claims the name `input` for the graph's input (so nothing else takes it). */
  input(name: string, shape: readonly Dim[], type: ElementType): OnnxValue {
    this.#claim(name);
    return { name, shape, type };
  }

  /** Keeps `name` for a node written later with `{ output: name }` (the graph's output). */
  reserve(name: string): void {
    this.#claim(name);
    this.#reserved.add(name);
  }

  /**
   * Writes `layer` (the model or one of its layers) reading `input`, with the
   * exporter for its class: the `exporters` option first, then this package's.
   * `write` replaces that exporter for this call, e.g. to ask for an
   * attention's causal form: `graph.layer(attn, x, (g, l, v) => multiheadAttention(g, l, v, { causal: true }))`.
   */
  layer<L extends NeuralLayer>(layer: L, input: OnnxValue, write?: LayerExporter<L>): OnnxValue {
    const exporter = (write ?? this.#exporters.get(layer.constructor as LayerClass)) as LayerExporter<L> | undefined;
    const where = this.describe(layer);
    if (exporter === undefined) {
      const error = new OnnxExportError(
        `exportOnnx: ${where} has no ONNX exporter; pass one for its class: ` +
          `exportOnnx(model, { ..., exporters: new Map([exporter(${layer.typeName}, (graph, layer, input) => ...)]) })`,
      );
      located.add(error);
      throw error;
    }
    const outer = this.#scope;
    this.#scope = this.#layerNames.get(layer) ?? outer;
    try {
      return exporter(this, layer, input);
    } catch (error) {
      // Said once, by the innermost layer: which layer the exporter was writing.
      if (error instanceof Error && !located.has(error)) {
        error.message = `exportOnnx: ${where}: ${error.message}`;
        located.add(error);
      }
      throw error;
    } finally {
      this.#scope = outer;
    }
  }

  /** `layer 'encoder.layers.0' (TransformerEncoderLayer)`, or `the model (Net)`. */
  describe(layer: NeuralLayer): string {
    const path = this.#layerNames.get(layer);
    return path === '' ? `the model (${layer.typeName})` : `layer '${path ?? '?'}' (${layer.typeName})`;
  }

  /**
   * A parameter or buffer of the model as a float32 initializer named as in
   * `model.stateDict()` (written once however often it is read). Optionally
   * reshaped by a `Reshape` node (the initializer keeps the state dict's shape).
   */
  weight(array: Parameter | NDArray): OnnxValue {
    const value = array instanceof Parameter ? array.value : array;
    const name = this.#weightNames.get(value);
    if (name === undefined) {
      throw new OnnxExportError(
        `exportOnnx: an array of shape ${formatShape(value.shape)} read by an exporter in '${this.#scope}' is not a parameter or buffer of the model`,
      );
    }
    const known = this.#written.get(name);
    if (known !== undefined) return known;
    if (value.dtype === 'int32') throw new OnnxExportError(`exportOnnx: '${name}' is an int32 buffer; only float weights are written`);
    this.#claim(name);
    this.initializers.push(tensorProto(name, 'float32', value.shape, value.data));
    const written: OnnxValue = { name, shape: value.shape, type: 'float32' };
    this.#written.set(name, written);
    return written;
  }

  /** A constant tensor (a float32 scalar by default), as an initializer named after the scope. */
  constant(values: number | readonly number[], options: { shape?: readonly number[]; type?: ElementType } = {}): OnnxValue {
    const data = typeof values === 'number' ? [values] : values;
    const shape = options.shape ?? (typeof values === 'number' ? [] : [data.length]);
    const type = options.type ?? 'float32';
    const name = this.#fresh('const');
    this.initializers.push(tensorProto(name, type, shape, data));
    return { name, shape, type };
  }

  /** A 1-D int64 constant: shapes, axes, starts and ends. */
  ints(values: readonly number[]): OnnxValue {
    return this.constant(values, { type: 'int64' });
  }

  /** Appends one `opType` node reading `inputs` (`null` for an omitted optional input) and returns its output. */
  op(opType: string, inputs: readonly (OnnxValue | null)[], options: NodeOptions = {}): OnnxValue {
    const [output] = this.ops(opType, inputs, 1, options);
    return output;
  }

  /** Appends one node with `outputs` outputs, each of `options.shape` (give per-output shapes with {@link rename}). */
  ops(opType: string, inputs: readonly (OnnxValue | null)[], outputs: number, options: NodeOptions = {}): OnnxValue[] {
    const given = inputs.filter((v): v is OnnxValue => v !== null);
    const shape = options.shape ?? broadcastDims(given.map((v) => v.shape));
    const type = options.type ?? given[0]?.type ?? 'float32';
    if (options.output !== undefined) {
      if (outputs !== 1) throw new OnnxExportError(`exportOnnx: an output name for a node with ${outputs} outputs`);
      if (!this.#reserved.delete(options.output)) this.#claim(options.output);
    }
    const results = Array.from({ length: outputs }, () => ({ name: options.output ?? this.#fresh(opType), shape, type }));
    const attributes = Object.entries(options.attributes ?? {})
      .filter((entry): entry is [string, AttributeValue] => entry[1] !== undefined)
      .map(([name, value]) => attribute(name, value));
    this.nodes.push({
      opType,
      name: results[0].name,
      // An omitted optional input is '' before a given one; trailing ones are left out.
      input: trimTrailing(inputs).map((v) => v?.name ?? ''),
      output: results.map((r) => r.name),
      attribute: attributes,
    });
    return results;
  }

  /** `Reshape(value, shape)`; 0 keeps the input's size there and -1 takes the rest, as ONNX's Reshape. */
  reshape(value: OnnxValue, shape: readonly number[], known: readonly Dim[]): OnnxValue {
    return this.op('Reshape', [value, this.ints(shape)], { shape: known });
  }

  /** `Transpose(value, perm)`. */
  transpose(value: OnnxValue, perm: readonly number[]): OnnxValue {
    return this.op('Transpose', [value], { attributes: { perm }, shape: perm.map((p) => value.shape[p]) });
  }

  /** `ReduceMean` over `axes`, keeping them (opset 17 takes axes as an attribute, 18 as an input). */
  reduceMean(value: OnnxValue, axes: readonly number[]): OnnxValue {
    const rank = value.shape.length;
    const shape = value.shape.map((d, i) => (axes.some((a) => (a + rank) % rank === i) ? 1 : d));
    if (this.opset >= 18) return this.op('ReduceMean', [value, this.ints(axes)], { attributes: { keepdims: 1 }, shape });
    return this.op('ReduceMean', [value], { attributes: { axes, keepdims: 1 }, shape });
  }

  /** `MatMul(a, b)` with numpy's shapes. */
  matmul(a: OnnxValue, b: OnnxValue): OnnxValue {
    const batch = broadcastDims([a.shape.slice(0, -2), b.shape.slice(0, -2)]);
    const shape = b.shape.length === 1 ? a.shape.slice(0, -1) : [...batch, a.shape.at(-2) ?? 1, b.shape.at(-1) as Dim];
    return this.op('MatMul', [a, b], { shape: a.shape.length === 1 ? b.shape.slice(0, -2).concat(b.shape.slice(-1)) : shape });
  }

  #fresh(kind: string): string {
    const base = `${this.#scope === '' ? '' : `${this.#scope}/`}${kind}`;
    let name = base;
    for (let i = 1; this.#used.has(name); i++) name = `${base}_${i}`;
    this.#claim(name);
    return name;
  }

  #claim(name: string): void {
    if (this.#used.has(name)) throw new OnnxExportError(`exportOnnx: the name '${name}' is used twice in the graph`);
    this.#used.add(name);
  }
}

function trimTrailing(inputs: readonly (OnnxValue | null)[]): readonly (OnnxValue | null)[] {
  let end = inputs.length;
  while (end > 0 && inputs[end - 1] === null) end--;
  return inputs.slice(0, end);
}

/** Errors that already say which layer they came from. */
const located = new WeakSet<Error>();

/**
 * The exporter of a layer that computes on floats, refusing other inputs: an
 * integer input (token ids) reaching it would give a model ONNX Runtime refuses to load.
 */
export function floatInput<L extends NeuralLayer>(write: LayerExporter<L>): LayerExporter<L> {
  return (graph, layer, input) => {
    if (input.type !== 'float32') {
      throw new DTypeError(`expected a float32 input, got ${input.type} [${input.shape.join(', ')}]; token ids go through an Embedding first`);
    }
    return write(graph, layer, input);
  };
}

/** numpy's broadcast of shapes whose sizes may be symbolic (a symbol meets 1 or itself). */
export function broadcastDims(shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const shape of shapes) {
      const d = shape[shape.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1 || typeof dim === 'string') dim = d;
    }
    out.push(dim);
  }
  return out;
}
