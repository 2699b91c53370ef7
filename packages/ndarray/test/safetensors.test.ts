import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type IntTensor, type NDArray, SafetensorsError, array, decodeSafetensors, encodeSafetensors } from '../src/index';
import { type FixtureTensor, loadFixture } from './helpers';

describe('safetensors', () => {
  it('reads a file written from PyTorch tensors', () => {
    const bytes = new Uint8Array(readFileSync(new URL('./fixtures/torch-state.safetensors', import.meta.url)));
    const expected = loadFixture<{ tensors: Record<string, FixtureTensor>; metadata: Record<string, string> }>('safetensors');
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual(expected.metadata);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, ref] of Object.entries(expected.tensors)) {
      const t = tensors[name];
      expect(t.shape, name).toEqual(ref.shape);
      expect(t.dtype, name).toBe(ref.dtype);
      const values = Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
      expect(values, name).toEqual(ref.data);
    }
  });

  it('reads from a Buffer at an odd byte offset', () => {
    const bytes = encodeSafetensors({ w: array([1.5, -2], { dtype: 'float64' }) });
    const holder = new Uint8Array(bytes.length + 3);
    holder.set(bytes, 3);
    const shifted = holder.subarray(3);
    expect((decodeSafetensors(shifted).tensors.w as NDArray).toArray()).toEqual([1.5, -2]);
  });

  it('round-trips every dtype and the metadata', () => {
    const ints: IntTensor = { dtype: 'int64', shape: [2], data: new BigInt64Array([-5n, 2n ** 62n]) };
    const i32: IntTensor = { dtype: 'int32', shape: [1, 2], data: new Int32Array([7, -7]) };
    const record = {
      '0.weight': array([[0.1, 0.2], [0.3, 0.4]]),
      '0.bias': array([1, 2], { dtype: 'float64' }),
      labels: ints,
      counts: i32,
    };
    const bytes = encodeSafetensors(record, { architecture: 'mlp' });
    // Data starts 8-byte aligned, as the reference writer pads it.
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ architecture: 'mlp' });
    expect((decoded.tensors['0.weight'] as NDArray).data).toEqual(record['0.weight'].data);
    expect((decoded.tensors['0.bias'] as NDArray).dtype).toBe('float64');
    expect(decoded.tensors.labels.data).toEqual(ints.data);
    expect(decoded.tensors.counts.shape).toEqual([1, 2]);
    expect(encodeSafetensors(decoded.tensors, decoded.metadata)).toEqual(bytes);
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
      [withHeader({ w: { dtype: 'F16', shape: [6], data_offsets: [0, 12] } }), /dtype "F16"/],
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
    expect((tensors.a as NDArray).toArray()).toEqual([[1, 2], [3, 4]]);
    expect((tensors.b as NDArray).toArray()).toEqual([5, 6, 7]);
  });
});
