/**
 * The WebAssembly SIMD updates of SGD and Adam/AdamW (assembly/optimizers.ts)
 * against the TypeScript kernels, which match torch 1.13 bit for bit: equal
 * bits over random hyperparameters, every flag, NaN/±∞/−0 in the state, and
 * the fused multiply-adds whose double-rounded shortcut would be wrong.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type Backend, NDArray, adamStep, createWasmBackend, fmaf, jsBackend, setBackend, sgdStep } from '../src/index';
import { assertBitwiseEqual, testRandom } from '../src/testing/index';

const wasm = createWasmBackend({ minWork: 0, minElements: 0 });
if (wasm === undefined) throw new Error('this engine has no WebAssembly SIMD');

let previous: Backend | undefined;
afterEach(() => {
  if (previous) setBackend(previous);
});

const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e-40, -3e38];

function values(n: number, seed: number, specials: boolean): Float32Array {
  const out = new Float32Array(n);
  const next = testRandom(seed);
  for (let i = 0; i < n; i++) {
    const u = next();
    const s = u * 2 ** 32; // the generator's state, for picks of its own
    out[i] = specials && u < 0.05 ? SPECIALS[s % SPECIALS.length] : (u - 0.5) * 2 ** ((s >>> 8) % 12 - 6);
  }
  return out;
}


/**
 * Runs `step` on the TypeScript and the WebAssembly backend, each on its own
 * copies of `arrays`, and returns each backend's arrays afterwards.
 */
function onBoth(arrays: Float32Array[], step: (copies: NDArray[]) => void): [Float32Array[], Float32Array[]] {
  const run = (backend: Backend) => {
    previous ??= setBackend(backend);
    setBackend(backend);
    const copies = arrays.map((a) => new NDArray(a.slice(), [a.length]));
    step(copies);
    return copies.map((c) => c.data as Float32Array);
  };
  return [run(jsBackend), run(wasm as Backend)];
}

const lengths = fc.integer({ min: 1, max: 70 });

describe('WebAssembly SGD equals the TypeScript kernel bit for bit', () => {
  it('over random hyperparameters, every flag, and NaN, ±∞, −0 and subnormals in the state', () => {
    fc.assert(
      fc.property(
        lengths,
        fc.integer(),
        fc.record({
          lr: fc.double({ min: 1e-4, max: 2, noNaN: true }),
          momentum: fc.constantFrom(0, 0.9, 0.5, 0.99),
          dampening: fc.constantFrom(0, 0.1, 0.5),
          weightDecay: fc.constantFrom(0, 1e-4, 0.01),
          nesterov: fc.boolean(),
          maximize: fc.boolean(),
          first: fc.boolean(),
        }),
        (n, seed, h) => {
          const arrays = [values(n, seed, true), values(n, seed + 1, true), values(n, seed + 2, true)];
          const [js, fast] = onBoth(arrays, ([param, grad, momentumBuffer]) =>
            sgdStep({ ...h, param, grad, momentumBuffer: h.momentum === 0 ? undefined : momentumBuffer }),
          );
          assertBitwiseEqual(fast[0], js[0], 'param');
          assertBitwiseEqual(fast[2], js[2], 'momentum buffer');
          assertBitwiseEqual(fast[1], arrays[1], 'the gradient is not written');
        },
      ),
      { numRuns: 400 },
    );
  });

  it('rounds θ − lr·g once where one double addition then one rounding would round twice', () => {
    // a·b + c lands on a float32 midpoint in double while the exact value lies below it:
    // a = (1 + x·2⁻²³)·2⁻¹², b = (1 − x·2⁻²³)·2⁻¹², c = 1 + 2⁻²³ (see fmaf in src/fma.ts).
    const xs = Array.from({ length: 64 }, (_, i) => i + 1);
    const a = xs.map((x) => (1 + x * 2 ** -23) * 2 ** -12);
    const b = new Float32Array(xs.map((x) => (1 - x * 2 ** -23) * 2 ** -12));
    const c = new Float32Array(xs.length).fill(1 + 2 ** -23);
    for (let i = 0; i < xs.length; i++) {
      expect(fmaf(a[i], b[i], c[i])).not.toBe(Math.fround(a[i] * b[i] + c[i])); // the case is what it claims
      const [js, fast] = onBoth([c.subarray(i, i + 1), b.subarray(i, i + 1)], ([param, grad]) =>
        sgdStep({ param, grad, momentumBuffer: undefined, first: true, lr: -a[i], momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false }),
      );
      expect(fast[0][0]).toBe(fmaf(a[i], b[i], c[i]));
      expect(fast[0][0]).toBe(js[0][0]);
    }
  });
});

describe('WebAssembly SGD at a subnormal result', () => {
  it('rounds once, as the TypeScript kernel (and a fused multiply-add) does', () => {
    // θ − lr·g = 2⁻¹³⁹ + 3·2⁻¹⁵² + 12·2⁻¹⁹⁶ exactly: 2⁻¹³⁹ in float32.
    const lr = 3229540 * 2 ** -100;
    const g = -16341819 * 2 ** -96;
    const [js, fast] = onBoth([new Float32Array([2 ** -139]), new Float32Array([g])], ([param, grad]) =>
      sgdStep({ param, grad, momentumBuffer: undefined, first: true, lr, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false }),
    );
    expect(js[0][0]).toBe(2 ** -139);
    expect(fast[0][0]).toBe(2 ** -139);
  });
});

describe('WebAssembly Adam and AdamW equal the TypeScript kernel bit for bit', () => {
  it('over random hyperparameters, steps, amsgrad, L2 and decoupled decay, with NaN, ±∞ and −0 in the state', () => {
    fc.assert(
      fc.property(
        lengths,
        fc.integer(),
        fc.record({
          lr: fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
          beta1: fc.constantFrom(0.9, 0.8, 0),
          beta2: fc.constantFrom(0.999, 0.99, 0.5),
          eps: fc.constantFrom(1e-8, 1e-6, 1e-3),
          weightDecay: fc.constantFrom(0, 0.01),
          decoupledDecay: fc.constantFrom(null, 0.01, 0.1),
          step: fc.integer({ min: 1, max: 1000 }),
          amsgrad: fc.boolean(),
          maximize: fc.boolean(),
        }),
        (n, seed, h) => {
          const arrays = [values(n, seed, true), values(n, seed + 1, true), values(n, seed + 2, true), values(n, seed + 3, false).map(Math.abs), values(n, seed + 4, false).map(Math.abs)];
          const [js, fast] = onBoth(arrays, ([param, grad, expAvg, expAvgSq, maxExpAvgSq]) =>
            adamStep({
              param,
              grad,
              expAvg,
              expAvgSq,
              maxExpAvgSq: h.amsgrad ? maxExpAvgSq : undefined,
              lr: h.lr,
              beta1: h.beta1,
              beta2: h.beta2,
              eps: h.eps,
              weightDecay: h.weightDecay,
              decoupledDecay: h.decoupledDecay,
              biasCorrection1: 1 - h.beta1 ** h.step || 1,
              biasCorrection2: 1 - h.beta2 ** h.step,
              maximize: h.maximize,
            }),
          );
          for (const [i, name] of ['param', 'grad', 'expAvg', 'expAvgSq', 'maxExpAvgSq'].entries()) {
            assertBitwiseEqual(fast[i], js[i], name);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('the TypeScript kernel runs where the WebAssembly one does not apply', () => {
  it('float64 parameters and parameters below minElements', () => {
    const shipped = createWasmBackend() as Backend;
    previous = setBackend(shipped);
    for (const [dtype, n] of [['float64', 4096], ['float32', 8]] as const) {
      const param = new NDArray(dtype === 'float64' ? new Float64Array(n).fill(1) : new Float32Array(n).fill(1), [n]);
      const grad = new NDArray(dtype === 'float64' ? new Float64Array(n).fill(0.5) : new Float32Array(n).fill(0.5), [n]);
      sgdStep({ param, grad, momentumBuffer: undefined, first: true, lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false });
      expect(Array.from(param.data.slice(0, 2))).toEqual([dtype === 'float64' ? 0.95 : Math.fround(1 - Math.fround(0.1) * 0.5), dtype === 'float64' ? 0.95 : Math.fround(1 - Math.fround(0.1) * 0.5)]);
    }
  });
});
