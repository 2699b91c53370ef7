import { Parameter, zeros } from '@backprop/ndarray';
import { describe, expect, test } from 'vitest';
import {
  Adam,
  type AnyOptimizer,
  CosineAnnealingLR,
  ExponentialLR,
  type LRScheduler,
  LinearLR,
  MultiStepLR,
  SGD,
  StepLR,
} from '../src/index';

function sgd(lr = 0.1): SGD {
  return new SGD([new Parameter(zeros([2], { dtype: 'float64' }))], { lr });
}

function run(opt: AnyOptimizer, scheduler: LRScheduler, steps: number): number[] {
  const lrs: number[] = [];
  for (let k = 0; k < steps; k++) {
    opt.step();
    scheduler.step();
    lrs.push(scheduler.getLastLr()[0]);
  }
  return lrs;
}

describe('LRScheduler basics', () => {
  test('construction takes the first step: lastEpoch 0, the base rate, initialLr recorded', () => {
    const opt = sgd(0.1);
    const scheduler = new StepLR(opt, { stepSize: 2 });
    expect(scheduler.lastEpoch).toBe(0);
    expect(scheduler.getLastLr()).toEqual([0.1]);
    expect(scheduler.baseLrs).toEqual([0.1]);
    expect(opt.paramGroups[0].initialLr).toBe(0.1);
    scheduler.getLastLr().push(5);
    expect(scheduler.getLastLr()).toEqual([0.1]);
  });

  test('StepLR follows base·γ^⌊k/stepSize⌋', () => {
    const opt = sgd(0.3);
    const lrs = run(opt, new StepLR(opt, { stepSize: 3, gamma: 0.5 }), 40);
    lrs.forEach((lr, i) => {
      expect(lr).toBeCloseTo(0.3 * 0.5 ** Math.floor((i + 1) / 3), 15);
    });
    expect(lrs.slice(0, 6)).toEqual([0.3, 0.3, 0.15, 0.15, 0.15, 0.075]);
  });

  test('ExponentialLR follows base·γ^k', () => {
    const opt = sgd(1);
    const lrs = run(opt, new ExponentialLR(opt, { gamma: 0.9 }), 30);
    lrs.forEach((lr, i) => {
      expect(Math.abs(lr - 0.9 ** (i + 1)) / 0.9 ** (i + 1)).toBeLessThan(1e-14);
    });
  });

  test('CosineAnnealingLR reaches etaMin at tMax and climbs back to the base rate at 2·tMax, periodically', () => {
    const opt = sgd(0.1);
    const lrs = [0.1, ...run(opt, new CosineAnnealingLR(opt, { tMax: 5, etaMin: 0.01 }), 40)];
    expect(lrs[5]).toBe(0.01);
    expect(lrs[15]).toBeCloseTo(0.01, 15);
    expect(lrs[10]).toBeCloseTo(0.1, 15);
    expect(lrs[30]).toBeCloseTo(0.1, 15);
    for (let k = 0; k <= 40; k++) {
      expect(lrs[k]).toBeCloseTo(0.01 + (0.09 * (1 + Math.cos((Math.PI * k) / 5))) / 2, 14);
    }
  });

  test('MultiStepLR decays at each milestone, twice at one listed twice', () => {
    const opt = sgd(1);
    const lrs = run(opt, new MultiStepLR(opt, { milestones: [4, 2, 4], gamma: 0.5 }), 6);
    expect(lrs).toEqual([1, 0.5, 0.5, 0.125, 0.125, 0.125]);
  });

  test('LinearLR with totalIters 0 holds startFactor·base for ever, as torch 1.13 does', () => {
    // torch: LinearLR(SGD(lr=0.1), start_factor=0.5, total_iters=0) gives 0.05, 0.05, 0.05, 0.05.
    const opt = new SGD([new Parameter(zeros([1]), 'w')], { lr: 0.1 });
    const scheduler = new LinearLR(opt, { startFactor: 0.5, endFactor: 1, totalIters: 0 });
    const lrs = [opt.lr];
    for (let i = 0; i < 3; i++) {
      opt.step();
      scheduler.step();
      lrs.push(opt.lr);
    }
    expect(lrs).toEqual([0.05, 0.05, 0.05, 0.05]);
  });

  test('LinearLR starts at startFactor·base and reaches endFactor·base at totalIters', () => {
    const opt = sgd(0.2);
    const scheduler = new LinearLR(opt, { startFactor: 0.25, totalIters: 4 });
    expect(scheduler.getLastLr()).toEqual([0.05]);
    const lrs = run(opt, scheduler, 6);
    [0.0875, 0.125, 0.1625, 0.2, 0.2, 0.2].forEach((lr, i) => {
      expect(lrs[i]).toBeCloseTo(lr, 15);
    });
  });

  test('the chainable form carries on from a rate set by hand', () => {
    const opt = sgd(0.1);
    const scheduler = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    run(opt, scheduler, 1);
    opt.lr = 1;
    expect(run(opt, scheduler, 2)).toEqual([0.5, 0.5]);
  });

  test('two schedulers chain on one optimizer; the second takes the recorded initialLr as base', () => {
    const opt = sgd(1);
    const decay = new ExponentialLR(opt, { gamma: 0.5 });
    run(opt, decay, 1);
    const steps = new StepLR(opt, { stepSize: 2, gamma: 0.1 });
    expect(steps.baseLrs).toEqual([1]);
    opt.step();
    decay.step();
    steps.step();
    expect(steps.getLastLr()[0]).toBe(0.25);
    opt.step();
    decay.step();
    steps.step();
    expect(steps.getLastLr()[0]).toBeCloseTo(0.0125, 16);
  });

  test('schedulers drive every param group from its own base rate', () => {
    const opt = new Adam([
      { params: [new Parameter(zeros([1]))], lr: 0.1 },
      { params: [new Parameter(zeros([1]))], lr: 0.01 },
    ]);
    const scheduler = new ExponentialLR(opt, { gamma: 0.5 });
    opt.step();
    scheduler.step();
    expect(scheduler.getLastLr()).toEqual([0.05, 0.005]);
    expect(scheduler.baseLrs).toEqual([0.1, 0.01]);
  });
});

const SCHEDULES: [string, (opt: AnyOptimizer) => LRScheduler][] = [
  ['StepLR', (opt) => new StepLR(opt, { stepSize: 3, gamma: 0.7 })],
  ['ExponentialLR', (opt) => new ExponentialLR(opt, { gamma: 0.95 })],
  ['CosineAnnealingLR', (opt) => new CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.001 })],
  ['MultiStepLR', (opt) => new MultiStepLR(opt, { milestones: [2, 9, 12], gamma: 0.3 })],
  ['LinearLR', (opt) => new LinearLR(opt, { startFactor: 0.2, totalIters: 10 })],
];

describe.each(SCHEDULES)('%s state dict', (_name, make) => {
  test('save after 7 steps, load with the optimizer into fresh ones, continue = uninterrupted', () => {
    const straightOpt = sgd(0.1);
    const straight = run(straightOpt, make(straightOpt), 30);

    const firstOpt = sgd(0.1);
    const first = make(firstOpt);
    const before = run(firstOpt, first, 7);
    const optState = firstOpt.stateDict();
    const schedulerState = first.stateDict();
    expect(JSON.parse(JSON.stringify(schedulerState))).toEqual(schedulerState);

    const resumedOpt = sgd(0.5);
    const resumed = make(resumedOpt);
    resumedOpt.loadStateDict(optState);
    resumed.loadStateDict(schedulerState);
    expect(resumed.lastEpoch).toBe(7);
    expect(resumed.getLastLr()).toEqual(first.getLastLr());
    expect([...before, ...run(resumedOpt, resumed, 23)]).toEqual(straight);
  });
});
