/**
 * The later schedulers' rules, state dicts and option checks (their values
 * against torch are in schedulers-more.fixtures.test.ts), and the closed
 * form `step(epoch)` that SequentialLR uses.
 */
import { Parameter, ValueError, zeros } from '@backprop/ndarray';
import { describe, expect, test } from 'vitest';
import {
  Adagrad,
  Adam,
  type AnyOptimizer,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  LambdaLR,
  type LRScheduler,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SGD,
  SequentialLR,
  StepLR,
} from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: deliberately wrong arguments
type Loose = any;

function sgd(lrs: number[] = [0.1], options: Record<string, unknown> = {}): SGD {
  return new SGD(
    lrs.map((lr) => ({ params: [new Parameter(zeros([1], { dtype: 'float64' }))], lr })),
    { lr: lrs[0], ...options },
  );
}

/** Steps the optimizer and the scheduler `steps` times (with `input(k)` as step's argument), returning group 0's rates. */
function run(opt: AnyOptimizer, scheduler: LRScheduler, steps: number, input?: (k: number) => number): number[] {
  const lrs: number[] = [];
  for (let k = 0; k < steps; k++) {
    opt.step();
    if (input) scheduler.step(input(k));
    else scheduler.step();
    lrs.push(opt.paramGroups[0].lr);
  }
  return lrs;
}

describe('rules', () => {
  test('LambdaLR: base · lrLambda(epoch), per group, ignoring a rate set by hand', () => {
    const opt = sgd([0.1, 0.2]);
    const scheduler = new LambdaLR(opt, [(e) => e + 1, (e) => 1 / (e + 1)]);
    expect(scheduler.getLastLr()).toEqual([0.1, 0.2]);
    opt.paramGroups[0].lr = 5;
    run(opt, scheduler, 2);
    expect(scheduler.getLastLr()).toEqual([0.1 * 3, 0.2 / 3]);
  });

  test('LambdaLR: a factor that is not a finite number >= 0 throws, naming the epoch and group, before any rate changes', () => {
    const opt = sgd([0.1]);
    const scheduler = new LambdaLR(opt, (e) => (e < 2 ? 1 : Number.NaN));
    run(opt, scheduler, 1);
    expect(() => run(opt, scheduler, 1)).toThrow(/^LambdaLR: lrLambda\(2\) for param group 0 returned NaN; expected a finite number >= 0$/);
    expect(opt.paramGroups[0].lr).toBe(0.1);
    expect(() => new LambdaLR(sgd(), () => 'x' as Loose)).toThrow(/returned 'x'/);
    expect(() => new LambdaLR(sgd(), () => -1)).toThrow(/returned -1/);
  });

  test('SequentialLR: warm-up then cosine restarts the cosine from the base rate at the milestone (torch 1.13)', () => {
    const opt = sgd([1]);
    const warmup = new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    const cosine = new CosineAnnealingLR(opt, { tMax: 4 });
    const scheduler = new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [3] });
    expect(scheduler.getLastLr()).toEqual([0.5]);
    const lrs = run(opt, scheduler, 5);
    expect(lrs.slice(0, 3)).toEqual([0.75, 1, 1]);
    expect(lrs[2]).toBe(1); // step(0) of the cosine: its closed form at epoch 0, the base rate
    expect(lrs[3]).toBeCloseTo((1 + Math.cos(Math.PI / 4)) / 2, 15);
    expect(cosine.lastEpoch).toBe(2);
    expect(scheduler.lastEpoch).toBe(5);
    expect(() => scheduler.step(3)).toThrow(/^SequentialLR\.step takes no epoch/);
  });

  test('step(epoch) uses the closed forms, as torch: StepLR, MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR', () => {
    const cases: [(opt: AnyOptimizer) => LRScheduler, number, number][] = [
      [(o) => new StepLR(o, { stepSize: 3, gamma: 0.5 }), 7, 0.025],
      [(o) => new MultiStepLR(o, { milestones: [2, 5, 5], gamma: 0.5 }), 5, 0.0125],
      [(o) => new ExponentialLR(o, { gamma: 0.5 }), 3, 0.0125],
      [(o) => new LinearLR(o, { startFactor: 0.5, totalIters: 4 }), 2, 0.075],
      [(o) => new CosineAnnealingLR(o, { tMax: 4 }), 4, 0],
    ];
    for (const [make, epoch, lr] of cases) {
      const opt = sgd([0.1]);
      const scheduler = make(opt);
      opt.paramGroups[0].lr = 7; // the closed form ignores the current rate
      scheduler.step(epoch);
      expect(scheduler.lastEpoch).toBe(epoch);
      expect(scheduler.getLastLr()[0]).toBeCloseTo(lr, 16);
    }
    expect(() => new StepLR(sgd(), { stepSize: 2 }).step(1.5)).toThrow(/^StepLR\.step: epoch must be an integer >= 0, got 1\.5$/);
  });

  test('CosineAnnealingWarmRestarts: restarts at T0, T0·TMult, ...; step(epoch) mixes with step()', () => {
    const opt = sgd([1]);
    const scheduler = new CosineAnnealingWarmRestarts(opt, { T0: 2, TMult: 2 });
    const lrs = [1, ...run(opt, scheduler, 7)];
    expect(lrs[2]).toBe(1);
    expect(lrs[6]).toBe(1);
    expect(lrs[1]).toBeCloseTo(0.5, 15);
    expect(lrs[4]).toBeCloseTo(0.5, 15);
    scheduler.step(2.5); // inside the second period (epochs 2..6): T_cur 0.5 of T_i 4
    expect(scheduler.TCur).toBe(0.5);
    expect(scheduler.TI).toBe(4);
    expect(scheduler.lastEpoch).toBe(2);
    scheduler.step();
    expect(scheduler.TCur).toBe(1.5);
    expect(scheduler.lastEpoch).toBe(3);
  });

  test('OneCycleLR: from maxLr/divFactor up to maxLr and down to maxLr/divFactor/finalDivFactor; momentum the other way', () => {
    const opt = sgd([0.5], { momentum: 0.9 });
    const scheduler = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10, pctStart: 0.2, annealStrategy: 'linear' });
    expect(opt.paramGroups[0].initialLr).toBe(0.04);
    expect(opt.paramGroups[0].lr).toBe(0.04);
    expect(opt.paramGroups[0].momentum).toBe(0.95);
    const lrs = run(opt, scheduler, 9);
    expect(lrs[0]).toBe(1); // peak at step pctStart·totalSteps − 1 = 1
    expect(opt.paramGroups[0].momentum).toBeCloseTo(0.95, 15);
    expect(Math.abs(lrs[8] - 0.04 / 1e4) / (0.04 / 1e4)).toBeLessThan(1e-11);
    // The (totalSteps + 1)-th value, as torch allows: pct 1.125 of the last phase, which linear annealing
    // takes below zero (torch's SGD then steps with it; ours refuses a negative lr at its next step).
    scheduler.step();
    expect(opt.paramGroups[0].lr).toBeLessThan(0);
    expect(() => scheduler.step()).toThrow(/^OneCycleLR\.step: tried to step 12 times; the cycle has totalSteps 10/);
  });

  test("OneCycleLR cycles Adam's beta1 and keeps beta2; an optimizer without momentum needs cycleMomentum false", () => {
    const adam = new Adam([new Parameter(zeros([1]))], { betas: [0.9, 0.99] });
    new OneCycleLR(adam, { maxLr: 0.01, totalSteps: 5 });
    expect(adam.paramGroups[0].betas).toEqual([0.95, 0.99]);
    const adagrad = new Adagrad([new Parameter(zeros([1]))]);
    expect(() => new OneCycleLR(adagrad, { maxLr: 0.01, totalSteps: 5 })).toThrow(
      /^OneCycleLR: cycleMomentum needs an optimizer with momentum \(SGD, RMSprop\) or betas \(Adam, AdamW\); Adagrad has neither\. Pass \{ cycleMomentum: false \}$/,
    );
    expect(new OneCycleLR(adagrad, { maxLr: 0.01, totalSteps: 5, cycleMomentum: false }).getLastLr()[0]).toBeCloseTo(0.0004, 15);
  });

  test('OneCycleLR: a phase of length 0 throws where torch divides by zero', () => {
    const opt = sgd([0.1], { momentum: 0.9 });
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, pctStart: 0.1 })).toThrow(
      /^OneCycleLR\.step: step 0 falls in a phase of length 0 \(pctStart 0\.1, totalSteps 10\)/,
    );
  });

  test('ReduceLROnPlateau: reduces after patience bad epochs, waits cooldown, respects minLr and eps', () => {
    const opt = sgd([1, 0.1]);
    const scheduler = new ReduceLROnPlateau(opt, { patience: 1, cooldown: 1, factor: 0.5, minLr: [0, 0.08] });
    expect(scheduler.getLastLr()).toEqual([1, 0.1]);
    expect(opt.paramGroups[0].initialLr).toBeUndefined();
    const metrics = [1, 1, 1, 1, 1, 1, 0.5, 0.5];
    const lrs = run(opt, scheduler, metrics.length, (k) => metrics[k]);
    expect(lrs).toEqual([1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
    expect(opt.paramGroups[1].lr).toBe(0.08);
    expect(scheduler.best).toBe(0.5);
    expect(scheduler.lastEpoch).toBe(8);
  });

  test('ReduceLROnPlateau: a metric that is not a finite number throws and changes nothing', () => {
    const opt = sgd([1]);
    const scheduler = new ReduceLROnPlateau(opt, { patience: 0 });
    scheduler.step(1);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, undefined, '0.5']) {
      expect(() => scheduler.step(bad as Loose)).toThrow(
        /^ReduceLROnPlateau\.step: metric must be a finite number \(the epoch's validation loss or accuracy\), got /,
      );
    }
    expect(scheduler.numBadEpochs).toBe(0);
    expect(scheduler.lastEpoch).toBe(1);
  });
});

const MAKERS: [string, (opt: AnyOptimizer) => LRScheduler, ((k: number) => number)?][] = [
  ['LambdaLR', (opt) => new LambdaLR(opt, (e) => 1 / (1 + e))],
  [
    'SequentialLR',
    (opt) =>
      new SequentialLR(opt, {
        schedulers: [new LinearLR(opt, { startFactor: 0.2, totalIters: 4 }), new ExponentialLR(opt, { gamma: 0.9 }), new StepLR(opt, { stepSize: 3 })],
        milestones: [5, 12],
      }),
  ],
  ['CosineAnnealingWarmRestarts', (opt) => new CosineAnnealingWarmRestarts(opt, { T0: 3, TMult: 2, etaMin: 0.001 })],
  ['CosineAnnealingWarmRestarts fractional', (opt) => new CosineAnnealingWarmRestarts(opt, { T0: 2, TMult: 3 }), (k) => k / 3],
  ['OneCycleLR', (opt) => new OneCycleLR(opt, { maxLr: 0.2, totalSteps: 30, threePhase: true })],
  ['ReduceLROnPlateau', (opt) => new ReduceLROnPlateau(opt, { patience: 1, cooldown: 1 }), (k) => (k % 5 === 0 ? 1 / (k + 1) : 1)],
];

describe.each(MAKERS)('%s state dict', (_name, make, input) => {
  test('save after 7 steps, load with the optimizer into fresh ones, continue = uninterrupted', () => {
    const straightOpt = sgd([0.1], { momentum: 0.9 });
    const straight = run(straightOpt, make(straightOpt), 30, input);

    const firstOpt = sgd([0.1], { momentum: 0.9 });
    const first = make(firstOpt);
    const before = run(firstOpt, first, 7, input);
    const optState = firstOpt.stateDict();
    const schedulerState = first.stateDict();
    expect(JSON.parse(JSON.stringify(schedulerState))).toEqual(schedulerState);

    const resumedOpt = sgd([0.5], { momentum: 0.5 });
    const resumed = make(resumedOpt);
    resumedOpt.loadStateDict(optState);
    resumed.loadStateDict(JSON.parse(JSON.stringify(schedulerState)));
    expect(resumed.lastEpoch).toBe(first.lastEpoch);
    expect(resumed.getLastLr()).toEqual(first.getLastLr());
    expect([...before, ...run(resumedOpt, resumed, 23, input && ((k) => input(k + 7)))]).toEqual(straight);
  });
});

describe('option checks name the option, the value and what was expected', () => {
  const opt = () => sgd([0.1], { momentum: 0.9 });
  const cases: [string, () => unknown, RegExp][] = [
    ['LambdaLR not a function', () => new LambdaLR(opt(), 0.5 as Loose), /^LambdaLR: lrLambda must be a function of the epoch or an array of them \(one per param group\), got 0\.5$/],
    ['LambdaLR wrong count', () => new LambdaLR(opt(), [(e) => e, (e) => e]), /^LambdaLR: expected 1 lrLambdas \(one per param group\), got an array of length 2$/],
    ['LambdaLR null entry', () => new LambdaLR(opt(), [null] as Loose), /^LambdaLR: lrLambda\[0\] must be a function of the epoch, got null$/],
    ['SequentialLR milestones count', () => { const o = opt(); return new SequentialLR(o, { schedulers: [new StepLR(o, { stepSize: 1 }), new StepLR(o, { stepSize: 2 })], milestones: [] }); }, /^SequentialLR: milestones must be an array of 1 epochs \(one fewer than the 2 schedulers\), got an array of length 0$/],
    ['SequentialLR milestones not increasing', () => { const o = opt(); return new SequentialLR(o, { schedulers: [new StepLR(o, { stepSize: 1 }), new StepLR(o, { stepSize: 2 }), new StepLR(o, { stepSize: 3 })], milestones: [4, 4] }); }, /^SequentialLR: milestones\[1\] must be an integer >= 5, got 4$/],
    ['SequentialLR milestone 0', () => { const o = opt(); return new SequentialLR(o, { schedulers: [new StepLR(o, { stepSize: 1 }), new StepLR(o, { stepSize: 2 })], milestones: [0] }); }, /^SequentialLR: milestones\[0\] must be an integer >= 1, got 0$/],
    ['SequentialLR other optimizer', () => new SequentialLR(opt(), { schedulers: [new StepLR(opt(), { stepSize: 1 })], milestones: [] }), /^SequentialLR: schedulers\[0\] belongs to another optimizer/],
    ['SequentialLR plateau', () => { const o = opt(); return new SequentialLR(o, { schedulers: [new ReduceLROnPlateau(o)], milestones: [] }); }, /^SequentialLR: schedulers\[0\] is a ReduceLROnPlateau, which SequentialLR cannot step/],
    ['SequentialLR no schedulers', () => new SequentialLR(opt(), { schedulers: [], milestones: [] }), /^SequentialLR: schedulers must be a non-empty array of schedulers, got an array of length 0$/],
    ['SequentialLR not a scheduler', () => new SequentialLR(opt(), { schedulers: [{}] as Loose, milestones: [] }), /^SequentialLR: schedulers\[0\] must be a scheduler/],
    ['SequentialLR unknown option', () => new SequentialLR(opt(), { schedulers: [], milestones: [], lastEpoch: 3 } as Loose), /^SequentialLR: unknown option 'lastEpoch'/],
    ['CosineAnnealingWarmRestarts T0 0', () => new CosineAnnealingWarmRestarts(opt(), { T0: 0 }), /^CosineAnnealingWarmRestarts: T0 must be an integer >= 1, got 0$/],
    ['CosineAnnealingWarmRestarts no T0', () => new CosineAnnealingWarmRestarts(opt(), {} as Loose), /^CosineAnnealingWarmRestarts: T0 must be an integer >= 1, got undefined$/],
    ['CosineAnnealingWarmRestarts TMult 1.5', () => new CosineAnnealingWarmRestarts(opt(), { T0: 2, TMult: 1.5 }), /^CosineAnnealingWarmRestarts: TMult must be an integer >= 1, got 1\.5$/],
    ['CosineAnnealingWarmRestarts etaMin null', () => new CosineAnnealingWarmRestarts(opt(), { T0: 2, etaMin: null as Loose }), /^CosineAnnealingWarmRestarts: etaMin must be a number >= 0, got null$/],
    ['CosineAnnealingWarmRestarts T_0', () => new CosineAnnealingWarmRestarts(opt(), { T_0: 2 } as Loose), /^CosineAnnealingWarmRestarts: unknown option 'T_0'/],
    ['CosineAnnealingWarmRestarts step(-1)', () => new CosineAnnealingWarmRestarts(opt(), { T0: 2 }).step(-1), /^CosineAnnealingWarmRestarts\.step: epoch must be a number >= 0, got -1$/],
    ['OneCycleLR no totalSteps', () => new OneCycleLR(opt(), { maxLr: 0.1 }), /^OneCycleLR: totalSteps is required, or epochs and stepsPerEpoch; got none of them$/],
    ['OneCycleLR both', () => new OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, epochs: 2 }), /^OneCycleLR: give either totalSteps or epochs and stepsPerEpoch, not both$/],
    ['OneCycleLR epochs only', () => new OneCycleLR(opt(), { maxLr: 0.1, epochs: 2 }), /^OneCycleLR: stepsPerEpoch must be an integer >= 1, got undefined$/],
    ['OneCycleLR totalSteps 0', () => new OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 0 }), /^OneCycleLR: totalSteps must be an integer >= 1, got 0$/],
    ['OneCycleLR maxLr null', () => new OneCycleLR(opt(), { maxLr: null as Loose, totalSteps: 10 }), /^OneCycleLR: maxLr must be a number >= 0, got null$/],
    ['OneCycleLR maxLr per group', () => new OneCycleLR(opt(), { maxLr: [0.1, 0.2], totalSteps: 10 }), /^OneCycleLR: expected 1 values for maxLr \(one per param group\), got an array of length 2$/],
    ['OneCycleLR pctStart 1.5', () => new OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }), /^OneCycleLR: pctStart must be a number in \[0, 1\], got 1\.5$/],
    ['OneCycleLR annealStrategy', () => new OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, annealStrategy: 'cosine' as Loose }), /^OneCycleLR: annealStrategy must be one of 'cos', 'linear', got 'cosine'$/],
    ['OneCycleLR divFactor 0', () => new OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, divFactor: 0 }), /^OneCycleLR: divFactor must be a number > 0, got 0$/],
    ['OneCycleLR threePhase', () => new OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, threePhase: 'yes' as Loose }), /^OneCycleLR: threePhase must be true or false, got 'yes'$/],
    ['OneCycleLR beta1 1', () => new OneCycleLR(new Adam([new Parameter(zeros([1]))]), { maxLr: 0.1, totalSteps: 10, maxMomentum: 1 }), /^OneCycleLR: a momentum of 1 would set betas\[0\], which must be in \[0, 1\)$/],
    ['OneCycleLR unknown option', () => new OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, max_lr: 1 } as Loose), /^OneCycleLR: unknown option 'max_lr'/],
    ['ReduceLROnPlateau mode', () => new ReduceLROnPlateau(opt(), { mode: 'minimum' as Loose }), /^ReduceLROnPlateau: mode must be one of 'min', 'max', got 'minimum'$/],
    ['ReduceLROnPlateau factor 1', () => new ReduceLROnPlateau(opt(), { factor: 1 }), /^ReduceLROnPlateau: factor must be a number in \[0, 1\), got 1$/],
    ['ReduceLROnPlateau patience 1.5', () => new ReduceLROnPlateau(opt(), { patience: 1.5 }), /^ReduceLROnPlateau: patience must be an integer >= 0, got 1\.5$/],
    ['ReduceLROnPlateau thresholdMode', () => new ReduceLROnPlateau(opt(), { thresholdMode: 'relative' as Loose }), /^ReduceLROnPlateau: thresholdMode must be one of 'rel', 'abs', got 'relative'$/],
    ['ReduceLROnPlateau minLr -1', () => new ReduceLROnPlateau(opt(), { minLr: -1 }), /^ReduceLROnPlateau: minLr must be a number >= 0, got -1$/],
    ['ReduceLROnPlateau minLr count', () => new ReduceLROnPlateau(opt(), { minLr: [0, 0] }), /^ReduceLROnPlateau: expected 1 minLr values \(one per param group\), got an array of length 2$/],
    ['ReduceLROnPlateau minLr[0] null', () => new ReduceLROnPlateau(opt(), { minLr: [null] as Loose }), /^ReduceLROnPlateau: minLr\[0\] must be a number >= 0, got null$/],
    ['ReduceLROnPlateau eps NaN', () => new ReduceLROnPlateau(opt(), { eps: Number.NaN }), /^ReduceLROnPlateau: eps must be a number >= 0, got NaN$/],
    ['ReduceLROnPlateau unknown option', () => new ReduceLROnPlateau(opt(), { min_lr: 0.1 } as Loose), /^ReduceLROnPlateau: unknown option 'min_lr'/],
  ];
  test.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(ValueError);
    expect(make).toThrow(message);
  });

  test('loadStateDict checks what it restores', () => {
    const o = opt();
    const plateau = new ReduceLROnPlateau(o);
    const dict = plateau.stateDict();
    expect(() => plateau.loadStateDict({ ...dict, numBadEpochs: -1 })).toThrow(/^ReduceLROnPlateau\.loadStateDict: numBadEpochs must be an integer >= 0, got -1$/);
    expect(() => plateau.loadStateDict({ ...dict, best: 'x' })).toThrow(/^ReduceLROnPlateau\.loadStateDict: best must be a finite number, got 'x'$/);
    const o2 = opt();
    const seq = new SequentialLR(o2, { schedulers: [new StepLR(o2, { stepSize: 2 })], milestones: [] });
    expect(() => seq.loadStateDict({ ...seq.stateDict(), schedulers: [] })).toThrow(/^SequentialLR\.loadStateDict: schedulers must be an array of 1 scheduler states, got an array of length 0$/);
  });
});
