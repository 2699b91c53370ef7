import { gunzipSync } from 'node:zlib';
import { DIGIT_COUNT, PIXELS } from '@backprop/data/mnist';
import { loadDigits } from '@backprop/data/mnist/node';
import { describe, expect, it } from 'vitest';
import { DIGITS_FILE, packMnistDigits } from '../plugins/mnist-digits';
import { DigitsPackError, decodeDigits, encodeDigits } from '../src/digits-pack';

const digits = loadDigits();

describe('the digits pack', () => {
  it('holds the mnist package’s 10,000 digits losslessly: decoding gives what loadDigits reads, bit for bit', () => {
    const packed = packMnistDigits();
    const bytes = gunzipSync(packed);
    const decoded = decodeDigits(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    expect(decoded.count).toBe(DIGIT_COUNT);
    expect(decoded.pixelsPerDigit).toBe(PIXELS);
    expect(decoded.labels).toEqual(digits.labels);
    expect(Buffer.from(decoded.pixels.buffer).equals(Buffer.from((digits.inputs.data as Float32Array).buffer))).toBe(true);
    // One byte a pixel plus the labels and a 256-entry palette, and gzip takes it to about a fifth.
    expect(bytes.length).toBe(20 + 4 * 256 + DIGIT_COUNT + DIGIT_COUNT * PIXELS);
    expect(packed.length).toBeLessThan(bytes.length / 4);
    expect(DIGITS_FILE).toBe('mnist-digits.bin');
  });

  it('round-trips any digits of at most 256 grey levels', () => {
    const pixels = Float32Array.from({ length: 3 * 4 }, (_, i) => (i % 5) / 4);
    const labels = [3, 0, 9];
    const decoded = decodeDigits(encodeDigits(pixels, labels, 4));
    expect(decoded.pixels).toEqual(pixels);
    expect(Array.from(decoded.labels)).toEqual(labels);
    expect(decoded.count).toBe(3);
  });

  it('refuses what it cannot store without loss, and bytes that are not a pack', () => {
    const many = Float32Array.from({ length: 300 }, (_, i) => i / 300);
    expect(() => encodeDigits(many, [1, 2, 3], 100)).toThrow(/300 distinct values; a one-byte palette holds 256/);
    expect(() => encodeDigits(new Float32Array(5), [1, 2], 3)).toThrow(/5 pixel values do not make 2 digits of 3 pixels/);
    expect(() => encodeDigits(new Float32Array(2), [1, 10], 1)).toThrow(/label 1 is 10; expected an integer 0–9/);
    expect(() => decodeDigits(new Uint8Array([1, 2, 3]))).toThrow(DigitsPackError);
    expect(() => decodeDigits(new TextEncoder().encode('PK\u0003\u0004 a zip file, not a pack'))).toThrow(/expected the magic 'BPMNIST1'/);
    const good = encodeDigits(new Float32Array([0, 1, 0, 1]), [1, 7], 2);
    expect(() => decodeDigits(good.subarray(0, good.length - 1))).toThrow(/takes 34 bytes, got 33/);
    const corrupt = good.slice();
    corrupt[corrupt.length - 1] = 9; // a palette index past the two grey levels
    expect(() => decodeDigits(corrupt)).toThrow(/pixel 3 refers to palette entry 9 of 2/);
  });
});
