import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type IntTensor,
  NDArray,
  SafetensorsError,
  type Tensor,
  array,
  decodeSafetensors,
  encodeSafetensors,
} from '../src/index';
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
