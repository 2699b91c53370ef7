import type { FloatDType, NDArray } from '@backprop/ndarray';
import { type FixtureTensor, worstSeen } from '@backprop/ndarray/test';
import { afterAll, describe, expect, test } from 'vitest';
import { type OptimizerJson, buildOptimizer } from './build';
import { expectTorch, loadFixture, makeParams, setGrads } from './helpers';

interface Run {
  trajectory: FixtureTensor[][];
  state: Record<string, Record<string, FixtureTensor | number>>;
}

interface Case extends OptimizerJson {
  name: string;
  params: FixtureTensor[];
  grads: FixtureTensor[][];
  float64: Run;
  float32: Run;
}

const DTYPES: FloatDType[] = ['float64', 'float32'];

const fixture = loadFixture<{ cases: Case[] }>('optimizers');

describe.each(fixture.cases)('$name ($optimizer) against torch', (c) => {
  test.each(DTYPES)('%s: every step and the final state, bit for bit', (dtype) => {
    const run = c[dtype];
    const params = makeParams(c.params, dtype);
    const opt = buildOptimizer(c, params);
    c.grads.forEach((grads, step) => {
      setGrads(params, grads);
      opt.step();
      params.forEach((p, i) => {
        expectTorch(p.value, run.trajectory[step][i], `${c.name} ${dtype} step ${step + 1} param ${i}`);
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
        else expectTorch(actual[key] as NDArray, value, `${c.name} ${dtype} state ${i}.${key}`);
      }
    });
  });
});

interface VectorisedCase extends Omit<Case, 'groups' | 'float64' | 'float32'> {
  float64: FixtureTensor[];
  float32: FixtureTensor[];
}

const vectorised = loadFixture<{ cases: VectorisedCase[] }>('optimizers-vectorised');

describe.each(vectorised.cases)('$name ($optimizer) on 20 elements, as ATen vectorises them', (c) => {
  test.each(DTYPES)('%s: the values after 4 steps, bit for bit', (dtype) => {
    const params = makeParams(c.params, dtype);
    const opt = buildOptimizer({ ...c, groups: null }, params);
    for (const grads of c.grads) {
      setGrads(params, grads);
      opt.step();
    }
    expectTorch(params[0].value, c[dtype][0], `${c.name} ${dtype} (20 elements) after 4 steps`);
  });
});

afterAll(() => {
  console.log(
    `optimizers vs torch, worst relative error: float64 ${worstSeen.float64.error.toExponential(2)} (${worstSeen.float64.label}), ` +
      `float32 ${worstSeen.float32.error.toExponential(2)} (${worstSeen.float32.label})`,
  );
});
