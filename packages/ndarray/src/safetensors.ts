/**
 * The safetensors format (https://github.com/huggingface/safetensors): an
 * 8-byte little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, then the raw little-endian bytes. PyTorch writes it
 * with `safetensors.torch.save_file(model.state_dict(), path)`, so weights move
 * between PyTorch and these packages as they are.
 *
 * Reading gives NDArrays only: F32 and F64 as they are; F16 and BF16 (half
 * precision, as `model.half()` and `model.bfloat16()` save) widened exactly to
 * float32; I32 and I64 (torch's integer tensors: class indices, BatchNorm's
 * `num_batches_tracked`) as int32, an I64 value int32 cannot hold being an
 * error. Writing is exact: float32 → F32, float64 → F64, int32 → I32.
 */
import { halfToFloat32 } from './half';
import { NDArray } from './ndarray';
import { sizeOf } from './shape';

/**
 * An integer tensor given by its raw typed array, which `encodeSafetensors`
 * still writes (int64 from a BigInt64Array as I64).
 *
 * @deprecated Pass an int32 NDArray instead (`array(values, { dtype: 'int32' })`);
 * `decodeSafetensors` returns int32 NDArrays for I32 and I64 tensors and never this.
 */
export interface IntTensor {
  readonly dtype: 'int32' | 'int64';
  readonly shape: readonly number[];
  readonly data: Int32Array | BigInt64Array;
}

/** What `encodeSafetensors` writes: an NDArray, or (deprecated) an {@link IntTensor}. */
export type Tensor = NDArray | IntTensor;

/** A malformed or unsupported safetensors file. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const CODES = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64' } as const;
type Code = (typeof CODES)[keyof typeof CODES] | 'F16' | 'BF16';
const BYTES: Record<Code, number> = { F32: 4, F64: 8, I32: 4, I64: 8, F16: 2, BF16: 2 };
/** The typed array each code that is written holds its data in. */
const ARRAY_TYPES = { F32: Float32Array, F64: Float64Array, I32: Int32Array, I64: BigInt64Array } as const;
const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

function bytesOf(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * What `decodeSafetensors` accepts, checked before anything is parsed or
 * allocated, so a hostile file costs about what a real one of its size does;
 * `encodeSafetensors` keeps to the same limits, so it never writes a file the
 * decoder refuses.
 */
export const SAFETENSORS_LIMITS = {
  /** Bytes of JSON header: the reference implementation's cap (100 MB). */
  headerBytes: 100_000_000,
  /** Tensors in one file; a checkpoint shard holds hundreds to thousands. */
  tensors: 100_000,
  /** Dimensions of one tensor: numpy 2's limit. */
  rank: 64,
  /** Entries in `__metadata__`; writers put a handful there (`format: "pt"`). */
  metadataEntries: 10_000,
} as const;

/** The fields of a tensor entry; the header holds nothing else. */
const ENTRY_FIELDS = ['dtype', 'shape', 'data_offsets'];

/** What a value is, for an error message: `null`, `an array`, `a Map`, `an NDArray`, `a number`. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Map) return 'a Map';
  if (value instanceof NDArray) return 'an NDArray';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Map) && !(value instanceof NDArray)
  );
}

/**
 * Serialises named tensors (in the record's order) and optional string
 * metadata into safetensors bytes. Every name is kept, `__proto__` included.
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  if (!isRecord(tensors)) {
    throw new SafetensorsError(`encodeSafetensors: expected a record of named tensors, got ${kindOf(tensors)}`);
  }
  // Null-prototype objects, so a name like `__proto__` is a key like any other.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) {
    if (!isRecord(metadata)) {
      throw new SafetensorsError(`encodeSafetensors: metadata must be a record of strings, got ${kindOf(metadata)}`);
    }
    const entries = Object.entries(metadata);
    if (entries.length > SAFETENSORS_LIMITS.metadataEntries) {
      throw new SafetensorsError(
        `encodeSafetensors: metadata has ${entries.length} entries, more than the ${SAFETENSORS_LIMITS.metadataEntries} a file may hold (SAFETENSORS_LIMITS.metadataEntries)`,
      );
    }
    const copy: Record<string, string> = Object.create(null);
    for (const [k, v] of entries) {
      if (typeof v !== 'string') {
        throw new SafetensorsError(`encodeSafetensors: metadata value for '${k}' must be a string, got ${typeof v}`);
      }
      copy[k] = v;
    }
    header.__metadata__ = copy;
  }
  const named = Object.entries(tensors);
  if (named.length > SAFETENSORS_LIMITS.tensors) {
    throw new SafetensorsError(
      `encodeSafetensors: ${named.length} tensors, more than the ${SAFETENSORS_LIMITS.tensors} a file may hold (SAFETENSORS_LIMITS.tensors)`,
    );
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, tensor] of named) {
    if (name === '__metadata__') throw new SafetensorsError("encodeSafetensors: '__metadata__' is reserved and cannot name a tensor");
    const dtype: unknown = tensor?.dtype;
    if (typeof dtype !== 'string' || !Object.hasOwn(CODES, dtype)) {
      throw new SafetensorsError(
        `encodeSafetensors: tensor '${name}' has dtype ${String(dtype)}; expected float32, float64, int32 or int64`,
      );
    }
    const code = CODES[dtype as keyof typeof CODES];
    if (!Array.isArray(tensor.shape)) {
      throw new SafetensorsError(`encodeSafetensors: tensor '${name}' has shape ${kindOf(tensor.shape)}; expected an array of dimensions`);
    }
    if (!ArrayBuffer.isView(tensor.data)) {
      throw new SafetensorsError(`encodeSafetensors: tensor '${name}' has data ${kindOf(tensor.data)}; expected a typed array`);
    }
    if (tensor.shape.length > SAFETENSORS_LIMITS.rank) {
      throw new SafetensorsError(
        `encodeSafetensors: tensor '${name}' has ${tensor.shape.length} dimensions, more than ${SAFETENSORS_LIMITS.rank} (SAFETENSORS_LIMITS.rank)`,
      );
    }
    if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`encodeSafetensors: tensor '${name}' has shape [${tensor.shape.join(', ')}]; expected non-negative integers`);
    }
    const expected = ARRAY_TYPES[code];
    if (!(tensor.data instanceof expected)) {
      throw new SafetensorsError(
        `encodeSafetensors: tensor '${name}' is ${tensor.dtype} but its data is ${kindOf(tensor.data)}; expected a ${expected.name}`,
      );
    }
    const bytes = bytesOf(tensor);
    // An NDArray's data always fits its shape; a hand-made IntTensor's may not.
    if (sizeOf(tensor.shape) * BYTES[code] !== bytes.length) {
      throw new SafetensorsError(
        `encodeSafetensors: tensor '${name}' has shape [${tensor.shape.join(', ')}] (${code}), which needs ${sizeOf(tensor.shape) * BYTES[code]} bytes; its data holds ${bytes.length}`,
      );
    }
    header[name] = { dtype: code, shape: [...tensor.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded > SAFETENSORS_LIMITS.headerBytes) {
    throw new SafetensorsError(
      `encodeSafetensors: the header would take ${padded} bytes, more than ${SAFETENSORS_LIMITS.headerBytes} (SAFETENSORS_LIMITS.headerBytes)`,
    );
  }
  json += ' '.repeat(padded - headerBytes.length);
  const encodedHeader = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + encodedHeader.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(encodedHeader.length), true);
  out.set(encodedHeader, 8);
  let position = 8 + encodedHeader.length;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}

/** Both records have a null prototype, so every name in the file is a key, `__proto__` included. */
export interface DecodedSafetensors {
  /** Every tensor as an NDArray: float32 (F32, F16, BF16), float64 (F64) or int32 (I32, I64). */
  tensors: Record<string, NDArray>;
  metadata: Record<string, string>;
}

/**
 * Reads safetensors bytes into NDArrays: F32 and F64 as they are, F16 and
 * BF16 widened exactly to float32 (subnormals, ±0, ±∞ and NaN included), I32
 * and I64 as int32 (an I64 value outside int32's range is a SafetensorsError
 * naming the tensor and the value). The data is copied out of `bytes` (which
 * may sit at any offset, as a Node Buffer does). Every structural problem
 * throws a SafetensorsError that says what was found and what was expected,
 * and a header beyond {@link SAFETENSORS_LIMITS} is refused before it is parsed.
 *
 * @example
 * const { tensors } = decodeSafetensors(readFileSync('model.safetensors'));
 * model.loadStateDict(tensors);
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError(`decodeSafetensors: expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  }
  if (bytes.length < 8) {
    throw new SafetensorsError(`decodeSafetensors: file is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(SAFETENSORS_LIMITS.headerBytes)) {
    throw new SafetensorsError(
      `decodeSafetensors: header length ${headerLength} is over the ${SAFETENSORS_LIMITS.headerBytes}-byte limit (SAFETENSORS_LIMITS.headerBytes)`,
    );
  }
  if (headerLength > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(
      `decodeSafetensors: header length ${headerLength} runs past the end of the ${bytes.length}-byte file`,
    );
  }
  const start = 8 + Number(headerLength);
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, start));
    // Limits, nesting and duplicate names first: JSON.parse would build whatever the text holds.
    checkHeaderText(text);
    header = JSON.parse(text);
  } catch (error) {
    if (error instanceof SafetensorsError) throw error;
    throw new SafetensorsError(`decodeSafetensors: header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError('decodeSafetensors: header must be a JSON object');
  }
  const dataLength = bytes.length - start;
  // Null-prototype objects, so a name like `__proto__` is a key like any other.
  const metadata: Record<string, string> = Object.create(null);
  const entries: { name: string; code: Code; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new SafetensorsError('decodeSafetensors: __metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new SafetensorsError(`decodeSafetensors: metadata '${k}' must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (info === null || typeof info !== 'object' || Array.isArray(info)) {
      throw new SafetensorsError(
        `decodeSafetensors: entry '${name}' must be an object of dtype, shape and data_offsets, got ${JSON.stringify(info)}`,
      );
    }
    const code = info.dtype as Code;
    if (typeof code !== 'string' || !Object.hasOwn(BYTES, code)) {
      throw new SafetensorsError(
        `decodeSafetensors: tensor '${name}' has dtype ${JSON.stringify(info.dtype)}; supported: F16, BF16, F32, F64, I32, I64`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(
        `decodeSafetensors: tensor '${name}' has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`,
      );
    }
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new SafetensorsError(
        `decodeSafetensors: tensor '${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 <= begin <= end`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) {
      throw new SafetensorsError(
        `decodeSafetensors: tensor '${name}' ends at byte ${end}, past the ${dataLength} bytes of data`,
      );
    }
    const expected = sizeOf(shape) * BYTES[code];
    if (end - begin !== expected) {
      throw new SafetensorsError(
        `decodeSafetensors: tensor '${name}' of shape [${shape.join(', ')}] (${code}) needs ${expected} bytes, its offsets hold ${end - begin}`,
      );
    }
    entries.push({ name, code, shape, begin, end });
  }
  // The data must be covered exactly once: no overlaps, no holes (as the reference reader checks).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of sorted) {
    if (e.begin !== covered) {
      throw new SafetensorsError(
        `decodeSafetensors: tensor '${e.name}' starts at byte ${e.begin}, expected ${covered} ` +
          `(${e.begin < covered ? 'it overlaps the previous tensor' : 'the data has a hole'})`,
      );
    }
    covered = e.end;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(`decodeSafetensors: tensors cover ${covered} of the ${dataLength} data bytes`);
  }
  const tensors: Record<string, NDArray> = Object.create(null);
  for (const e of entries) {
    // Copy so the typed array is aligned whatever the source buffer's offset.
    // Uint8Array's own slice copies; a Node Buffer's slice would be a view of its pool.
    const buffer = Uint8Array.prototype.slice.call(bytes, start + e.begin, start + e.end).buffer;
    switch (e.code) {
      case 'F32':
        tensors[e.name] = new NDArray(new Float32Array(buffer), e.shape);
        break;
      case 'F64':
        tensors[e.name] = new NDArray(new Float64Array(buffer), e.shape);
        break;
      case 'F16':
        tensors[e.name] = new NDArray(halfToFloat32(new Uint16Array(buffer)), e.shape);
        break;
      case 'BF16':
        tensors[e.name] = new NDArray(bfloat16ToFloat32(new Uint16Array(buffer)), e.shape);
        break;
      case 'I32':
        tensors[e.name] = new NDArray(new Int32Array(buffer), e.shape);
        break;
      case 'I64':
        tensors[e.name] = new NDArray(int64ToInt32(e.name, new BigInt64Array(buffer)), e.shape);
        break;
    }
  }
  return { tensors, metadata };
}

/** bfloat16 is the top half of a float32: shifting its bits up is the exact widening (NaN payloads kept). */
function bfloat16ToFloat32(half: Uint16Array): Float32Array {
  const bits = new Uint32Array(half.length);
  for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
  return new Float32Array(bits.buffer);
}

/** int64 values as int32, or a SafetensorsError naming the tensor and the first value that does not fit. */
function int64ToInt32(name: string, wide: BigInt64Array): Int32Array {
  const out = new Int32Array(wide.length);
  for (let i = 0; i < wide.length; i++) {
    const v = wide[i];
    if (v < INT32_MIN || v > INT32_MAX) {
      throw new SafetensorsError(
        `decodeSafetensors: tensor '${name}' (I64) holds ${v} at flat index ${i}, outside int32's range ` +
          `[-2147483648, 2147483647]; integer tensors are read as int32`,
      );
    }
    out[i] = Number(v);
  }
  return out;
}

/** One open object or array while `checkHeaderText` walks the header. */
interface Frame {
  /** What the container is: the header itself, `__metadata__`, a tensor's entry, or a value inside one of those. */
  role: 'header' | 'metadata' | 'entry' | 'value';
  isArray: boolean;
  /** Keys seen so far (objects) or commas seen so far (arrays). */
  keys: Set<string>;
  commas: number;
  /** The tensor the container belongs to, and the field it sits under (for messages). */
  tensor: string;
  field: string;
  /** The key just read, which names the next value. */
  key: string;
}

/**
 * Walks the header's text once, before JSON.parse, and throws a
 * SafetensorsError as soon as the header breaks the format's shape or
 * {@link SAFETENSORS_LIMITS}: more than three levels deep (header → tensor
 * entry → shape or data_offsets), a field other than dtype, shape and
 * data_offsets in an entry, any object naming a key twice (JSON.parse would
 * keep the last silently), too many tensors or metadata entries, an array
 * longer than the rank limit. Malformed JSON is left to JSON.parse to report.
 */
function checkHeaderText(text: string): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      if (stack.length === 3) {
        throw new SafetensorsError(
          `decodeSafetensors: the header nests deeper than 3 levels${where(parent)}; a header is an object of tensor entries ` +
            'whose dtype is a string and whose shape and data_offsets are arrays of integers',
        );
      }
      const frame: Frame = { role: 'header', isArray: c === 0x5b, keys: new Set(), commas: 0, tensor: '', field: '', key: '' };
      if (parent?.role === 'header') {
        frame.role = parent.key === '__metadata__' ? 'metadata' : 'entry';
        frame.tensor = parent.key;
      } else if (parent !== undefined) {
        frame.role = 'value';
        frame.tensor = parent.tensor;
        frame.field = parent.key;
      }
      stack.push(frame);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const frame = stack[stack.length - 1];
      if (frame?.isArray && ++frame.commas >= SAFETENSORS_LIMITS.rank) {
        throw new SafetensorsError(
          frame.field === 'shape' && frame.role === 'value'
            ? `decodeSafetensors: tensor '${frame.tensor}' has more than ${SAFETENSORS_LIMITS.rank} dimensions (SAFETENSORS_LIMITS.rank)`
            : `decodeSafetensors: an array${where(frame)} holds more than ${SAFETENSORS_LIMITS.rank} values (SAFETENSORS_LIMITS.rank)`,
        );
      }
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (j >= text.length) return; // an unterminated string: JSON.parse reports it
      const frame = stack[stack.length - 1];
      let k = j + 1;
      while (k < text.length && (text[k] === ' ' || text[k] === '\t' || text[k] === '\n' || text[k] === '\r')) k++;
      if (frame !== undefined && !frame.isArray && text[k] === ':') {
        const literal = text.slice(i, j + 1);
        checkKey(frame, literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1));
      }
      i = j;
    }
  }
}

/** Records one key of an object, and throws if it breaks the format or a limit. */
function checkKey(frame: Frame, key: string): void {
  if (frame.keys.has(key)) {
    throw new SafetensorsError(
      frame.role === 'header'
        ? `decodeSafetensors: the header names '${key}' twice`
        : `decodeSafetensors: the header names '${key}' twice${where(frame)}`,
    );
  }
  frame.keys.add(key);
  frame.key = key;
  const count = frame.keys.size;
  if (frame.role === 'header' && count > SAFETENSORS_LIMITS.tensors + (frame.keys.has('__metadata__') ? 1 : 0)) {
    throw new SafetensorsError(
      `decodeSafetensors: the header names more than ${SAFETENSORS_LIMITS.tensors} tensors (SAFETENSORS_LIMITS.tensors)`,
    );
  }
  if (frame.role === 'metadata' && count > SAFETENSORS_LIMITS.metadataEntries) {
    throw new SafetensorsError(
      `decodeSafetensors: __metadata__ has more than ${SAFETENSORS_LIMITS.metadataEntries} entries (SAFETENSORS_LIMITS.metadataEntries)`,
    );
  }
  if (frame.role === 'entry' && !ENTRY_FIELDS.includes(key)) {
    throw new SafetensorsError(
      `decodeSafetensors: tensor '${frame.tensor}' has a field '${key}'; an entry holds only dtype, shape and data_offsets`,
    );
  }
  if (frame.role === 'value' && count > SAFETENSORS_LIMITS.rank) {
    throw new SafetensorsError(`decodeSafetensors: an object${where(frame)} holds more than ${SAFETENSORS_LIMITS.rank} keys`);
  }
}

/** Where a container sits, for a message: ` in tensor 'w'`, ` in tensor 'w' under 'shape'`, ` in __metadata__`. */
function where(frame: Frame | undefined): string {
  if (frame === undefined || frame.role === 'header') return '';
  if (frame.role === 'metadata') return ' in __metadata__';
  if (frame.tensor === '__metadata__') return ` in __metadata__ under '${frame.field}'`;
  return frame.role === 'entry' ? ` in tensor '${frame.tensor}'` : ` in tensor '${frame.tensor}' under '${frame.field}'`;
}
