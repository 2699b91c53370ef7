/**
 * `null` is not a number: every numeric option given as `null` fails at once,
 * naming the class, the option and the null, in every optimizer and every
 * scheduler (a `null` learning rate used to become 0, so training did nothing).
 * The one `null` torch gives a meaning to here is OneCycleLR's
 * `total_steps=None` (and `epochs`, `steps_per_epoch`): not given.
 */
import { Parameter, ValueError, array } from '@backprop/ndarray';
import { describe, expect, test } from 'vitest';
import {
  type AnyOptimizer,
  LambdaLR,
  LinearLR,
  OPTIMIZERS,
  OneCycleLR,
  type OptimizerClass,
  type OptimizerName,
  SCHEDULERS,
  SGD,
  type SchedulerClass,
  type SchedulerName,
  SequentialLR,
  StepLR,
  clipGradNorm,
  clipGradValue,
} from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: deliberately wrong arguments
type Loose = any;

/** Each optimizer and scheduler class as code that picks one by name calls it. */
const Optimizers: Record<OptimizerName, OptimizerClass> = OPTIMIZERS;
const Schedulers: Record<SchedulerName, SchedulerClass> = SCHEDULERS;

function param(): Parameter {
  const p = new Parameter(array([1, 2], { dtype: 'float64' }), 'w');
  p.grad.data.set([0.5, -0.5]);
  return p;
}

/** Every option of every optimizer that holds a number (or numbers), with a valid value for the rest. */
const OPTIMIZER_OPTIONS: Record<OptimizerName, string[]> = {
  SGD: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'],
  Adam: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
  AdamW: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
  RMSprop: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'],
  Adagrad: ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'],
};

const optimizerCases = (Object.keys(OPTIMIZER_OPTIONS) as OptimizerName[]).flatMap((name) =>
  OPTIMIZER_OPTIONS[name].map((option) => [name, option] as const),
);

describe('optimizers: an option given as null fails at once', () => {
  test('the table lists every option of every optimizer', () => {
    for (const [name, Optim] of Object.entries(OPTIMIZERS)) {
      const opt = new Optim([param()], { lr: 0.1 });
      expect(Object.keys(opt.defaults).sort()).toEqual(OPTIMIZER_OPTIONS[name as OptimizerName].slice().sort());
    }
  });

  test.each(optimizerCases)('new %s(params, { %s: null })', (name, option) => {
    const options: Record<string, unknown> = { lr: 0.1, [option]: null };
    const build = () => new Optimizers[name]([param()], options);
    expect(build).toThrow(ValueError);
    expect(build).toThrow(new RegExp(`^${name}: ${option} must be .*, got null$`));
  });

  test.each(optimizerCases)('%s: a param group with { %s: null }', (name, option) => {
    const build = () => new Optimizers[name]([{ params: [param()], lr: 0.1, [option]: null }], { lr: 0.1 });
    expect(build).toThrow(ValueError);
    expect(build).toThrow(new RegExp(`^${name}: param group 0: ${option} must be .*, got null$`));
  });

  test.each(optimizerCases)('%s: addParamGroup({ %s: null })', (name, option) => {
    const opt = new Optimizers[name]([param()], { lr: 0.1 });
    expect(() => opt.addParamGroup({ params: [param()], [option]: null } as Loose)).toThrow(
      new RegExp(`^${name}: param group 1: ${option} must be .*, got null$`),
    );
    expect(opt.paramGroups).toHaveLength(1);
  });

  test.each(optimizerCases)('%s: paramGroups[0].%s set to null fails the next step, before anything moves', (name, option) => {
    const p = param();
    const opt = new Optimizers[name]([p], { lr: 0.1 });
    (opt.paramGroups[0] as Loose)[option] = null;
    expect(() => opt.step()).toThrow(new RegExp(`^${name}\\.step: (paramGroups\\[0\\]: )?.*${option}.* must be .*, got null$`));
    expect(Array.from(p.value.data)).toEqual([1, 2]);
  });

  test.each(Object.keys(OPTIMIZERS) as OptimizerName[])('%s: opt.lr = null throws and keeps the rate', (name) => {
    const opt = new Optimizers[name]([param()], { lr: 0.1 });
    expect(() => {
      opt.lr = null as Loose;
    }).toThrow(new RegExp(`^${name}\\.lr: lr must be a number >= 0, got null$`));
    expect(opt.lr).toBe(0.1);
  });

  test.each(optimizerCases)('%s.loadStateDict: a saved group with { %s: null }', (name, option) => {
    const opt = new Optimizers[name]([param()], { lr: 0.1 });
    const dict = opt.stateDict();
    (dict.paramGroups[0] as Loose)[option] = null;
    expect(() => opt.loadStateDict(dict)).toThrow(
      new RegExp(`^${name}\\.loadStateDict: paramGroups\\[0\\]: ${option} must be .*, got null$`),
    );
  });

  test.each(Object.keys(OPTIMIZERS) as OptimizerName[])('%s.loadStateDict: a saved group with { initialLr: null }', (name) => {
    const opt = new Optimizers[name]([param()], { lr: 0.1 });
    const dict = opt.stateDict();
    (dict.paramGroups[0] as Loose).initialLr = null;
    expect(() => opt.loadStateDict(dict)).toThrow(
      new RegExp(`^${name}\\.loadStateDict: paramGroups\\[0\\]: initialLr must be a number >= 0, got null$`),
    );
  });

  test('the issue: SGD and Adam with lr null no longer train with lr 0', () => {
    expect(() => new SGD([param()], { lr: null as Loose })).toThrow(/^SGD: lr must be a number >= 0, got null$/);
    expect(() => new Optimizers.Adam([param()], { lr: null as Loose })).toThrow(/^Adam: lr must be a number >= 0, got null$/);
  });
});

/** Each scheduler over a fresh SGD, from options that build it, and the options that hold numbers. */
const SCHEDULER_CASES: Record<
  Exclude<SchedulerName, 'LambdaLR' | 'SequentialLR'>,
  { options: Record<string, unknown>; nullable: string[] }
> = {
  StepLR: { options: { stepSize: 2, gamma: 0.5 }, nullable: ['stepSize', 'gamma'] },
  ExponentialLR: { options: { gamma: 0.9 }, nullable: ['gamma'] },
  CosineAnnealingLR: { options: { tMax: 10, etaMin: 0.001 }, nullable: ['tMax', 'etaMin'] },
  MultiStepLR: { options: { milestones: [2, 4], gamma: 0.5 }, nullable: ['milestones', 'gamma'] },
  LinearLR: { options: { startFactor: 0.5, endFactor: 1, totalIters: 4 }, nullable: ['startFactor', 'endFactor', 'totalIters'] },
  CosineAnnealingWarmRestarts: { options: { T0: 5, TMult: 2, etaMin: 0.001 }, nullable: ['T0', 'TMult', 'etaMin'] },
  OneCycleLR: {
    options: {
      maxLr: 0.1,
      totalSteps: 10,
      pctStart: 0.3,
      annealStrategy: 'cos',
      cycleMomentum: true,
      baseMomentum: 0.85,
      maxMomentum: 0.95,
      divFactor: 25,
      finalDivFactor: 1e4,
      threePhase: false,
    },
    nullable: [
      'maxLr',
      'pctStart',
      'annealStrategy',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
      'divFactor',
      'finalDivFactor',
      'threePhase',
    ],
  },
  ReduceLROnPlateau: {
    options: { mode: 'min', factor: 0.5, patience: 3, threshold: 1e-4, thresholdMode: 'rel', cooldown: 1, minLr: 0, eps: 1e-8 },
    nullable: ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'],
  },
};

function sgd(): SGD {
  return new SGD([param()], { lr: 0.1, momentum: 0.9 });
}

const schedulerCases = (Object.keys(SCHEDULER_CASES) as (keyof typeof SCHEDULER_CASES)[]).flatMap((name) =>
  SCHEDULER_CASES[name].nullable.map((option) => [name, option] as const),
);

describe('schedulers: an option given as null fails at once', () => {
  test.each(Object.keys(SCHEDULER_CASES) as (keyof typeof SCHEDULER_CASES)[])('%s builds from the valid options', (name) => {
    expect(() => new Schedulers[name](sgd(), SCHEDULER_CASES[name].options)).not.toThrow();
  });

  test.each(schedulerCases)('new %s(opt, { %s: null })', (name, option) => {
    const opt = sgd();
    const build = () => new Schedulers[name](opt, { ...SCHEDULER_CASES[name].options, [option]: null });
    expect(build).toThrow(ValueError);
    expect(build).toThrow(new RegExp(`^${name}: ${option}.*, got null$`));
    expect(opt.lr).toBe(0.1);
  });

  // Every entry of every scheduler's state dict, but ReduceLROnPlateau's `best`,
  // where null is torch's ±inf before the first metric.
  const stateCases = (Object.keys(SCHEDULER_CASES) as (keyof typeof SCHEDULER_CASES)[]).flatMap((name) =>
    Object.keys(new Schedulers[name](sgd(), SCHEDULER_CASES[name].options).stateDict())
      .filter((key) => !(name === 'ReduceLROnPlateau' && key === 'best'))
      .map((key) => [name, key] as const),
  );

  test.each(stateCases)('%s.loadStateDict with { %s: null }', (name, key) => {
    const opt = sgd();
    const scheduler = new Schedulers[name](opt, SCHEDULER_CASES[name].options);
    const before = scheduler.stateDict();
    const dict = scheduler.stateDict();
    dict[key] = null;
    expect(() => scheduler.loadStateDict(dict)).toThrow(new RegExp(`^${name}\\.loadStateDict: ${key}.*, got null$`));
    expect(scheduler.stateDict()).toEqual(before);
  });

  test('ReduceLROnPlateau.loadStateDict takes best: null (no metric yet)', () => {
    const scheduler = new SCHEDULERS.ReduceLROnPlateau(sgd(), {});
    scheduler.step(1);
    const dict = scheduler.stateDict();
    dict.best = null;
    scheduler.loadStateDict(dict);
    expect(scheduler.best).toBeNull();
  });

  test('LambdaLR: a null lrLambda, and a lrLambda that returns null', () => {
    expect(() => new LambdaLR(sgd(), null as Loose)).toThrow(/^LambdaLR: lrLambda must be a function .*, got null$/);
    expect(() => new LambdaLR(sgd(), (() => null) as Loose)).toThrow(
      /^LambdaLR: lrLambda\(0\) for param group 0 returned null; expected a finite number >= 0$/,
    );
  });

  test('SequentialLR: null schedulers or milestones', () => {
    const opt = sgd();
    const schedulers = [new LinearLR(opt, { startFactor: 0.5, totalIters: 2 }), new StepLR(opt, { stepSize: 2 })];
    expect(() => new SequentialLR(opt, { schedulers: null as Loose, milestones: [2] })).toThrow(
      /^SequentialLR: schedulers must be a non-empty array of schedulers, got null$/,
    );
    expect(() => new SequentialLR(opt, { schedulers, milestones: null as Loose })).toThrow(
      /^SequentialLR: milestones must be an array of 1 epochs .*, got null$/,
    );
  });

  test('step(null) and ReduceLROnPlateau.step(null) fail instead of counting as a step', () => {
    const opt = sgd();
    const scheduler = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    expect(() => scheduler.step(null as Loose)).toThrow(/^StepLR\.step: epoch must be an integer >= 0, got null$/);
    expect(scheduler.lastEpoch).toBe(0);
    const plateau = new SCHEDULERS.ReduceLROnPlateau(sgd(), {});
    expect(() => plateau.step(null as Loose)).toThrow(/^ReduceLROnPlateau\.step: metric must be a finite number .*, got null$/);
  });
});

describe("OneCycleLR: null means torch's None for totalSteps, epochs and stepsPerEpoch", () => {
  const rates = (opt: AnyOptimizer, scheduler: OneCycleLR, steps: number): number[] => {
    const out = [opt.lr];
    for (let i = 0; i < steps; i++) {
      scheduler.step();
      out.push(opt.lr);
    }
    return out;
  };

  test('totalSteps: null with epochs and stepsPerEpoch is the same cycle as without it', () => {
    const a = sgd();
    const b = sgd();
    const given = new OneCycleLR(a, { maxLr: 0.1, epochs: 2, stepsPerEpoch: 5 });
    const withNull = new OneCycleLR(b, { maxLr: 0.1, totalSteps: null, epochs: 2, stepsPerEpoch: 5 });
    expect(withNull.totalSteps).toBe(10);
    expect(rates(b, withNull, 10)).toEqual(rates(a, given, 10));
  });

  test('epochs: null and stepsPerEpoch: null beside totalSteps', () => {
    const scheduler = new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 7, epochs: null, stepsPerEpoch: null });
    expect(scheduler.totalSteps).toBe(7);
  });

  test('all three null: the error says what is needed', () => {
    expect(() => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: null })).toThrow(
      /^OneCycleLR: totalSteps is required, or epochs and stepsPerEpoch; got none of them$/,
    );
    expect(() => new OneCycleLR(sgd(), { maxLr: 0.1, epochs: 2, stepsPerEpoch: null })).toThrow(
      /^OneCycleLR: stepsPerEpoch must be an integer >= 1, got null$/,
    );
  });
});

describe('gradient clipping: null is not a number either', () => {
  test.each([
    ['clipGradNorm maxNorm', () => clipGradNorm([param()], null as Loose), /^clipGradNorm: maxNorm must be a number >= 0, got null$/],
    ['clipGradNorm normType', () => clipGradNorm([param()], 1, { normType: null as Loose }), /^clipGradNorm: normType must be .*, got null$/],
    ['clipGradNorm errorIfNonfinite', () => clipGradNorm([param()], 1, { errorIfNonfinite: null as Loose }), /^clipGradNorm: errorIfNonfinite must be true or false, got null$/],
    ['clipGradValue clipValue', () => clipGradValue([param()], null as Loose), /^clipGradValue: clipValue must be a number >= 0, got null$/],
  ] as const)('%s', (_name, call, message) => {
    expect(call).toThrow(message);
  });
});
