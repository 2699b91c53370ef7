import { afterEach, describe, expect, it } from 'vitest';
import {
  type Backend,

  KernelError,
  NDArray,
  ValueError,
  accumulatorDType,
  add,
  concat,
  array,
  createWasmBackend,
  findBackend,
  gelu,
  geluBackward,
  getBackend,
  jsBackend,
  listBackends,
  matmul,
  nllLoss,
  registerBackend,
  registerKernel,
  relu,
  setBackend,
  stack,
  sum,
  take,
  toBackend,
  wasmBackend,
  zeros,
} from '../src/index';
import { createBoxedBackend } from '../src/testing/boxed-backend';

/** The engine's own validator (the package compiles against lib ES2022, which does not declare WebAssembly). */
const engine = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

let previous: Backend | undefined;
afterEach(() => {
  if (previous) setBackend(previous);
  previous = undefined;
});

describe('wasm backend selection', () => {
  it('is undefined where WebAssembly SIMD is missing, so callers keep the TypeScript kernels', () => {
    const probed: Uint8Array[] = [];
    const backend = createWasmBackend({
      validate: (bytes) => {
        probed.push(bytes);
        return false;
      },
    });
    expect(backend).toBeUndefined();
    // It asked about a SIMD module: the v128 result type (0x7b) is in the probe.
    expect(probed).toHaveLength(1);
    expect(Array.from(probed[0])).toContain(0x7b);
    const throwing = createWasmBackend({
      validate: () => {
        throw new Error('no WebAssembly here');
      },
    });
    expect(throwing).toBeUndefined();
  });

  it('the probe is a real SIMD module this engine accepts, and refuses corrupted', () => {
    let accepted: boolean | undefined;
    createWasmBackend({
      validate: (bytes) => {
        accepted = engine.validate(bytes);
        return accepted;
      },
    });
    expect(accepted).toBe(true);
    let corrupted: boolean | undefined;
    createWasmBackend({
      validate: (bytes) => {
        const copy = bytes.slice();
        copy[copy.length - 2] = 0xff;
        corrupted = engine.validate(copy);
        return corrupted;
      },
    });
    expect(corrupted).toBe(false);
  });

  it('is the default backend on an engine with WebAssembly SIMD, implementing gemm and the ReLU passes', () => {
    expect(getBackend()).toBe(wasmBackend);
    expect(getBackend().name).toBe('wasm');
    expect(Object.keys(getBackend().kernels).sort()).toEqual(['gemm', 'relu', 'reluBackward']);
    expect(listBackends()).toEqual(expect.arrayContaining(['js', 'wasm']));
  });

  it('builds an op’s WebAssembly kernel (GELU, im2col/col2im, max pooling, SGD/Adam) on the op’s first call, so bundles without the op leave it out', () => {
    const backend = createWasmBackend({ minElements: 0 }) as Backend;
    previous = setBackend(backend);
    expect(Object.keys(backend.kernels)).not.toContain('gelu');
    const x = array([-1, 0.5, 2], { dtype: 'float32' });
    const y = gelu(x);
    const built = backend.kernels.gelu;
    expect(typeof built).toBe('function');
    gelu(x, undefined, y);
    expect(backend.kernels.gelu).toBe(built); // built once, then kept
    setBackend(jsBackend);
    expect(Array.from(gelu(x).data)).toEqual(Array.from(y.data));
    // A backend falling back to one with WebAssembly modules gets its kernels too.
    const child = registerBackend({ name: 'child-of-wasm', fallback: backend.name, kernels: {} });
    registerBackend(backend);
    setBackend(child);
    const viaFallback = Array.from(geluBackward(x, x).data);
    expect(typeof backend.kernels.geluBackward).toBe('function');
    setBackend(jsBackend);
    expect(viaFallback).toEqual(Array.from(geluBackward(x, x).data));
  });
});

describe('kernels registered by name', () => {
  it('a kernel registered on a backend runs in place of the TypeScript one, and only there', () => {
    const calls: string[] = [];
    const counting: Backend = registerBackend({ name: 'counting', kernels: {} });
    registerKernel('counting', 'add', (args) => {
      calls.push('add');
      const out = args.out.data;
      out.fill(42);
    });
    previous = setBackend('counting');
    expect(getBackend()).toBe(counting);
    expect(Array.from(add(array([1, 2]), 1).data)).toEqual([42, 42]);
    expect(Array.from(relu(array([-1, 2])).data)).toEqual([0, 2]); // no relu of its own: the TypeScript kernel
    expect(calls).toEqual(['add']);
    setBackend(jsBackend);
    expect(Array.from(add(array([1, 2]), 1).data)).toEqual([2, 3]);
  });

  it('a host backend falls back to its fallback backend before the TypeScript kernel', () => {
    const base = registerBackend({ name: 'base', kernels: {} });
    registerKernel('base', 'sum', ({ out }) => out.fill(-7));
    registerBackend({ name: 'derived', fallback: 'base', kernels: {} });
    previous = setBackend('derived');
    expect(sum(array([1, 2, 3])).item()).toBe(-7);
    expect(findBackend('base')).toBe(base);
  });

  it('a fallback chain is followed to its end (wasm → js): each link is asked before the TypeScript kernel', () => {
    registerBackend({ name: 'root', kernels: { sum: ({ out }) => out.fill(-9) } });
    registerBackend({ name: 'middle', fallback: 'root', kernels: {} });
    registerBackend({ name: 'leaf', fallback: 'middle', kernels: {} });
    previous = setBackend('leaf');
    expect(sum(array([1, 2, 3])).item()).toBe(-9);
    // A cycle of fallbacks ends in the TypeScript kernel instead of looping.
    registerBackend({ name: 'loop-a', fallback: 'loop-b', kernels: {} });
    registerBackend({ name: 'loop-b', fallback: 'loop-a', kernels: {} });
    setBackend('loop-a');
    expect(sum(array([1, 2, 3])).item()).toBe(6);
  });

  it('setBackend(backend) registers the backend it was given, replacing one of that name', () => {
    const first = registerBackend({ name: 'swapped', kernels: {} });
    const second: Backend = { name: 'swapped', kernels: { sum: ({ out }) => out.fill(5) } };
    previous = setBackend(second);
    expect(getBackend()).toBe(second);
    expect(findBackend('swapped')).toBe(second);
    expect(findBackend('swapped')).not.toBe(first);
    registerBackend({ name: 'via-swapped', fallback: 'swapped', kernels: {} });
    setBackend('via-swapped');
    expect(sum(array([1, 2])).item()).toBe(5);
  });

  it('errors name the backend and the kernel', () => {
    expect(() => setBackend(null as never)).toThrow(KernelError);
    expect(() => setBackend(null as never)).toThrow(/setBackend: expected a backend \{ name, kernels \} or a backend's name, got null/);
    expect(() => setBackend({ name: 'no-kernels' } as never)).toThrow(/setBackend: backend 'no-kernels' has no kernels record/);
    expect(() => registerBackend({ name: '', kernels: {} })).toThrow(/registerBackend: expected a backend/);
    expect(() => setBackend('nope')).toThrow(KernelError);
    expect(() => setBackend('nope')).toThrow(/no backend named 'nope'/);
    expect(() => registerKernel('nope', 'add', () => {})).toThrow(/no backend named 'nope'.*registerBackend first/);
    expect(() => registerKernel('js', 'add', 3 as never)).toThrow(/must be a function/);
    // A backend that keeps arrays off the host has no TypeScript fallback.
    const device: Backend = { ...createBoxedBackend('bare-device'), kernels: {} };
    previous = setBackend(device);
    expect(() => zeros([2]).fill(1)).toThrow(/backend 'bare-device' has no kernel 'fill'; register one/);
  });

  it('an array on another backend is refused with where it lives', () => {
    const host = array([1, 2]);
    const boxed = createBoxedBackend('boxed-2');
    previous = setBackend(boxed);
    expect(() => add(host, 1)).toThrow(ValueError);
    expect(() => add(host, 1)).toThrow(/first operand lives on the host but the active backend is 'boxed-2'/);
    const onDevice = array([1, 2]);
    setBackend(jsBackend);
    expect(() => relu(onDevice)).toThrow(/input lives on backend 'boxed-2' but the active backend is 'js'/);
  });

  it('a backend keeping arrays off the host computes with its own kernels; .data and toHost read back', async () => {
    const boxed = createBoxedBackend('boxed-3');
    previous = setBackend(boxed);
    const a = array([[1, 2], [3, 4]]);
    const b = array([[5], [6]]);
    const before = boxed.readBacks;
    const c = relu(add(matmul(a, b), -20));
    expect(boxed.readBacks).toBe(before);
    expect(c.storage instanceof Float32Array).toBe(false);
    expect(Array.from(c.data)).toEqual([0, 19]);
    expect(Array.from(await c.toHost())).toEqual([0, 19]);
    expect(boxed.readBacks).toBe(before + 2);
  });
});

describe('moving arrays and reading them on any backend', () => {
  it('toBackend returns a host array itself on a host backend, and uploads a copy to a backend with its own memory', () => {
    const x = array([[1, 2], [3, 4]]);
    expect(toBackend(x)).toBe(x);
    const boxed = createBoxedBackend('boxed-move');
    previous = setBackend(boxed);
    const moved = toBackend(x);
    expect(ArrayBuffer.isView(moved.storage)).toBe(false);
    expect(moved.shape).toEqual([2, 2]);
    x.data[0] = 9; // a copy: later writes to the host array do not reach it
    expect(Array.from(add(moved, 0).data)).toEqual([1, 2, 3, 4]);
    expect(toBackend(moved)).toBe(moved);
    expect(() => add(x, 1)).toThrow("add: first operand lives on the host but the active backend is 'boxed-move'; move it there first with toBackend(array)");
    setBackend(jsBackend);
    expect(() => toBackend(moved)).toThrow("toBackend: the array lives on backend 'boxed-move' and the active backend is 'js'");
    expect(() => toBackend([1, 2] as never)).toThrow('toBackend: expected an NDArray, got');
  });

  it('toBackend refuses a dtype the backend does not hold, naming both', () => {
    previous = setBackend({ ...createBoxedBackend('boxed-f32'), dtypes: ['float32', 'int32'] });
    expect(() => toBackend(new NDArray(new Float64Array(2), [2]))).toThrow("toBackend: backend 'boxed-f32' holds float32 and int32 arrays, got float64");
  });

  it('itemAsync reads one element on every backend; item() reads it on the host', async () => {
    expect(await array([2.5]).itemAsync()).toBe(2.5);
    previous = setBackend(createBoxedBackend('boxed-item'));
    const total = sum(array([1, 2, 3]));
    expect(await total.itemAsync()).toBe(6);
    await expect(array([1, 2]).itemAsync()).rejects.toThrow('itemAsync: only an array with one element has an item, got shape [2]');
  });

  it('a backend without float64 gets sums in the input dtype where ops accumulate in double elsewhere', () => {
    expect(accumulatorDType('float32')).toBe('float64');
    previous = setBackend({ ...createBoxedBackend('boxed-no-f64'), dtypes: ['float32', 'int32'] });
    expect(accumulatorDType('float32')).toBe('float32');
    const sums = nllLoss(array([[-1, -2], [-3, -4]]), array([1, 0], { dtype: 'int32' }));
    expect(sums.dtype).toBe('float32');
    expect(Array.from(sums.data)).toEqual([-5, -10, 2]);
  });
});

describe('copies stay where their array is', () => {
  it('clone, astype and fill of a host array run on the host while a backend with its own memory is active', () => {
    const x = array([1.5, -2.5], { dtype: 'float64' });
    previous = setBackend(createBoxedBackend('boxed-copies'));
    const copy = x.clone();
    const cast = x.astype('float32');
    expect(ArrayBuffer.isView(copy.storage) && ArrayBuffer.isView(cast.storage)).toBe(true);
    expect(Array.from(cast.data)).toEqual([1.5, -2.5]);
    expect(cast.dtype).toBe('float32');
    expect(Array.from(x.astype('int32').data)).toEqual([1, -2]);
    copy.fill(7);
    expect(Array.from(copy.data)).toEqual([7, 7]);
    expect(Array.from(x.data)).toEqual([1.5, -2.5]);
    const onDevice = toBackend(cast);
    expect(ArrayBuffer.isView(onDevice.clone().storage)).toBe(false);
  });

  it('take, concat and stack of host arrays move data on the host; arithmetic on them is refused', () => {
    const rows = array([[1, 2], [3, 4], [5, 6]]);
    previous = setBackend(createBoxedBackend('boxed-gather'));
    const batch = take(rows, [2, 0]);
    expect(ArrayBuffer.isView(batch.storage)).toBe(true);
    expect(batch.toArray()).toEqual([[5, 6], [1, 2]]);
    expect(concat([rows, batch]).shape).toEqual([5, 2]);
    expect(ArrayBuffer.isView(stack([batch, batch]).storage)).toBe(true);
    expect(() => add(rows, 1)).toThrow('move it there first with toBackend(array)');
    const onDevice = take(toBackend(rows), [1]);
    expect(ArrayBuffer.isView(onDevice.storage)).toBe(false);
    expect(() => concat([rows, onDevice])).toThrow("concat: arrays[0] lives on the host but the active backend is 'boxed-gather'");
  });
});
