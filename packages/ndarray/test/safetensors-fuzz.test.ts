import fc from 'fast-check';
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

/**
 * Tensors of every dtype the format round-trips byte for byte (float32,
 * float64, int32 NDArrays, and the deprecated int32 IntTensor records) and
 * small shapes (0-sized dims included), with arbitrary bytes as data. int64
 * reads back as int32, so it has a property of its own below.
 */
const tensorArb: fc.Arbitrary<Tensor> = fc
  .record({
    dtype: fc.constantFrom('float32', 'float64', 'int32', 'int32 record'),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  })
  .chain(({ dtype, shape }) => {
    const size = shape.reduce((p, d) => p * d, 1);
    const width = dtype === 'float64' ? 8 : 4;
    return fc.uint8Array({ minLength: size * width, maxLength: size * width }).map((bytes): Tensor => {
      const buffer = bytes.slice().buffer;
      if (dtype === 'float32') return new NDArray(new Float32Array(buffer), shape);
      if (dtype === 'float64') return new NDArray(new Float64Array(buffer), shape);
      if (dtype === 'int32') return new NDArray(new Int32Array(buffer), shape);
      return { dtype: 'int32', shape, data: new Int32Array(buffer) } as IntTensor;
    });
  });

/** Names include `__proto__`, which a plain object's assignment would turn into its prototype. */
const nameArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant('__proto__') },
  { weight: 9, arbitrary: fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__metadata__') },
);

const fileArb = fc.record({
  tensors: fc.dictionary(nameArb, tensorArb, { maxKeys: 4 }),
  metadata: fc.option(
    fc.dictionary(fc.oneof(fc.constant('__proto__'), fc.string({ maxLength: 6 })), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
    { nil: undefined },
  ),
});

function bytesOf(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Plain comparisons (vitest's deep equality is too slow for thousands of files). */
function sameTensors(a: Record<string, Tensor>, b: Record<string, Tensor>): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every(
    (name) =>
      Object.hasOwn(b, name) &&
      a[name].dtype === b[name].dtype &&
      a[name].shape.join() === b[name].shape.join() &&
      sameBytes(bytesOf(a[name]), bytesOf(b[name])),
  );
}

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'flipData'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'headerLength'; value: bigint }
  | { kind: 'splice'; at: number; text: string }
  | { kind: 'nest'; pick: number; field: 'dtype' | 'shape' | 'data_offsets'; depth: number }
  | { kind: 'arrayDtype'; pick: number }
  | { kind: 'rename'; pick: number; inMetadata: boolean }
  | { kind: 'duplicate'; pick: number; inMetadata: boolean };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flipData' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('headerLength' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    text: fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '-1', '1e308', '"F16"', '"__metadata__"', 'null', ' ', '0', '9', '['.repeat(10_000)),
  }),
  // A dtype, shape or data_offsets wrapped in arrays, a few levels or 10,000 deep (past JSON.stringify's recursion).
  fc.record({
    kind: fc.constant('nest' as const),
    pick: fc.nat(),
    field: fc.constantFrom('dtype' as const, 'shape' as const, 'data_offsets' as const),
    depth: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(10_000)),
  }),
  fc.record({ kind: fc.constant('arrayDtype' as const), pick: fc.nat() }),
  // A tensor or metadata key renamed `__proto__`.
  fc.record({ kind: fc.constant('rename' as const), pick: fc.nat(), inMetadata: fc.boolean() }),
  // A tensor name, a metadata key or an entry's field written twice.
  fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat(), inMetadata: fc.boolean() }),
);

/** The header of a file as JSON text and the data after it, or undefined when the file has no readable header. */
function splitFile(file: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } | undefined {
  if (file.length < 8) return undefined;
  const length = new DataView(file.buffer, file.byteOffset).getBigUint64(0, true);
  if (length > BigInt(file.length - 8)) return undefined;
  try {
    const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + Number(length))));
    return header !== null && typeof header === 'object' && !Array.isArray(header) ? { header, data: file.subarray(8 + Number(length)) } : undefined;
  } catch {
    return undefined;
  }
}

function joinFile(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** An object's text with the pair at `repeat` written twice (JSON.stringify cannot write a key twice). */
function objectText(entries: [string, string][], repeat = -1): string {
  const pairs = entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`);
  if (repeat >= 0) pairs.splice(repeat, 0, pairs[repeat]);
  return `{${pairs.join(',')}}`;
}

/**
 * Applies a mutation. `headerIntact` says whether the 8-byte length and the
 * JSON header are untouched; `mustReject` whether the file is now one the
 * decoder must refuse (nested too deep, an array dtype, a name written twice).
 */
function mutate(file: Uint8Array, m: Mutation): { bytes: Uint8Array; headerIntact: boolean; mustReject: boolean } {
  if (file.length < 8) return { bytes: file, headerIntact: false, mustReject: false }; // nothing left to mutate meaningfully
  const headerEnd = Math.min(file.length, 8 + Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true)));
  const out = file.slice();
  switch (m.kind) {
    case 'flip': {
      const at = m.at % out.length;
      out[at] = m.value;
      return { bytes: out, headerIntact: at >= headerEnd || out[at] === file[at], mustReject: false };
    }
    case 'flipData': {
      // Tensor bytes: anything there is valid data, so the file must still decode.
      if (headerEnd >= out.length) return { bytes: out, headerIntact: true, mustReject: false };
      out[headerEnd + (m.at % (out.length - headerEnd))] = m.value;
      return { bytes: out, headerIntact: true, mustReject: false };
    }
    case 'truncate':
      return { bytes: file.slice(0, m.at % file.length), headerIntact: false, mustReject: false };
    case 'append': {
      const longer = new Uint8Array(file.length + m.bytes.length);
      longer.set(file);
      longer.set(m.bytes, file.length);
      return { bytes: longer, headerIntact: true, mustReject: false };
    }
    case 'headerLength':
      new DataView(out.buffer).setBigUint64(0, m.value, true);
      return { bytes: out, headerIntact: false, mustReject: false };
    case 'splice': {
      const at = 8 + (m.at % Math.max(1, headerEnd - 8));
      const text = new TextEncoder().encode(m.text);
      const spliced = new Uint8Array(file.length + text.length);
      spliced.set(file.subarray(0, at));
      spliced.set(text, at);
      spliced.set(file.subarray(at), at + text.length);
      return { bytes: spliced, headerIntact: false, mustReject: false };
    }
  }
  // The structural mutations rewrite a readable header; an unreadable one stays as it is.
  const parts = splitFile(file);
  if (parts === undefined) return { bytes: file, headerIntact: false, mustReject: false };
  try {
    return mutateHeader(parts.header, parts.data, m);
  } catch (error) {
    // A header an earlier mutation nested 10,000 deep is past JSON.stringify's recursion: leave it.
    if (error instanceof RangeError) return { bytes: file, headerIntact: false, mustReject: false };
    throw error;
  }
}

function mutateHeader(
  header: Record<string, unknown>,
  data: Uint8Array,
  m: Extract<Mutation, { kind: 'nest' | 'arrayDtype' | 'rename' | 'duplicate' }>,
): { bytes: Uint8Array; headerIntact: boolean; mustReject: boolean } {
  const entries = Object.entries(header).map(([k, v]): [string, string] => [k, JSON.stringify(v)]);
  const tensorIndices = entries.flatMap(([k, v], i) => (k !== '__metadata__' && v.startsWith('{') ? [i] : []));
  const metadataIndex = entries.findIndex(([k]) => k === '__metadata__');
  const metadata = metadataIndex >= 0 && isObject(header.__metadata__) ? Object.entries(header.__metadata__) : [];
  const unchanged = { bytes: joinFile(objectText(entries), data), headerIntact: false, mustReject: false };
  if (m.kind === 'rename' || m.kind === 'duplicate') {
    if (m.inMetadata) {
      if (metadata.length === 0) return unchanged;
      const pick = m.pick % metadata.length;
      const pairs = metadata.map(([k, v]): [string, string] => [m.kind === 'rename' && k === metadata[pick][0] ? '__proto__' : k, JSON.stringify(v)]);
      entries[metadataIndex][1] = objectText(pairs, m.kind === 'duplicate' ? pick : -1);
      const renamedTwice = m.kind === 'rename' && metadata.some(([k], i) => k === '__proto__' && i !== pick);
      return { bytes: joinFile(objectText(entries), data), headerIntact: false, mustReject: m.kind === 'duplicate' || renamedTwice };
    }
    if (tensorIndices.length === 0) return unchanged;
    const at = tensorIndices[m.pick % tensorIndices.length];
    if (m.kind === 'duplicate') {
      // Half the time the tensor name, half the time one of its fields.
      if (m.pick % 2 === 0) return { bytes: joinFile(objectText(entries, at), data), headerIntact: false, mustReject: true };
      const fields = Object.entries(JSON.parse(entries[at][1]) as object).map(([k, v]): [string, string] => [k, JSON.stringify(v)]);
      if (fields.length === 0) return unchanged;
      entries[at][1] = objectText(fields, m.pick % fields.length);
      return { bytes: joinFile(objectText(entries), data), headerIntact: false, mustReject: true };
    }
    const renamedTwice = entries.some(([k], i) => k === '__proto__' && i !== at);
    entries[at][0] = '__proto__';
    return { bytes: joinFile(objectText(entries), data), headerIntact: false, mustReject: renamedTwice };
  }
  if (tensorIndices.length === 0) return unchanged;
  const at = tensorIndices[m.pick % tensorIndices.length];
  const info = JSON.parse(entries[at][1]) as Record<string, unknown>;
  if (!Object.hasOwn(info, m.kind === 'nest' ? m.field : 'dtype')) return unchanged;
  const fields = Object.entries(info).map(([k, v]): [string, string] => [k, JSON.stringify(v)]);
  for (const field of fields) {
    if (m.kind === 'arrayDtype' && field[0] === 'dtype') field[1] = `[${field[1]}]`;
    if (m.kind === 'nest' && field[0] === m.field) field[1] = `${'['.repeat(m.depth)}${field[1]}${']'.repeat(m.depth)}`;
  }
  entries[at][1] = objectText(fields);
  return { bytes: joinFile(objectText(entries), data), headerIntact: false, mustReject: true };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The tensor names a header holds, read with JSON.parse (which keeps `__proto__` as a key). */
function namesInHeader(file: Uint8Array): string[] {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as object;
  return Object.keys(header).filter((k) => k !== '__metadata__');
}

describe('decodeSafetensors under fuzzing', () => {
  it('round-trips 3,000 generated files byte for byte', () => {
    fc.assert(
      fc.property(fileArb, ({ tensors, metadata }) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const decoded = decodeSafetensors(bytes);
        const reencoded = encodeSafetensors(decoded.tensors, metadata === undefined ? undefined : decoded.metadata);
        return (
          sameTensors(decoded.tensors, tensors) &&
          JSON.stringify(decoded.metadata) === JSON.stringify(metadata ?? {}) &&
          sameBytes(reencoded, bytes)
        );
      }),
      { numRuns: 3000, seed: 1 },
    );
  }, 60_000);

  it('either decodes 10,000 mutated files to every tensor their header names or throws a SafetensorsError', () => {
    let decodedCount = 0;
    let rejectedCount = 0;
    let protoCount = 0;
    fc.assert(
      fc.property(fileArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), ({ tensors, metadata }, mutations) => {
        let current = { bytes: encodeSafetensors(tensors, metadata), headerIntact: true, mustReject: false };
        for (const m of mutations) {
          const next = mutate(current.bytes, m);
          // Whether the file must be refused is known for the last mutation only: a later one may undo an earlier.
          current = { bytes: next.bytes, headerIntact: current.headerIntact && next.headerIntact, mustReject: next.mustReject };
        }
        let decoded: ReturnType<typeof decodeSafetensors>;
        try {
          decoded = decodeSafetensors(current.bytes);
        } catch (error) {
          rejectedCount++;
          return error instanceof SafetensorsError;
        }
        decodedCount++;
        if (current.mustReject) return false;
        // Every tensor the header names comes back, under its own name, `__proto__` included.
        const names = namesInHeader(current.bytes);
        if (Object.getPrototypeOf(decoded.tensors) !== null || Object.keys(decoded.tensors).length !== names.length) return false;
        if (!names.every((name) => Object.hasOwn(decoded.tensors, name) && decoded.tensors[name] instanceof NDArray)) return false;
        if (names.includes('__proto__')) protoCount++;
        // Whatever decodes re-encodes to a file that decodes to the same tensors,
        // and to the very same bytes when only tensor data was changed.
        const again = encodeSafetensors(decoded.tensors, decoded.metadata);
        if (!sameTensors(decodeSafetensors(again).tensors, decoded.tensors)) return false;
        if (current.headerIntact && Object.keys(decoded.metadata).length > 0) return sameBytes(again, current.bytes);
        return true;
      }),
      { numRuns: 10_000, seed: 2 },
    );
    // The mutations must exercise both outcomes for the property to mean anything.
    expect(decodedCount).toBeGreaterThan(100);
    expect(rejectedCount).toBeGreaterThan(1000);
    expect(protoCount).toBeGreaterThan(100);
  }, 60_000);
});

describe('int64 tensors under fuzzing', () => {
  it('read back as int32 with the same values, or fail naming the tensor and a value int32 cannot hold', () => {
    const valueArb = fc.oneof(fc.bigInt({ min: -(2n ** 31n), max: 2n ** 31n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 6 }), (values) => {
        const bytes = encodeSafetensors({ ids: { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values) } as IntTensor });
        const firstOutside = values.findIndex((v) => v < -(2n ** 31n) || v >= 2n ** 31n);
        if (firstOutside >= 0) {
          try {
            decodeSafetensors(bytes);
            return false;
          } catch (error) {
            return error instanceof SafetensorsError && error.message.includes(`'ids' (I64) holds ${values[firstOutside]} at flat index ${firstOutside}`);
          }
        }
        const ids = decodeSafetensors(bytes).tensors.ids;
        return ids.dtype === 'int32' && Array.from(ids.data).every((v, i) => BigInt(v) === values[i]);
      }),
      { numRuns: 1000, seed: 3 },
    );
  });
});

describe('decodeSafetensors refuses', () => {
  const file = (header: string, dataLength = 8) => {
    const json = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + json.length + dataLength);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  it('a header that names a tensor twice', () => {
    const twice = file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}');
    expect(() => decodeSafetensors(twice)).toThrow("decodeSafetensors: the header names 'w' twice");
    // The same name nested deeper is not a duplicate.
    const nested = file('{"__metadata__":{"w":"x"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
    expect(decodeSafetensors(nested).tensors.w.shape).toEqual([2]);
  });
  it('a shape whose size overflows, without allocating it', () => {
    const huge = file('{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}');
    expect(() => decodeSafetensors(huge)).toThrow(/needs .* bytes, its offsets hold 8/);
  });
  it('a non-integer dimension or offset', () => {
    expect(() => decodeSafetensors(file('{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}'))).toThrow(/non-negative integers/);
    expect(() => decodeSafetensors(file('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}'))).toThrow(/data_offsets/);
  });
  it('metadata that is not all strings', () => {
    expect(() => decodeSafetensors(file('{"__metadata__":{"a":1}}', 0))).toThrow("decodeSafetensors: metadata 'a' must be a string");
  });
  it('and still reads a valid file beside those', () => {
    const ok = encodeSafetensors({ w: array([1, 2]) });
    expect(decodeSafetensors(ok).tensors.w.toArray()).toEqual([1, 2]);
  });
});
