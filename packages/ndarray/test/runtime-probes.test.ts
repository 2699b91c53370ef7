import { describe, expect, it } from 'vitest';
import { halfToFloat32, halfToFloat32Portable, hasNativeFloat16 } from '../src/half';
import { ELEMENTWISE_WASM_BASE64, GEMM_SHARED_WASM_BASE64, GEMM_WASM_BASE64 } from '../src/kernels/wasm/gemm-bytes';
import { decodeBase64, decodeBase64Portable, hasNativeBase64 } from '../src/kernels/wasm/memory';

// What the engine running this suite has: Node 20 and 22 take the portable
// paths, Node 24 Float16Array, Node 26 both (CI runs this file on each).
const engine = globalThis as unknown as {
  Float16Array?: new (buffer: ArrayBufferLike) => ArrayLike<number>;
  WebAssembly: { validate(bytes: Uint8Array): boolean };
};
const hasFromBase64 = typeof (Uint8Array as { fromBase64?: unknown }).fromBase64 === 'function';

/** The first index where `a` and `b` differ (NaN equal to NaN, +0 and −0 told apart), or −1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('runtime probes', () => {
  it('widens F16 with Float16Array exactly where the engine has it, and the portable decode agrees on all 65,536 bit patterns', () => {
    expect(hasNativeFloat16).toBe(typeof engine.Float16Array === 'function');
    // Unaligned on purpose: the half tensor is a view at an odd 2-byte offset.
    const backing = new Uint16Array(65536 + 1);
    for (let h = 0; h < 65536; h++) backing[h + 1] = h;
    const patterns = backing.subarray(1);
    const portable = halfToFloat32Portable(patterns);
    const used = halfToFloat32(patterns);
    // The engine's own widening where it has one; else the decode in use must be the portable one.
    const reference = engine.Float16Array ? Float32Array.from(new engine.Float16Array(patterns.slice().buffer)) : portable;
    const where = [firstDifference(portable, reference), firstDifference(used, reference)];
    expect(where, 'first differing bit pattern (portable, in use), −1 for none').toEqual([-1, -1]);
    // Not every value the same by accident: the patterns cover ±0, subnormals, ±∞ and NaN.
    expect([used[0x0001], used[0x3c00], used[0x7c00], used[0xfc00]]).toEqual([2 ** -24, 1, Infinity, -Infinity]);
    expect(Object.is(used[0x8000], -0) && Number.isNaN(used[0x7e00])).toBe(true);
  });

  it('decodes the inlined WebAssembly with Uint8Array.fromBase64 where the engine has it, byte for byte as atob does', () => {
    expect(hasNativeBase64).toBe(hasFromBase64);
    for (const [name, text] of Object.entries({ GEMM_WASM_BASE64, GEMM_SHARED_WASM_BASE64, ELEMENTWISE_WASM_BASE64 })) {
      const used = decodeBase64(text);
      const portable = decodeBase64Portable(text);
      expect(used, name).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(used).equals(Buffer.from(text, 'base64')), `${name} decoded as Buffer does`).toBe(true);
      expect(Buffer.from(portable).equals(Buffer.from(used)), `${name}: atob and the decode in use`).toBe(true);
      expect(engine.WebAssembly.validate(used), `${name} is a valid module`).toBe(true);
    }
  });

  it('decodes every length and padding of base64 the same way on both paths', () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 151 + 7) & 255);
    for (let length = 0; length <= bytes.length; length++) {
      const text = Buffer.from(bytes.subarray(0, length)).toString('base64');
      const used = decodeBase64(text);
      const portable = decodeBase64Portable(text);
      if (used.length !== length || !Buffer.from(used).equals(Buffer.from(portable)) || !Buffer.from(used).equals(Buffer.from(bytes.buffer, 0, length))) {
        throw new Error(`${length} bytes (${text.slice(-4)}): decoded to ${used.length} bytes, atob to ${portable.length}`);
      }
    }
  });
});
