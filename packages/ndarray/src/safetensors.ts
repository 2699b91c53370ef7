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
const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

function bytesOf(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Serialises named tensors (in the record's order) and optional string
 * metadata into safetensors bytes.
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new SafetensorsError(`encodeSafetensors: metadata value for '${k}' must be a string, got ${typeof v}`);
      }
    }
    header.__metadata__ = { ...metadata };
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new SafetensorsError("encodeSafetensors: '__metadata__' is reserved and cannot name a tensor");
    const code = CODES[tensor?.dtype as keyof typeof CODES];
    if (code === undefined) {
      throw new SafetensorsError(
        `encodeSafetensors: tensor '${name}' has dtype ${String(tensor?.dtype)}; expected float32, float64, int32 or int64`,
      );
    }
    const bytes = bytesOf(tensor);
    header[name] = { dtype: code, shape: [...tensor.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
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
 * throws a SafetensorsError that says what was found and what was expected.
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
  if (headerLength > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(
      `decodeSafetensors: header length ${headerLength} runs past the end of the ${bytes.length}-byte file`,
    );
  }
  const start = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, start)));
  } catch (error) {
    throw new SafetensorsError(`decodeSafetensors: header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError('decodeSafetensors: header must be a JSON object');
  }
  const duplicate = firstDuplicateKey(new TextDecoder().decode(bytes.subarray(8, start)));
  if (duplicate !== undefined) {
    throw new SafetensorsError(`decodeSafetensors: the header names '${duplicate}' twice`);
  }
  const dataLength = bytes.length - start;
  const metadata: Record<string, string> = {};
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
    if (info === null || typeof info !== 'object') {
      throw new SafetensorsError(`decodeSafetensors: entry '${name}' must be an object`);
    }
    const code = info.dtype as Code;
    if (!(code in BYTES)) {
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
  const tensors: Record<string, NDArray> = {};
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

/**
 * IEEE half precision (1 sign, 5 exponent, 10 fraction bits) widened to
 * float32, exactly: every half is a float32. Subnormals are f·2⁻²⁴, exponent
 * 31 is ±∞ (fraction 0) or NaN.
 */
function halfToFloat32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else out[i] = sign * (1024 + fraction) * 2 ** (exponent - 25);
  }
  return out;
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

/**
 * The first top-level key that appears twice in a JSON object's text, which
 * JSON.parse would silently resolve to the last one. `text` is known to be
 * valid JSON, so tracking strings and nesting depth is enough.
 */
function firstDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (text[k] === ' ' || text[k] === '\t' || text[k] === '\n' || text[k] === '\r') k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    }
  }
  return undefined;
}
