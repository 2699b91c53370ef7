import type { DType, NDArray } from '@backprop/ndarray';
import { afterAll, describe, expect, test } from 'vitest';
import { type OptimizerJson, buildOptimizer } from './build';
import { type TensorJson, expectClose, loadFixture, makeParams, setGrads, worst } from './helpers';

interface Run {
  trajectory: TensorJson[][];
  state: Record<string, Record<string, TensorJson | number>>;
}

interface Case extends OptimizerJson {
  name: string;
  params: TensorJson[];
  grads: TensorJson[][];
  float64: Run;
  float32: Run;
}

const fixture = loadFixture<{ cases: Case[] }>('optimizers');

describe.each(fixture.cases)('$name ($optimizer) against torch', (c) => {
  test.each(['float64', 'float32'] as DType[])('%s: every step and the final state', (dtype) => {
    const run = c[dtype];
    const params = makeParams(c.params, dtype);
    const opt = buildOptimizer(c, params);
    c.grads.forEach((grads, step) => {
      setGrads(params, grads);
      opt.step();
      params.forEach((p, i) => {
        expectClose(p.value, run.trajectory[step][i], dtype, `${c.name} ${dtype} step ${step + 1} param ${i}`);
      });
    });
    expect(opt.stepCount).toBe(c.grads.length);
    params.forEach((p, i) => {
      const expected = run.state[String(i)] ?? {};
      const actual = (opt.state.get(p) ?? {}) as Record<string, NDArray | number | undefined>;
      const present = Object.keys(actual).filter((k) => actual[k] !== undefined);
      expect(present.sort(), `${c.name} ${dtype} state keys of param ${i}`).toEqual(Object.keys(expected).sort());
      for (const [key, value] of Object.entries(expected)) {
        if (typeof value === 'number') expect(actual[key]).toBe(value);
        else expectClose(actual[key] as NDArray, value, dtype, `${c.name} ${dtype} state ${i}.${key}`);
      }
    });
  });
});

interface VectorisedCase extends Omit<Case, 'groups' | 'float64' | 'float32'> {
  float64: TensorJson[];
  float32: TensorJson[];
}

const vectorised = loadFixture<{ cases: VectorisedCase[] }>('optimizers-vectorised');

describe.each(vectorised.cases)('$name ($optimizer) on 20 elements, as ATen vectorises them', (c) => {
  test.each(['float64', 'float32'] as DType[])('%s: the values after 4 steps', (dtype) => {
    const params = makeParams(c.params, dtype);
    const opt = buildOptimizer({ ...c, groups: null }, params);
    for (const grads of c.grads) {
      setGrads(params, grads);
      opt.step();
    }
    expectClose(params[0].value, c[dtype][0], dtype, `${c.name} ${dtype} (20 elements) after 4 steps`);
  });
});

afterAll(() => {
  console.log(
    `optimizers vs torch, worst relative error: float64 ${worst.float64.error.toExponential(2)} (${worst.float64.where}), ` +
      `float32 ${worst.float32.error.toExponential(2)} (${worst.float32.where})`,
  );
});
