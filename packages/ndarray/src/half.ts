/**
 * IEEE half precision (1 sign, 5 exponent, 10 fraction bits) widened to
 * float32, exactly: every half is a float32. Engines with `Float16Array`
 * (Node ≥ 24, Bun, Deno, current browsers) widen natively; elsewhere (Node 20
 * and 22) the bits are decoded here. Both give the same value for every one
 * of the 65,536 bit patterns (a NaN for each NaN pattern: the native widening
 * keeps its payload, the portable one gives the canonical NaN).
 *
 * @internal `decodeSafetensors` reads F16 tensors with it.
 */

/** The slice of `Float16Array` used here: the package compiles against lib ES2022, which lacks it. */
type Float16ArrayConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number>;

/** The engine's `Float16Array`, looked up once when this module loads; undefined where it has none. */
const NATIVE_FLOAT16 = (globalThis as { Float16Array?: Float16ArrayConstructor }).Float16Array;

/** Whether {@link halfToFloat32} widens with the engine's `Float16Array`. */
export const hasNativeFloat16: boolean = typeof NATIVE_FLOAT16 === 'function';

/** Half-precision bits widened to float32: natively where the engine has `Float16Array`, else {@link halfToFloat32Portable}. */
export function halfToFloat32(half: Uint16Array): Float32Array {
  if (NATIVE_FLOAT16 === undefined) return halfToFloat32Portable(half);
  return new Float32Array(new NATIVE_FLOAT16(half.buffer, half.byteOffset, half.length));
}

/**
 * The widening by the format's definition, for engines without
 * `Float16Array`: subnormals are f·2⁻²⁴, exponent 31 is ±∞ (fraction 0) or NaN.
 */
export function halfToFloat32Portable(half: Uint16Array): Float32Array {
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
