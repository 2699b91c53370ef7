/**
 * LambdaLR, SequentialLR, CosineAnnealingWarmRestarts, OneCycleLR and
 * ReduceLROnPlateau against torch 1.13 (tools/torch-fixtures/optimizers.py,
 * `schedulers.json`'s `more`): 40 steps each, the learning rates and the
 * momentum OneCycleLR cycles, within 1e-15 relative and then bit for bit.
 */
import { Parameter, zeros } from '@backprop/ndarray';
import { afterAll, describe, expect, test } from 'vitest';
import {
  type AnyOptimizer,
  CosineAnnealingWarmRestarts,
  LambdaLR,
  type LRScheduler,
  type LrLambda,
  OPTIMIZERS,
  type OptimizerName,
  ReduceLROnPlateau,
  SCHEDULERS,
  type SchedulerClass,
  type SchedulerName,
  SequentialLR,
} from '../src/index';
import { expectTorchNumbers, loadFixture } from './helpers';

interface SchedulerSpec {
  type: SchedulerName;
  options: Record<string, unknown>;
}

interface MoreCase {
  name: string;
  optimizer: OptimizerName;
  optimizerOptions: Record<string, unknown>;
  groupLrs: number[];
  scheduler: SchedulerSpec;
  /** Per step: ReduceLROnPlateau's metric, or the epoch for step(epoch) (null: step()). */
  inputs: (number | null)[] | null;
  lrs: number[][];
  momenta?: number[][];
}

/** The same functions as the fixture script's LAMBDAS, with the same operations in the same order. */
const LAMBDAS: Record<string, LrLambda> = {
  warmup10: (e) => Math.min(1, (e + 1) / 10),
  inverse: (e) => 1 / (1 + 0.05 * e),
  halve7: (e) => 0.5 ** Math.floor(e / 7),
  poly: (e) => (1 - e / 40) * (1 - e / 40),
};

const fixture = loadFixture<{ more: MoreCase[] }>('schedulers');

/** The scheduler a fixture spec describes, on `opt` (SequentialLR's children first, as in torch). */
function build(spec: SchedulerSpec, opt: AnyOptimizer): LRScheduler {
  if (spec.type === 'LambdaLR') {
    const names = spec.options.lrLambda as string | string[];
    return new LambdaLR(opt, Array.isArray(names) ? names.map((n) => LAMBDAS[n]) : LAMBDAS[names]);
  }
  if (spec.type === 'SequentialLR') {
    const children = (spec.options.schedulers as SchedulerSpec[]).map((child) => build(child, opt));
    return new SequentialLR(opt, { schedulers: children, milestones: spec.options.milestones as number[] });
  }
  const Scheduler: SchedulerClass = SCHEDULERS[spec.type];
  return new Scheduler(opt, spec.options);
}

function momentumOf(group: Record<string, unknown>): number {
  return Array.isArray(group.betas) ? (group.betas[0] as number) : (group.momentum as number);
}

let worst = { error: 0, where: '' };
let values = 0;

function expectLrs(actual: number[], expected: number[], where: string): void {
  const error = expectTorchNumbers(actual, expected, where, 1e-15);
  values += actual.length;
  if (error > worst.error) worst = { error, where };
}

describe('more schedules against torch 1.13, step by step', () => {
  test.each(fixture.more)('$name', (c) => {
    const params = c.groupLrs.map(() => new Parameter(zeros([1], { dtype: 'float64' })));
    const opt = new OPTIMIZERS[c.optimizer](
      params.map((p, i) => ({ params: [p], lr: c.groupLrs[i] })),
      c.optimizerOptions,
    );
    const scheduler = build(c.scheduler, opt);
    const groups = () => opt.paramGroups as unknown as Record<string, unknown>[];
    expectLrs(opt.paramGroups.map((g) => g.lr), c.lrs[0], `${c.name} at construction`);
    expect(scheduler.getLastLr()).toEqual(c.lrs[0]);
    if (c.momenta) expectLrs(groups().map(momentumOf), c.momenta[0], `${c.name} momentum at construction`);
    for (let k = 1; k < c.lrs.length; k++) {
      opt.step();
      const input = c.inputs?.[k - 1] ?? null;
      if (input === null) scheduler.step();
      else scheduler.step(input);
      expectLrs(opt.paramGroups.map((g) => g.lr), c.lrs[k], `${c.name} lr after ${k} steps`);
      expect(scheduler.getLastLr()).toEqual(c.lrs[k]);
      if (c.momenta) expectLrs(groups().map(momentumOf), c.momenta[k], `${c.name} momentum after ${k} steps`);
    }
  });

  test('the cases cover every new scheduler, and each plateau case reduces at least once', () => {
    const kinds = new Set(fixture.more.map((c) => c.scheduler.type));
    for (const kind of ['LambdaLR', 'SequentialLR', 'CosineAnnealingWarmRestarts', 'OneCycleLR', 'ReduceLROnPlateau']) {
      expect(kinds.has(kind as SchedulerName)).toBe(true);
    }
    for (const c of fixture.more.filter((m) => m.scheduler.type === 'ReduceLROnPlateau')) {
      expect(c.lrs[c.lrs.length - 1][0]).toBeLessThan(c.lrs[0][0]);
    }
    expect(ReduceLROnPlateau).toBe(SCHEDULERS.ReduceLROnPlateau);
    expect(CosineAnnealingWarmRestarts).toBe(SCHEDULERS.CosineAnnealingWarmRestarts);
  });
});

afterAll(() => {
  if (process.env.REPORT_ERRORS) {
    console.log(`more schedules vs torch: ${values} values, worst relative error ${worst.error.toExponential(2)} (${worst.where || 'all bit for bit'})`);
  }
});
