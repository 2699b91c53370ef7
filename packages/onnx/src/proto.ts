/**
 * The ONNX protobuf messages, from `onnx-proto` (the ONNX project's `onnx.proto`
 * compiled by protobufjs). It is a CommonJS module: its default export holds the
 * `onnx` namespace under both module systems.
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;

/*
 * The messages this package writes, as plain records that protobufjs encodes
 * (`onnx.ModelProto.create` takes them as they are). Declared here rather than
 * taken from onnx-proto's types, which are bundled and not shipped.
 */

export interface AttributeProto {
  name: string;
  type: number;
  i?: number;
  ints?: number[];
  f?: number;
  floats?: number[];
  s?: Uint8Array;
  strings?: Uint8Array[];
}

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

export interface NodeProto {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

/** The element types this package writes, as ONNX's `TensorProto.DataType` numbers. */
export type ElementType = 'float32' | 'int32' | 'int64' | 'bool';

export const ELEMENT_TYPES: Readonly<Record<ElementType, number>> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** An attribute value as a node takes it: numbers are INT unless written with {@link float}. */
export type AttributeValue = number | readonly number[] | string | Float | Floats | Strings;

/** A FLOAT attribute (ONNX separates them from INT ones; JavaScript numbers do not). */
export interface Float {
  readonly float: number;
}

/** A FLOATS attribute. */
export interface Floats {
  readonly floats: readonly number[];
}

/** A STRINGS attribute (a recurrent operator's `activations`, say). */
export interface Strings {
  readonly strings: readonly string[];
}

export function strings(values: readonly string[]): Strings {
  return { strings: values };
}

export function float(value: number): Float {
  return { float: value };
}

export function floats(values: readonly number[]): Floats {
  return { floats: values };
}

const { AttributeType } = onnx.AttributeProto;

export function attribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new RangeError(`attribute ${name}: ${value} is not an integer; write float(${value})`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  if ('strings' in value) return { name, type: AttributeType.STRINGS, strings: value.strings.map((s) => new TextEncoder().encode(s)) };
  return { name, type: AttributeType.INTS, ints: [...value] };
}

/** A tensor's bytes as ONNX stores them: little-endian, row-major. */
export function tensorProto(name: string, type: ElementType, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new RangeError(`tensor ${name}: ${values.length} values for shape [${dims.join(', ')}]`);
  const bytes = new Uint8Array(count * (type === 'int64' ? 8 : type === 'bool' ? 1 : 4));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (type === 'float32') view.setFloat32(i * 4, v, true);
    else if (type === 'int32') view.setInt32(i * 4, v, true);
    else if (type === 'int64') view.setBigInt64(i * 8, BigInt(v), true);
    else view.setUint8(i, v ? 1 : 0);
  }
  return { name, dims: [...dims], dataType: ELEMENT_TYPES[type], rawData: bytes };
}
