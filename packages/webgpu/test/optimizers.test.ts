/**
 * The optimizer updates on the GPU against the TypeScript kernels: three steps
 * of every combination of options from the same parameter, state and
 * gradients (one of them NaN), comparing the parameter and every state buffer
 * within float32 rounding (WGSL's sqrt and division are within a few ulp).
 */
import { NDArray, adagradStep, adamStep, array, jsBackend, narrow, rmspropStep, setBackend, sgdStep } from '@backprop/ndarray';
import { testRandom } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { both, gpu, useGpu } from './reference';

useGpu();

const random = testRandom(1513);
const STEPS = 3;

function uniform(n: number, low: number, high: number): Float32Array {
  return Float32Array.from({ length: n }, () => low + (high - low) * random());
}

type Arrays = Record<string, NDArray>;

/**
 * Runs `step` STEPS times on the TypeScript backend and on the GPU, from the
 * same parameter, states (`states`: initial values by name) and gradients
 * (element 1 of the second gradient NaN), and returns every array's final
 * elements, expected and actual.
 */
async function steps(
  n: number,
  states: Record<string, number>,
  step: (arrays: Arrays, grad: NDArray, t: number) => void,
): Promise<[Record<string, Float32Array>, Record<string, Float32Array>]> {
  const initial: Record<string, Float32Array> = { param: uniform(n, -2, 2) };
  for (const [name, value] of Object.entries(states)) initial[name] = new Float32Array(n).fill(value);
  const grads = Array.from({ length: STEPS }, () => uniform(n, -1, 1));
  if (n > 1) grads[1][1] = Number.NaN;
  const names = Object.keys(initial);
  const inputs = [...Object.values(initial), ...grads].map((data) => new NDArray(data, [n]));
  const { expected, actual } = await both(inputs, (...xs) => {
    const arrays: Arrays = Object.fromEntries(names.map((name, i) => [name, xs[i]]));
    for (let t = 1; t <= STEPS; t++) step(arrays, xs[names.length + t - 1], t);
    return names.map((name) => arrays[name]);
  });
  const byName = (elements: ArrayLike<number>[]) => Object.fromEntries(names.map((name, i) => [name, elements[i] as Float32Array]));
  return [byName(expected), byName(actual)];
}

/**
 * Every array equal within float32 rounding, NaN where the TypeScript result
 * is NaN (the NaN gradient reached it). An element is a short sum of terms up
 * to the array's largest magnitude (a momentum buffer sums g/avg of about ±10
 * into small values), so the bound has a part relative to that.
 */
function expectClose(expected: Record<string, Float32Array>, actual: Record<string, Float32Array>): void {
  for (const name of Object.keys(expected)) {
    const e = expected[name];
    const a = actual[name];
    expect(a.length, name).toBe(e.length);
    const scale = e.reduce((m, v) => (Number.isNaN(v) ? m : Math.max(m, Math.abs(v))), 1);
    for (let i = 0; i < e.length; i++) {
      if (Number.isNaN(e[i])) expect(a[i], `${name}[${i}]`).toBeNaN();
      else expect(Math.abs(a[i] - e[i]), `${name}[${i}]: ${a[i]} vs ${e[i]}`).toBeLessThanOrEqual(2e-6 * scale + 4e-6 * Math.abs(e[i]));
    }
  }
  if (expected.param.length > 1) expect(Number.isNaN(expected.param[1])).toBe(true);
}

/** Every combination of the options' values. */
function combinations<T extends Record<string, readonly unknown[]>>(options: T): { [K in keyof T]: T[K][number] }[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [name, values] of Object.entries(options)) out = out.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  return out as { [K in keyof T]: T[K][number] }[];
}

const N = 2500;

describe('webgpu sgdStep', () => {
  const cases = combinations({ momentum: [0, 0.9], dampening: [0, 0.25], nesterov: [false, true], weightDecay: [0, 0.05], maximize: [false, true] });
  for (const o of cases) {
    it(JSON.stringify(o), async () => {
      const [expected, actual] = await steps(N, o.momentum === 0 ? {} : { momentumBuffer: 0 }, (x, grad, t) =>
        sgdStep({ param: x.param, grad, momentumBuffer: x.momentumBuffer, first: t === 1, lr: 0.1, ...o }),
      );
      expectClose(expected, actual);
    });
  }
});

describe('webgpu adamStep', () => {
  const cases = combinations({ weightDecay: [0, 0.1], decoupledDecay: [null, 0.02], amsgrad: [false, true], maximize: [false, true] });
  for (const { amsgrad, ...o } of cases) {
    it(JSON.stringify({ amsgrad, ...o }), async () => {
      const beta1 = 0.9;
      const beta2 = 0.999;
      const [expected, actual] = await steps(N, { expAvg: 0, expAvgSq: 0, ...(amsgrad ? { maxExpAvgSq: 0 } : {}) }, (x, grad, t) =>
        adamStep({
          param: x.param,
          grad,
          expAvg: x.expAvg,
          expAvgSq: x.expAvgSq,
          maxExpAvgSq: x.maxExpAvgSq,
          lr: 0.01,
          beta1,
          beta2,
          eps: 1e-8,
          biasCorrection1: 1 - beta1 ** t,
          biasCorrection2: 1 - beta2 ** t,
          ...o,
        }),
      );
      expectClose(expected, actual);
    });
  }
});

describe('webgpu rmspropStep', () => {
  const cases = combinations({ centered: [false, true], momentum: [0, 0.9], weightDecay: [0, 0.1], maximize: [false, true] });
  for (const { centered, ...o } of cases) {
    it(JSON.stringify({ centered, ...o }), async () => {
      const states = { squareAvg: 0, ...(centered ? { gradAvg: 0 } : {}), ...(o.momentum > 0 ? { momentumBuffer: 0 } : {}) };
      const [expected, actual] = await steps(N, states, (x, grad) =>
        rmspropStep({ param: x.param, grad, squareAvg: x.squareAvg, gradAvg: x.gradAvg, momentumBuffer: x.momentumBuffer, lr: 0.01, alpha: 0.99, eps: 1e-8, ...o }),
      );
      expectClose(expected, actual);
    });
  }
});

describe('webgpu adagradStep', () => {
  const cases = combinations({ weightDecay: [0, 0.1], maximize: [false, true] });
  for (const o of cases) {
    it(JSON.stringify(o), async () => {
      const [expected, actual] = await steps(N, { sum: 0.1 }, (x, grad, t) =>
        adagradStep({ param: x.param, grad, sum: x.sum, clr: 0.05 / (1 + (t - 1) * 0.01), eps: 1e-10, ...o }),
      );
      expectClose(expected, actual);
    });
  }
});

describe('webgpu optimizer steps on edge sizes', () => {
  for (const n of [0, 1, 1025]) {
    it(`Adam with amsgrad and SGD with Nesterov momentum on ${n} elements`, async () => {
      const [e1, a1] = await steps(n, { expAvg: 0, expAvgSq: 0, maxExpAvgSq: 0 }, (x, grad, t) =>
        adamStep({
          param: x.param,
          grad,
          expAvg: x.expAvg,
          expAvgSq: x.expAvgSq,
          maxExpAvgSq: x.maxExpAvgSq,
          lr: 0.001,
          beta1: 0.8,
          beta2: 0.99,
          eps: 1e-6,
          weightDecay: 0,
          decoupledDecay: 0.01,
          biasCorrection1: 1 - 0.8 ** t,
          biasCorrection2: 1 - 0.99 ** t,
          maximize: false,
        }),
      );
      expectClose(e1, a1);
      const [e2, a2] = await steps(n, { momentumBuffer: 0 }, (x, grad, t) =>
        sgdStep({ param: x.param, grad, momentumBuffer: x.momentumBuffer, first: t === 1, lr: 0.1, momentum: 0.5, dampening: 0, nesterov: true, weightDecay: 0.01, maximize: true }),
      );
      expectClose(e2, a2);
    });
  }

  it('updates a parameter that is a view into a larger buffer, and only it', async () => {
    setBackend(gpu());
    const whole = array(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    const param = narrow(whole, 1, 1);
    sgdStep({
      param,
      grad: array(new Float32Array([10, 20]), { shape: [1, 2] }),
      momentumBuffer: undefined,
      first: true,
      lr: 0.1,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
      maximize: false,
    });
    const result = await whole.toHost();
    setBackend(jsBackend);
    expect(Array.from(result)).toEqual([1, 2, 2, 2, 5, 6]);
  });
});
