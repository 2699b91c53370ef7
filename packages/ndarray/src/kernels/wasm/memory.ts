/**
 * What the one-thread backend and the thread pool share about their
 * WebAssembly modules: decoding the inlined bytes, growing memory, staging a
 * product's operands (typed locally: the package compiles against lib
 * ES2022, which has no WebAssembly declarations).
 *
 * @internal
 */
import type { TypedArray } from '../../dtype';
import type { HostGemm } from '../js/gemm';
import type { WasmHost } from '../registry';

/** `Uint8Array.fromBase64` (Node ≥ 26, Bun, Deno, current browsers), looked up once when this module loads. */
const NATIVE_FROM_BASE64 = (Uint8Array as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

/** Whether {@link decodeBase64} decodes with the engine's `Uint8Array.fromBase64`. */
export const hasNativeBase64: boolean = typeof NATIVE_FROM_BASE64 === 'function';

/** The bytes of a module inlined as base64: natively where the engine has `Uint8Array.fromBase64`, else {@link decodeBase64Portable}. */
export function decodeBase64(text: string): Uint8Array {
  return NATIVE_FROM_BASE64 === undefined ? decodeBase64Portable(text) : NATIVE_FROM_BASE64(text);
}

/** The same through `atob` (Node ≥ 16 and every browser), a character at a time. */
export function decodeBase64Portable(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A WebAssembly page. */
export const PAGE = 65536;

/** The slice of `WebAssembly.Memory` used here; `buffer` is a SharedArrayBuffer for a shared memory. */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

/** Grows `memory` to at least `bytes`; false when the engine refuses (the maximum, or wasm32's 4 GiB). */
export function reserve(memory: WasmMemory, bytes: number): boolean {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return true;
  try {
    memory.grow(Math.ceil((bytes - have) / PAGE));
    return true;
  } catch {
    return false;
  }
}

/** The operands of a staged kernel call: read, read and written in place, written. */
export interface StagedOperands {
  inputs?: readonly TypedArray[];
  updated?: readonly TypedArray[];
  outputs?: readonly TypedArray[];
}

/**
 * Runs `kernel` on copies of the operands placed in `memory` from byte `at`
 * on, each on a 64-byte boundary (so a kernel may run whole 16-byte vectors
 * past a region's last element: they stay in its padding), then
 * copies the updated arrays and the outputs back; false, with nothing done,
 * when the memory cannot grow. `kernel` receives the byte addresses of the
 * inputs, then of the updated arrays, then of the outputs.
 */
export function runStaged(memory: WasmMemory, at: number, operands: StagedOperands, kernel: (addresses: number[]) => void): boolean {
  const { inputs = [], updated = [], outputs = [] } = operands;
  const all = [...inputs, ...updated, ...outputs];
  const addresses: number[] = [];
  let end = at;
  for (const array of all) {
    addresses.push(end);
    end += Math.ceil(array.byteLength / 64) * 64;
  }
  if (!reserve(memory, end)) return false;
  const buffer = memory.buffer;
  const copyIn = inputs.length + updated.length;
  for (let i = 0; i < copyIn; i++) bytesOf(buffer, addresses[i], all[i].byteLength).set(bytesOf(all[i].buffer, all[i].byteOffset, all[i].byteLength));
  kernel(addresses);
  for (let i = inputs.length; i < all.length; i++) {
    bytesOf(all[i].buffer, all[i].byteOffset, all[i].byteLength).set(bytesOf(buffer, addresses[i], all[i].byteLength));
  }
  return true;
}

/** A kernel module's exports: its memory, where operands start, and entries of byte addresses and numbers. */
type KernelModule = { memory: WasmMemory; dataStart(): number } & Record<string, (...args: number[]) => void>;

/**
 * Runs entry `name` of the module inlined as `base64` (from `host`) on staged
 * `operands`: `call` hands the entry their addresses (inputs, updated,
 * outputs) and whatever else it takes. False, with nothing done, where the
 * module cannot load or its memory cannot grow: the TypeScript kernel runs.
 */
export function runEntry<E extends (...args: never[]) => void = (...args: number[]) => void>(
  host: WasmHost,
  base64: string,
  name: string,
  operands: StagedOperands,
  call: (entry: E, addresses: number[]) => void,
): boolean {
  const wasm = host.instance<KernelModule>(base64);
  if (wasm === null) return false;
  const entry = wasm[name] as unknown as E;
  return runStaged(wasm.memory, wasm.dataStart(), operands, (addresses) => call(entry, addresses));
}

/**
 * A 2-D product's operands for {@link runStaged}: op(A)'s and op(B)'s storage
 * read, C read and written where the kernel adds into it (`accumulate`), else
 * written. The kernel receives A's, B's and C's addresses in that order.
 */
export function gemmOperands({ m, n, k, a, aOffset, b, bOffset, c, cOffset, accumulate }: HostGemm): StagedOperands {
  const inputs = [a.subarray(aOffset, aOffset + m * k), b.subarray(bOffset, bOffset + k * n)];
  const product = [c.subarray(cOffset, cOffset + m * n)];
  return accumulate ? { inputs, updated: product } : { inputs, outputs: product };
}

function bytesOf(buffer: ArrayBufferLike, at: number, length: number): Uint8Array {
  return new Uint8Array(buffer, at, length);
}
