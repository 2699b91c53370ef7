import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import {
  type IntTensor,
  NDArray,
  SafetensorsError,
  type Tensor,
  array,
  decodeSafetensors,
  encodeSafetensors,
} from '../src/index';
import { SAFETENSORS_LIMITS } from '../src/safetensors';
import { type FixtureTensor, loadFixture } from './helpers';

const readBytes = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

/** Exact equality, NaN equal to NaN, +0 and −0 told apart. */
function sameValues(actual: ArrayLike<number>, expected: readonly (number | string)[], label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const want = Number(expected[i]);
    if (!Object.is(actual[i], want)) throw new Error(`${label}: element ${i} is ${actual[i]}, expected ${want}`);
  }
}

describe('safetensors', () => {
  it('reads a file written from PyTorch tensors', () => {
    const bytes = readBytes('torch-state.safetensors');
    const expected = loadFixture<{ tensors: Record<string, FixtureTensor>; metadata: Record<string, string> }>('safetensors');
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual(expected.metadata);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, ref] of Object.entries(expected.tensors)) {
      const t = tensors[name];
      expect(t, name).toBeInstanceOf(NDArray);
      expect(t.shape, name).toEqual(ref.shape);
      // torch's int64 and int32 both come back as int32 NDArrays.
      expect(t.dtype, name).toBe(ref.dtype === 'int64' ? 'int32' : ref.dtype);
      expect(Array.from(t.data), name).toEqual(ref.data);
    }
  });

  it('widens F16 and BF16 files torch wrote exactly to float32 (±0, ±inf, NaN, subnormals), and reads I64 as int32', () => {
    const expected = loadFixture<{
      tensors: Record<string, { shape: number[]; data: (number | string)[] }>;
      dtypes: Record<string, string>;
    }>('safetensors-half');
    const { tensors, metadata } = decodeSafetensors(readBytes('torch-half.safetensors'));
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    expect(new Set(Object.values(expected.dtypes))).toEqual(new Set(['float16', 'bfloat16', 'int64', 'float32']));
    for (const [name, ref] of Object.entries(expected.tensors)) {
      const t = tensors[name];
      expect(t.shape, name).toEqual(ref.shape);
      expect(t.dtype, name).toBe(expected.dtypes[name] === 'int64' ? 'int32' : 'float32');
      sameValues(t.data, ref.data, name);
    }
    // The special values are there: a subnormal half (2⁻²⁴), −0, and a bfloat16 subnormal (2⁻¹³³).
    expect(tensors['half.special'].data).toContain(2 ** -24);
    expect(Object.is(tensors['half.special'].data[1], -0)).toBe(true);
    expect(tensors['bfloat16.special'].data).toContain(2 ** -133);
  });

  it('decodes every one of the 65,536 half and bfloat16 bit patterns to the float32 they stand for', () => {
    const patterns = new Uint16Array(65536).map((_, i) => i);
    const file = (code: 'F16' | 'BF16') => {
      const json = new TextEncoder().encode(JSON.stringify({ x: { dtype: code, shape: [65536], data_offsets: [0, 131072] } }));
      const out = new Uint8Array(8 + json.length + 131072);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(new Uint8Array(patterns.buffer), 8 + json.length);
      return out;
    };
    const half = decodeSafetensors(file('F16')).tensors.x.data;
    const bf16 = decodeSafetensors(file('BF16')).tensors.x.data;
    const bits = new Uint32Array(1);
    const asFloat = new Float32Array(bits.buffer);
    for (let h = 0; h < 65536; h++) {
      // bfloat16: the float32 with these 16 bits on top.
      bits[0] = h << 16;
      if (!Object.is(bf16[h], asFloat[0]) && !(Number.isNaN(bf16[h]) && Number.isNaN(asFloat[0]))) {
        throw new Error(`BF16 0x${h.toString(16)}: got ${bf16[h]}, expected ${asFloat[0]}`);
      }
      // half, by its definition: (−1)^s · 2^(e−15) · 1.f, subnormal 2^−14 · 0.f, e = 31 infinite or NaN.
      const s = h >> 15 ? -1 : 1;
      const e = (h >> 10) & 31;
      const f = h & 1023;
      const want = e === 31 ? (f ? Number.NaN : s * Number.POSITIVE_INFINITY) : e === 0 ? s * 2 ** -14 * (f / 1024) : s * 2 ** (e - 15) * (1 + f / 1024);
      if (!Object.is(half[h], want) && !(Number.isNaN(half[h]) && Number.isNaN(want))) {
        throw new Error(`F16 0x${h.toString(16)}: got ${half[h]}, expected ${want}`);
      }
    }
  });

  it('refuses an I64 value int32 cannot hold, naming the tensor and the value', () => {
    const bytes = readBytes('torch-int64-overflow.safetensors');
    expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(bytes)).toThrow(
      "decodeSafetensors: tensor 'ids' (I64) holds 2147483648 at flat index 2, outside int32's range [-2147483648, 2147483647]",
    );
    const low = encodeSafetensors({ low: { dtype: 'int64', shape: [1], data: new BigInt64Array([-(2n ** 31n) - 1n]) } });
    expect(() => decodeSafetensors(low)).toThrow(/'low' \(I64\) holds -2147483649/);
  });

  it('gives NDArrays a model can take: int32 for integer tensors, typed as NDArray', () => {
    const bytes = encodeSafetensors({ ids: array([1, 2, 3], { dtype: 'int32' }), w: array([0.5]) });
    const { tensors } = decodeSafetensors(bytes);
    const ids: NDArray = tensors.ids;
    expect(ids.dtype).toBe('int32');
    expect(ids.toArray()).toEqual([1, 2, 3]);
    expect(tensors.w.dtype).toBe('float32');
  });

  it('reads from a Buffer at an odd byte offset', () => {
    const bytes = encodeSafetensors({ w: array([1.5, -2], { dtype: 'float64' }) });
    const holder = new Uint8Array(bytes.length + 3);
    holder.set(bytes, 3);
    const shifted = holder.subarray(3);
    expect(decodeSafetensors(shifted).tensors.w.toArray()).toEqual([1.5, -2]);
  });

  it('round-trips every NDArray dtype and the metadata, byte for byte', () => {
    const record = {
      '0.weight': array([[0.1, 0.2], [0.3, 0.4]]),
      '0.bias': array([1, 2], { dtype: 'float64' }),
      counts: array([[7, -7]], { dtype: 'int32' }),
    };
    const bytes = encodeSafetensors(record, { architecture: 'mlp' });
    // Data starts 8-byte aligned, as the reference writer pads it.
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ architecture: 'mlp' });
    expect(decoded.tensors['0.weight'].data).toEqual(record['0.weight'].data);
    expect(decoded.tensors['0.bias'].dtype).toBe('float64');
    expect(decoded.tensors.counts.dtype).toBe('int32');
    expect(decoded.tensors.counts.shape).toEqual([1, 2]);
    expect(encodeSafetensors(decoded.tensors, decoded.metadata)).toEqual(bytes);
  });

  it('still writes the deprecated IntTensor records (int64 as I64), which read back as int32 NDArrays', () => {
    const ints: IntTensor = { dtype: 'int64', shape: [2], data: new BigInt64Array([-5n, 2n ** 31n - 1n]) };
    const i32: IntTensor = { dtype: 'int32', shape: [1, 2], data: new Int32Array([7, -7]) };
    const record: Record<string, Tensor> = { labels: ints, counts: i32 };
    const bytes = encodeSafetensors(record);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
    expect(header.labels.dtype).toBe('I64');
    expect(header.counts.dtype).toBe('I32');
    const { tensors } = decodeSafetensors(bytes);
    expect(tensors.labels.dtype).toBe('int32');
    expect(tensors.labels.toArray()).toEqual([-5, 2 ** 31 - 1]);
    expect(tensors.counts.toArray()).toEqual([[7, -7]]);
  });

  it('refuses to write a hand-made IntTensor it could not read back: a negative dimension, data of another type', () => {
    expect(() => encodeSafetensors({ t: { dtype: 'int32', shape: [-2, -2], data: new Int32Array(4) } as IntTensor })).toThrow(
      "encodeSafetensors: tensor 't' has shape [-2, -2]; expected non-negative integers",
    );
    expect(() => encodeSafetensors({ t: { dtype: 'int64', shape: [2], data: new Int32Array(4) } as unknown as IntTensor })).toThrow(
      /tensor 't' is int64 but its data is .*; expected a BigInt64Array/,
    );
  });

  it('rejects malformed files with a SafetensorsError that says what is wrong', () => {
    const good = encodeSafetensors({ w: array([1, 2, 3]) });
    const withHeader = (header: object, data = new Uint8Array(12)) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(data, 8 + json.length);
      return out;
    };
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 5), /starts with an 8-byte header length/],
      [good.subarray(0, good.length - 4), /needs 12 bytes|ends at byte 12/],
      [(() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 10n ** 6n, true); return b; })(), /runs past the end/],
      [withHeader([1, 2]), /must be a JSON object/],
      [withHeader({ w: { dtype: 'U8', shape: [12], data_offsets: [0, 12] } }), /dtype "U8"; supported: F16, BF16, F32, F64, I32, I64/],
      [withHeader({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 12] } }), /needs 8 bytes, its offsets hold 12/],
      [withHeader({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 12] } }), /non-negative integers/],
      [withHeader({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }), /needs 16 bytes, its offsets hold 12/],
      [withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), /starts at byte 4, expected 0/],
      [withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), /overlaps/],
      [withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }), /0 <= begin <= end/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(message);
    }
  });
});

describe('safetensors from Node Buffers', () => {
  it('copies tensor bytes out of a pooled Buffer rather than viewing its pool', () => {
    const bytes = encodeSafetensors({ a: array([[1, 2], [3, 4]]), b: array([5, 6, 7], { dtype: 'float64' }) });
    // Small Buffers share one pool, so byteOffset is non-zero and slice() would be a view.
    const pooled = Buffer.from(bytes);
    const { tensors } = decodeSafetensors(pooled);
    expect(tensors.a.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensors.b.toArray()).toEqual([5, 6, 7]);
  });
});

/** A file from header text and `dataLength` zero bytes of data. */
function fileOf(header: string, dataLength = 0): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/** The error `f` throws, which must be a SafetensorsError. */
function refusal(f: () => unknown): SafetensorsError {
  try {
    f();
  } catch (error) {
    if (error instanceof SafetensorsError) return error;
    throw new Error(`expected a SafetensorsError, got ${String(error)}`);
  }
  throw new Error('expected a SafetensorsError, but nothing was thrown');
}

describe('safetensors against hostile headers', () => {
  it('refuses a dtype, shape or data_offsets nested 100,000 deep with a SafetensorsError, not a stack overflow', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const fields = { dtype: '"F32"', shape: '[1]', data_offsets: '[0,4]' };
    for (const field of ['dtype', 'shape', 'data_offsets'] as const) {
      const entry = Object.entries({ ...fields, [field]: deep }).map(([k, v]) => `"${k}":${v}`);
      const error = refusal(() => decodeSafetensors(fileOf(`{"w":{${entry.join(',')}}}`, 4)));
      expect(error.message).toContain(`the header nests deeper than 3 levels in tensor 'w' under '${field}'`);
    }
    // Deep nesting in metadata, or a little too deep, is refused the same way.
    expect(refusal(() => decodeSafetensors(fileOf(`{"__metadata__":{"a":${deep}}}`))).message).toContain(
      "nests deeper than 3 levels in __metadata__ under 'a'",
    );
    expect(refusal(() => decodeSafetensors(fileOf('{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}', 4))).message).toContain(
      "nests deeper than 3 levels in tensor 'w' under 'shape'",
    );
  });

  // A variable, so the name reads as the data key it is here, not the accessor.
  const PROTO = '__proto__';

  it('keeps a tensor and a metadata key named __proto__, in null-prototype records', () => {
    const bytes = fileOf('{"__metadata__":{"__proto__":"x","a":"b"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.getPrototypeOf(tensors)).toBe(null);
    expect(tensors instanceof NDArray).toBe(false);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Object.hasOwn(tensors, '__proto__')).toBe(true);
    expect(tensors[PROTO]).toBeInstanceOf(NDArray);
    expect(tensors[PROTO].toArray()).toEqual([0]);
    expect(Object.getPrototypeOf(metadata)).toBe(null);
    expect(Object.entries(metadata)).toEqual([['__proto__', 'x'], ['a', 'b']]);
  });

  it('writes a tensor and a metadata key named __proto__ into a file it reads back whole', () => {
    const tensors: Record<string, NDArray> = Object.create(null);
    tensors[PROTO] = array([1, 2]);
    tensors.b = array([3]);
    const metadata: Record<string, string> = JSON.parse('{"__proto__":"p","format":"pt"}');
    const bytes = encodeSafetensors(tensors, metadata);
    const decoded = decodeSafetensors(bytes);
    expect(Object.keys(decoded.tensors)).toEqual(['__proto__', 'b']);
    expect(decoded.tensors[PROTO].toArray()).toEqual([1, 2]);
    expect(decoded.tensors.b.toArray()).toEqual([3]);
    expect(Object.entries(decoded.metadata)).toEqual([['__proto__', 'p'], ['format', 'pt']]);
    // And what it read writes back byte for byte.
    expect(encodeSafetensors(decoded.tensors, decoded.metadata)).toEqual(bytes);
  });

  it('refuses a dtype that is not one of the six names: an array, or a name Object.prototype holds', () => {
    for (const dtype of ['["F32"]', '[["F32"]]', '"toString"', '"constructor"', '"__proto__"', '{"F32":1}']) {
      const error = refusal(() => decodeSafetensors(fileOf(`{"w":{"dtype":${dtype},"shape":[1],"data_offsets":[0,4]}}`, 4)));
      expect(error.message, dtype).toMatch(/^decodeSafetensors: (tensor 'w' has dtype .*; supported: F16, BF16, F32, F64, I32, I64|the header nests deeper)/);
    }
    expect(refusal(() => decodeSafetensors(fileOf('{"w":{"dtype":["F32"],"shape":[1],"data_offsets":[0,4]}}', 4))).message).toBe(
      `decodeSafetensors: tensor 'w' has dtype ["F32"]; supported: F16, BF16, F32, F64, I32, I64`,
    );
  });

  it('refuses a key written twice in __metadata__ or in a tensor entry, as it does a tensor name', () => {
    expect(refusal(() => decodeSafetensors(fileOf('{"__metadata__":{"a":"1","a":"2"}}'))).message).toBe(
      "decodeSafetensors: the header names 'a' twice in __metadata__",
    );
    expect(refusal(() => decodeSafetensors(fileOf('{"w":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}', 4))).message).toBe(
      "decodeSafetensors: the header names 'dtype' twice in tensor 'w'",
    );
    // Escaped spellings of one key are the same key.
    expect(refusal(() => decodeSafetensors(fileOf('{"__metadata__":{"a":"1","\\u0061":"2"}}'))).message).toContain("names 'a' twice");
    // The same key in two different objects is no duplicate.
    const ok = decodeSafetensors(fileOf('{"__metadata__":{"dtype":"x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4));
    expect(ok.metadata.dtype).toBe('x');
  });

  it('refuses a field other than dtype, shape and data_offsets in a tensor entry', () => {
    expect(refusal(() => decodeSafetensors(fileOf('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":[]}}', 4))).message).toBe(
      "decodeSafetensors: tensor 'w' has a field 'extra'; an entry holds only dtype, shape and data_offsets",
    );
  });

  it('exports its limits: the reference 100 MB header, 100,000 tensors, rank 64, 10,000 metadata entries', () => {
    expect(SAFETENSORS_LIMITS).toEqual({ headerBytes: 100_000_000, tensors: 100_000, rank: 64, metadataEntries: 10_000 });
  });

  it('refuses a header over the byte limit from its length alone, before reading it', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(SAFETENSORS_LIMITS.headerBytes + 1), true);
    expect(refusal(() => decodeSafetensors(bytes)).message).toBe(
      'decodeSafetensors: header length 100000001 is over the 100000000-byte limit (SAFETENSORS_LIMITS.headerBytes)',
    );
  });

  it('refuses more tensors than the limit before JSON.parse builds them', () => {
    const entries = (n: number) => Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    const tooMany = fileOf(`{"__metadata__":{},${entries(SAFETENSORS_LIMITS.tensors + 1).join(',')}}`);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(refusal(() => decodeSafetensors(tooMany)).message).toBe(
        'decodeSafetensors: the header names more than 100000 tensors (SAFETENSORS_LIMITS.tensors)',
      );
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    const small = `{"__metadata__":{},${entries(3).join(',')}}`;
    expect(Object.keys(decodeSafetensors(fileOf(small)).tensors)).toEqual(['t0', 't1', 't2']);
  });

  it('refuses more metadata entries than the limit, and reads exactly the limit', () => {
    const metadata = (n: number) => `{"__metadata__":{${Array.from({ length: n }, (_, i) => `"k${i}":"v"`).join(',')}}}`;
    expect(Object.keys(decodeSafetensors(fileOf(metadata(SAFETENSORS_LIMITS.metadataEntries))).metadata)).toHaveLength(10_000);
    expect(refusal(() => decodeSafetensors(fileOf(metadata(SAFETENSORS_LIMITS.metadataEntries + 1)))).message).toBe(
      'decodeSafetensors: __metadata__ has more than 10000 entries (SAFETENSORS_LIMITS.metadataEntries)',
    );
  });

  it('refuses a rank over the limit (20 million dimensions among them), and reads rank 64', () => {
    const shaped = (rank: number) => fileOf(`{"w":{"dtype":"F32","shape":[${new Array(rank).fill(1).join(',')}],"data_offsets":[0,4]}}`, 4);
    expect(decodeSafetensors(shaped(64)).tensors.w.shape).toHaveLength(64);
    for (const rank of [65, 20_000_000]) {
      expect(refusal(() => decodeSafetensors(shaped(rank))).message).toBe(
        "decodeSafetensors: tensor 'w' has more than 64 dimensions (SAFETENSORS_LIMITS.rank)",
      );
    }
    // A long data_offsets is bounded the same way.
    expect(refusal(() => decodeSafetensors(fileOf(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[${new Array(100).fill(0)}]}}`))).message).toBe(
      "decodeSafetensors: an array in tensor 'w' under 'data_offsets' holds more than 64 values (SAFETENSORS_LIMITS.rank)",
    );
  });

  it('refuses to write what it would refuse to read: too many tensors, metadata entries or dimensions', () => {
    const one = array([1]);
    const many: Record<string, NDArray> = {};
    for (let i = 0; i <= SAFETENSORS_LIMITS.tensors; i++) many[`t${i}`] = one;
    expect(refusal(() => encodeSafetensors(many)).message).toBe(
      'encodeSafetensors: 100001 tensors, more than the 100000 a file may hold (SAFETENSORS_LIMITS.tensors)',
    );
    const metadata = Object.fromEntries(Array.from({ length: SAFETENSORS_LIMITS.metadataEntries + 1 }, (_, i) => [`k${i}`, 'v']));
    expect(refusal(() => encodeSafetensors({ one }, metadata)).message).toBe(
      'encodeSafetensors: metadata has 10001 entries, more than the 10000 a file may hold (SAFETENSORS_LIMITS.metadataEntries)',
    );
    const deep = new NDArray(new Float32Array(1), new Array(65).fill(1));
    expect(refusal(() => encodeSafetensors({ deep })).message).toBe(
      "encodeSafetensors: tensor 'deep' has 65 dimensions, more than 64 (SAFETENSORS_LIMITS.rank)",
    );
    const big = 'x'.repeat(SAFETENSORS_LIMITS.headerBytes);
    expect(refusal(() => encodeSafetensors({ one }, { big })).message).toMatch(
      /^encodeSafetensors: the header would take \d+ bytes, more than 100000000 \(SAFETENSORS_LIMITS.headerBytes\)$/,
    );
  });

  it('refuses what is not a record of tensors, or an IntTensor whose data does not fit its shape, naming what it got', () => {
    for (const [value, got] of [
      [null, 'null'],
      [undefined, 'undefined'],
      [[array([1])], 'an array'],
      [new Map([['w', array([1])]]), 'a Map'],
      [array([1]), 'an NDArray'],
      ['w', 'a string'],
    ] as const) {
      expect(refusal(() => encodeSafetensors(value as never)).message).toBe(`encodeSafetensors: expected a record of named tensors, got ${got}`);
    }
    expect(refusal(() => encodeSafetensors({}, null as never)).message).toBe('encodeSafetensors: metadata must be a record of strings, got null');
    expect(refusal(() => encodeSafetensors({ w: 'F32' as never })).message).toBe(
      "encodeSafetensors: tensor 'w' has dtype undefined; expected float32, float64, int32 or int64",
    );
    expect(refusal(() => encodeSafetensors({ w: { dtype: 'int32', data: new Int32Array(1) } as never })).message).toBe(
      "encodeSafetensors: tensor 'w' has shape undefined; expected an array of dimensions",
    );
    expect(refusal(() => encodeSafetensors({ w: { dtype: 'int32', shape: [1], data: [1] } as never })).message).toBe(
      "encodeSafetensors: tensor 'w' has data an array; expected a typed array",
    );
    const ragged: IntTensor = { dtype: 'int32', shape: [3], data: new Int32Array(2) };
    expect(refusal(() => encodeSafetensors({ ragged })).message).toBe(
      "encodeSafetensors: tensor 'ragged' has shape [3] (I32), which needs 12 bytes; its data holds 8",
    );
  });
});
