/**
 * The compact binary the page loads the 10,000 MNIST digits from, instead of
 * the `mnist` package's 10 JSON files (33 MB). The package's pixels take only
 * 256 distinct values (k/255 rounded to 3 decimals), so each pixel is stored
 * as a one-byte index into a palette of those values: lossless, the decoded
 * images equal what `loadDigits` of @backprop/data/mnist/node reads, bit for bit. The build
 * gzips it (1.6 MB); the worker inflates it with `DecompressionStream`.
 *
 * Layout, little-endian:
 *
 * | bytes        | what                                                |
 * | ------------ | --------------------------------------------------- |
 * | 8            | magic `BPMNIST1`                                    |
 * | 4            | count N (uint32)                                    |
 * | 4            | pixels per digit P (uint32, 784)                    |
 * | 4            | palette size K (uint32, at most 256)                |
 * | 4·K          | palette (float32, ascending)                        |
 * | N            | labels (uint8, 0–9)                                 |
 * | N·P          | pixels (uint8 palette indices, row-major per digit) |
 *
 * Nothing here touches the file system or the DOM: the Vite plugin encodes
 * with it in Node, the worker decodes with it in the browser.
 */

const MAGIC = 'BPMNIST1';
const HEADER_BYTES = MAGIC.length + 12;

/** Digits as the page trains on them: pixels in [0, 1], row-major, and one label per digit. */
export interface PackedDigits {
  /** `count × pixelsPerDigit` values. */
  readonly pixels: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly pixelsPerDigit: number;
}

/** The bytes are not a digits pack (wrong magic, truncated, inconsistent). */
export class DigitsPackError extends Error {
  override name = 'DigitsPackError';
}

/**
 * Packs `count` digits of `pixelsPerDigit` values each. Throws a
 * {@link DigitsPackError} when the pixels hold more than 256 distinct values
 * (they would not fit one byte each without loss) or a label is not 0–9.
 */
export function encodeDigits(pixels: Float32Array, labels: ArrayLike<number>, pixelsPerDigit: number): Uint8Array {
  const count = labels.length;
  if (!Number.isInteger(pixelsPerDigit) || pixelsPerDigit < 1 || pixels.length !== count * pixelsPerDigit) {
    throw new DigitsPackError(
      `encodeDigits: ${pixels.length} pixel values do not make ${count} digits of ${pixelsPerDigit} pixels`,
    );
  }
  const distinct = [...new Set(pixels)].sort((a, b) => a - b);
  if (distinct.length > 256) {
    throw new DigitsPackError(`encodeDigits: the pixels hold ${distinct.length} distinct values; a one-byte palette holds 256`);
  }
  const indexOf = new Map(distinct.map((v, i) => [v, i]));
  const bytes = new Uint8Array(HEADER_BYTES + 4 * distinct.length + count + count * pixelsPerDigit);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, count, true);
  view.setUint32(12, pixelsPerDigit, true);
  view.setUint32(16, distinct.length, true);
  let offset = HEADER_BYTES;
  for (const v of distinct) {
    view.setFloat32(offset, v, true);
    offset += 4;
  }
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label > 9) {
      throw new DigitsPackError(`encodeDigits: label ${i} is ${label}; expected an integer 0–9`);
    }
    bytes[offset + i] = label;
  }
  offset += count;
  for (let i = 0; i < pixels.length; i++) bytes[offset + i] = indexOf.get(pixels[i])!;
  return bytes;
}

/** Unpacks {@link encodeDigits}'s bytes; throws a {@link DigitsPackError} naming what is wrong. */
export function decodeDigits(bytes: Uint8Array): PackedDigits {
  if (bytes.length < HEADER_BYTES || String.fromCharCode(...bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw new DigitsPackError(
      `decodeDigits: not a digits pack (expected the magic '${MAGIC}' in a header of ${HEADER_BYTES} bytes, got ${bytes.length} bytes)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8, true);
  const pixelsPerDigit = view.getUint32(12, true);
  const paletteSize = view.getUint32(16, true);
  const expected = HEADER_BYTES + 4 * paletteSize + count + count * pixelsPerDigit;
  if (paletteSize > 256 || bytes.length !== expected) {
    throw new DigitsPackError(
      `decodeDigits: a pack of ${count} digits × ${pixelsPerDigit} pixels with a palette of ${paletteSize} takes ${expected} bytes, got ${bytes.length}`,
    );
  }
  const palette = new Float32Array(paletteSize);
  let offset = HEADER_BYTES;
  for (let i = 0; i < paletteSize; i++, offset += 4) palette[i] = view.getFloat32(offset, true);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = bytes[offset + i];
  offset += count;
  const pixels = new Float32Array(count * pixelsPerDigit);
  for (let i = 0; i < pixels.length; i++) {
    const index = bytes[offset + i];
    if (index >= paletteSize) {
      throw new DigitsPackError(`decodeDigits: pixel ${i} refers to palette entry ${index} of ${paletteSize}`);
    }
    pixels[i] = palette[index];
  }
  return { pixels, labels, count, pixelsPerDigit };
}
