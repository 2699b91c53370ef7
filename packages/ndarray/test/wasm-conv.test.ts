/**
 * The WebAssembly kernels of convolution and pooling (assembly/conv.ts)
 * against the TypeScript ones, bit for bit, over random geometries (stride,
 * padding, dilation, ceil mode), both float dtypes, and inputs with NaN, ±∞,
 * ties and −0.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Backend,
  type DType,
  NDArray,
  col2im,
  conv2dGeometry,
  createWasmBackend,
  im2col,
  jsBackend,
  maxPool2d,
  maxPool2dBackward,
  pool2dGeometry,
  setBackend,
} from '../src/index';
import { assertBitwiseEqual, testRandom } from '../src/testing/index';

const wasm = createWasmBackend({ minWork: 0, minElements: 0 });
if (wasm === undefined) throw new Error('this engine has no WebAssembly SIMD');

let previous: Backend | undefined;
afterEach(() => {
  if (previous) setBackend(previous);
});

/** Runs `f` on each backend and returns both results. */
function onBoth<T>(f: () => T): [T, T] {
  previous = setBackend(jsBackend);
  const js = f();
  setBackend(wasm as Backend);
  return [js, f()];
}

const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1, 1];

/** Values from a seed: mostly uniform, some specials and repeats, so ties and NaN reach every branch. */
function values(dtype: DType, n: number, seed: number, specials: boolean): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const next = testRandom(seed);
  for (let i = 0; i < n; i++) {
    const u = next();
    const s = u * 2 ** 32; // the generator's state, for picks of its own
    out[i] = specials && u < 0.08 ? SPECIALS[s % SPECIALS.length] : u < 0.2 ? Math.round(u * 20) : u * 4 - 2;
  }
  return out;
}

const dtypes = fc.constantFrom<DType>('float32', 'float64');

describe('WebAssembly im2col and col2im equal the TypeScript kernels bit for bit', () => {
  const window = fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    channels: fc.integer({ min: 1, max: 3 }),
    height: fc.integer({ min: 1, max: 9 }),
    width: fc.integer({ min: 1, max: 11 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  });

  it('on random geometries, both dtypes, with NaN, ±∞ and −0 in the input', () => {
    fc.assert(
      fc.property(window, dtypes, fc.integer(), (w, dtype, seed) => {
        const shape = [w.batch, w.channels, w.height, w.width];
        let g: ReturnType<typeof conv2dGeometry>;
        try {
          g = conv2dGeometry('test', shape, { kernelSize: w.kernel, stride: w.stride, padding: w.padding, dilation: w.dilation });
        } catch {
          return; // the kernel does not fit the padded input
        }
        const x = new NDArray(values(dtype, w.batch * w.channels * w.height * w.width, seed, true), shape);
        const [jsCols, wasmCols] = onBoth(() => im2col(x, g));
        assertBitwiseEqual(wasmCols, jsCols, 'im2col');
        const cols = new NDArray(values(dtype, jsCols.size, seed + 1, true), jsCols.shape);
        const [jsImage, wasmImage] = onBoth(() => col2im(cols, g));
        assertBitwiseEqual(wasmImage, jsImage, 'col2im');
      }),
      { numRuns: 300 },
    );
  });

  it('the bench CNN’s shapes (3×3, padding 1, 8 → 16 channels), whose rows are copied whole', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const shape = [4, 8, 14, 14];
      const g = conv2dGeometry('test', shape, { kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
      const x = new NDArray(values(dtype, 4 * 8 * 14 * 14, 7, false), shape);
      const [jsCols, wasmCols] = onBoth(() => im2col(x, g));
      assertBitwiseEqual(wasmCols, jsCols, 'im2col');
      const [jsImage, wasmImage] = onBoth(() => col2im(jsCols, g));
      assertBitwiseEqual(wasmImage, jsImage, 'col2im');
    }
  });
});

describe('WebAssembly max pooling equals the TypeScript kernels bit for bit', () => {
  const window = fc.record({
    planes: fc.integer({ min: 1, max: 4 }),
    height: fc.integer({ min: 1, max: 10 }),
    width: fc.integer({ min: 1, max: 10 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    ceilMode: fc.boolean(),
  });

  it('forward (values and argmax, ties, NaN, −∞ windows) and backward, on random geometries and both dtypes', () => {
    fc.assert(
      fc.property(window, dtypes, fc.integer(), (w, dtype, seed) => {
        const shape = [w.planes, w.height, w.width];
        let g: ReturnType<typeof pool2dGeometry>;
        try {
          g = pool2dGeometry('test', shape, { kernelSize: w.kernel, stride: w.stride, padding: w.padding, ceilMode: w.ceilMode });
        } catch {
          return; // padding over half the kernel, or a kernel larger than the padded input
        }
        const x = new NDArray(values(dtype, w.planes * w.height * w.width, seed, true), shape);
        const [js, fast] = onBoth(() => maxPool2d(x, g));
        assertBitwiseEqual(fast.output, js.output, 'maxPool2d');
        expect(Array.from(fast.indices.data)).toEqual(Array.from(js.indices.data));
        const grad = new NDArray(values(dtype, js.output.size, seed + 1, false), js.output.shape);
        const [jsDx, wasmDx] = onBoth(() => maxPool2dBackward(grad, js.indices, g, shape));
        assertBitwiseEqual(wasmDx, jsDx, 'maxPool2dBackward');
      }),
      { numRuns: 300 },
    );
  });
});

describe('WebAssembly max pooling of 2×2 windows, stride 2 (four float32 outputs at a time)', () => {
  it('equals the TypeScript kernel on even and odd sizes, ceil mode, ties, NaN and −∞', () => {
    for (const [height, width] of [[28, 28], [14, 14], [7, 9], [8, 17], [2, 8], [3, 2], [5, 33]]) {
      for (const ceilMode of [false, true]) {
        for (const [seed, specials] of [[1, true], [2, false], [3, true]] as const) {
          for (const dtype of ['float32', 'float64'] as const) {
            const shape = [3, height, width];
            const g = pool2dGeometry('test', shape, { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode });
            const x = new NDArray(values(dtype, 3 * height * width, seed, specials), shape);
            const [js, fast] = onBoth(() => maxPool2d(x, g));
            const where = `${dtype} ${height}×${width} ceilMode ${ceilMode} seed ${seed}`;
            assertBitwiseEqual(fast.output, js.output, where);
            expect(Array.from(fast.indices.data), where).toEqual(Array.from(js.indices.data));
          }
        }
      }
    }
  });
});
