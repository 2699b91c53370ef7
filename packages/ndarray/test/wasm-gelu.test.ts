/**
 * The exact GELU and its backward in WebAssembly (assembly/gelu.ts) against
 * the TypeScript kernels, bit for bit: its exp against the engine's Math.exp
 * (fdlibm's, in V8), its erf against src/kernels/js/erf.ts, and the kernels
 * through the backend over values that reach every interval of erf, NaN, ±∞,
 * −0 and subnormals, in both dtypes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Backend, NDArray, createWasmBackend, gelu, geluBackward, jsBackend, setBackend } from '../src/index';
import { testRandom } from '../src/testing/index';
import { erf as erfTypeScript } from '../src/kernels/js/erf';
import { decodeBase64 } from '../src/kernels/wasm/memory';
import { GELU_WASM_BASE64 } from '../src/kernels/wasm/gemm-bytes';

/** The engine's WebAssembly API (the package compiles against lib ES2022, which does not declare it). */
const engine = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: object } };
}).WebAssembly;
const module = new engine.Instance(new engine.Module(decodeBase64(GELU_WASM_BASE64)), {}).exports as {
  expF64(x: number): number;
  erfF64(x: number): number;
};

const wasm = createWasmBackend({ minWork: 0, minElements: 0 });
if (wasm === undefined) throw new Error('this engine has no WebAssembly SIMD');
let previous: Backend | undefined;
afterEach(() => {
  if (previous) setBackend(previous);
});

/** Values spread over many binades, both signs, plus the edges of every interval of exp and erf. */
function samples(count: number, seed: number): number[] {
  const out = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** -28, 0.84375, 1.25, 2.857142857142857, 6, 709.78, 709.79, -745.13, -745.14, 0.34657359027997264, 1.0397207708399179];
  for (const edge of out.slice(7)) out.push(-edge, edge * (1 + 2 ** -52), edge * (1 - 2 ** -53));
  const next = testRandom(seed);
  for (let i = 0; i < count; i++) {
    const u = next();
    const s = u * 2 ** 32; // the generator's state, for picks of its own
    const magnitude = 2 ** ((s >>> 7) % 40 - 30) * (1 + u);
    out.push((s & 1 ? -1 : 1) * (i % 3 === 0 ? u * 12 : magnitude));
  }
  return out;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe('assembly/gelu.ts computes what the TypeScript kernels compute, bit for bit', () => {
  it('exp equals the engine’s Math.exp (fdlibm’s e_exp.c in V8), over 200,000 values and the edges', () => {
    const xs = samples(200_000, 1).map((x) => x * 60);
    for (const x of [...xs, ...samples(1000, 2)]) {
      if (!same(module.expF64(x), Math.exp(x))) expect.fail(`exp(${x}): ${module.expF64(x)}, Math.exp ${Math.exp(x)}`);
    }
  });

  it('erf equals src/kernels/js/erf.ts over 200,000 values and the edges of its intervals', () => {
    for (const x of samples(200_000, 3)) {
      if (!same(module.erfF64(x), erfTypeScript(x))) expect.fail(`erf(${x}): ${module.erfF64(x)}, TypeScript ${erfTypeScript(x)}`);
    }
  });

  it('gelu and geluBackward (exact) through the backend, float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const xs = samples(20_000, 5);
      const make = (values: number[]) => new NDArray(dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values), [values.length]);
      const x = make(xs);
      const g = make(samples(20_000, 6).reverse());
      const run = (backend: Backend) => {
        previous ??= setBackend(backend);
        setBackend(backend);
        return [gelu(x).data, geluBackward(g, x).data];
      };
      const [jsForward, jsBackward] = run(jsBackend);
      const [fastForward, fastBackward] = run(wasm as Backend);
      for (let i = 0; i < xs.length; i++) {
        if (!same(fastForward[i], jsForward[i])) expect.fail(`${dtype} gelu(${x.data[i]}): ${fastForward[i]}, TypeScript ${jsForward[i]}`);
        if (!same(fastBackward[i], jsBackward[i])) expect.fail(`${dtype} geluBackward at ${x.data[i]}: ${fastBackward[i]}, TypeScript ${jsBackward[i]}`);
      }
    }
  });
});
