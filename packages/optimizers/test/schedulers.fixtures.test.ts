import { type FloatDType, Parameter, zeros } from '@backprop/ndarray';
import { type FixtureTensor, worstSeen } from '@backprop/ndarray/test';
import { afterAll, describe, expect, test } from 'vitest';
import { SGD } from '../src/index';
import { type SchedulerJson, buildOptimizer, buildScheduler } from './build';
import { expectTorch, expectTorchNumbers, loadFixture, makeParams, setGrads } from './helpers';

interface ScheduleCase {
  name: string;
  groupLrs: number[];
  chain: SchedulerJson[];
  lrs: number[][];
}

interface CombinedRun {
  trajectory: FixtureTensor[][];
  lrs: number[][];
}

interface CombinedCase {
  name: string;
  optimizer: 'SGD' | 'AdamW';
  options: Record<string, unknown>;
  scheduler: SchedulerJson;
  params: FixtureTensor[];
  grads: FixtureTensor[][];
  float64: CombinedRun;
  float32: CombinedRun;
}

const fixture = loadFixture<{ cases: ScheduleCase[]; combined: CombinedCase[] }>('schedulers');

let worstLr = { error: 0, where: '' };

/** Learning rates are Python floats in torch: within 1e-13, and then bit for bit. */
function expectLrs(actual: number[], expected: number[], where: string): void {
  const error = expectTorchNumbers(actual, expected, `${where}: learning rates`, 1e-13);
  if (error > worstLr.error) worstLr = { error, where };
}

describe('learning-rate schedules against torch (200 steps)', () => {
  test.each(fixture.cases)('$name', (c) => {
    const params = c.groupLrs.map(() => new Parameter(zeros([1], { dtype: 'float64' })));
    const opt = new SGD(
      params.map((p, i) => ({ params: [p], lr: c.groupLrs[i] })),
      { lr: c.groupLrs[0] },
    );
    const schedulers = c.chain.map((s) => buildScheduler(s, opt));
    expectLrs(opt.paramGroups.map((g) => g.lr), c.lrs[0], `${c.name} at construction`);
    expect(schedulers[schedulers.length - 1].getLastLr()).toEqual(c.lrs[0]);
    for (let k = 1; k < c.lrs.length; k++) {
      opt.step();
      for (const s of schedulers) s.step();
      expectLrs(schedulers[schedulers.length - 1].getLastLr(), c.lrs[k], `${c.name} after ${k} steps`);
      expect(schedulers[0].lastEpoch).toBe(k);
    }
  });
});

describe('optimizer and scheduler together against torch', () => {
  describe.each(fixture.combined)('$name', (c) => {
    test.each(['float64', 'float32'] as FloatDType[])('%s, bit for bit', (dtype) => {
      const run = c[dtype];
      const params = makeParams(c.params, dtype);
      const opt = buildOptimizer({ ...c, groups: null }, params);
      const scheduler = buildScheduler(c.scheduler, opt);
      expectLrs(scheduler.getLastLr(), run.lrs[0], `${c.name} at construction`);
      c.grads.forEach((grads, step) => {
        setGrads(params, grads);
        opt.step();
        scheduler.step();
        expectLrs(scheduler.getLastLr(), run.lrs[step + 1], `${c.name} lr after step ${step + 1}`);
        params.forEach((p, i) => {
          expectTorch(p.value, run.trajectory[step][i], `${c.name} ${dtype} step ${step + 1} param ${i}`);
        });
      });
    });
  });
});

afterAll(() => {
  console.log(
    `schedules vs torch, worst relative error: learning rates ${worstLr.error.toExponential(2)} (${worstLr.where}), ` +
      `parameters float64 ${worstSeen.float64.error.toExponential(2)}, float32 ${worstSeen.float32.error.toExponential(2)}`,
  );
});
