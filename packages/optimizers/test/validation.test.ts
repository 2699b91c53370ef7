import { DTypeError, NDArray, Parameter, ShapeError, ValueError, array, zeros } from '@backprop/ndarray';
import { describe, expect, test } from 'vitest';
import {
  Adam,
  type AnyOptimizer,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  OPTIMIZERS,
  type OptimizerClass,
  type OptimizerName,
  SGD,
  StepLR,
} from '../src/index';

function param(values: number[], name = 'w'): Parameter {
  return new Parameter(array(values, { dtype: 'float64' }), name);
}

// biome-ignore lint/suspicious/noExplicitAny: deliberately wrong arguments
type Loose = any;
/** Every optimizer, by name, built over one parameter with the options given. */
const make = Object.fromEntries(
  Object.entries(OPTIMIZERS).map(([name, Optim]: [string, OptimizerClass]) => [name, (o: Loose) => new Optim([param([1])], o)]),
) as Record<OptimizerName, (options: Loose) => AnyOptimizer>;

describe('option values: each names the option, the value and the range', () => {
  const cases: [keyof typeof make, Record<string, unknown>, RegExp][] = [
    ['SGD', { lr: -0.1 }, /^SGD: lr must be a number >= 0, got -0\.1$/],
    ['SGD', { lr: Number.NaN }, /^SGD: lr must be a number >= 0, got NaN$/],
    ['SGD', { lr: '0.1' }, /^SGD: lr must be a number >= 0, got '0\.1'$/],
    ['SGD', { lr: 0.1, momentum: -0.5 }, /^SGD: momentum must be a number >= 0, got -0\.5$/],
    ['SGD', { lr: 0.1, dampening: Number.POSITIVE_INFINITY }, /^SGD: dampening must be a finite number, got Infinity$/],
    ['SGD', { lr: 0.1, weightDecay: -1 }, /^SGD: weightDecay must be a number >= 0, got -1$/],
    ['SGD', { lr: 0.1, nesterov: 'yes' }, /^SGD: nesterov must be true or false, got 'yes'$/],
    ['SGD', { lr: 0.1, maximize: 1 }, /^SGD: maximize must be true or false, got 1$/],
    ['SGD', { lr: 0.1, nesterov: true }, /^SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum 0 and dampening 0$/],
    ['SGD', { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }, /requires momentum > 0 and dampening = 0, got momentum 0\.9 and dampening 0\.1/],
    ['Adam', { lr: -1 }, /^Adam: lr must be a number >= 0, got -1$/],
    ['Adam', { betas: [1, 0.999] }, /^Adam: betas\[0\] must be a number in \[0, 1\), got 1$/],
    ['Adam', { betas: [0.9, -0.1] }, /^Adam: betas\[1\] must be a number in \[0, 1\), got -0\.1$/],
    ['Adam', { betas: [0.9] }, /^Adam: betas must be a pair \[beta1, beta2\] of numbers in \[0, 1\), got an array of length 1$/],
    ['Adam', { betas: 0.9 }, /^Adam: betas must be a pair/],
    ['Adam', { eps: -1e-8 }, /^Adam: eps must be a number >= 0, got -1e-8$/],
    ['Adam', { weightDecay: -0.1 }, /^Adam: weightDecay must be a number >= 0, got -0\.1$/],
    ['Adam', { amsgrad: 'true' }, /^Adam: amsgrad must be true or false, got 'true'$/],
    ['Adam', { maximize: null }, /^Adam: maximize must be true or false, got null$/],
    ['AdamW', { betas: [0.9, 1] }, /^AdamW: betas\[1\] must be a number in \[0, 1\), got 1$/],
    ['AdamW', { weightDecay: -0.01 }, /^AdamW: weightDecay must be a number >= 0, got -0\.01$/],
    ['AdamW', { eps: Number.NaN }, /^AdamW: eps must be a number >= 0, got NaN$/],
    ['AdamW', { lr: -1 }, /^AdamW: lr must be/],
    ['AdamW', { amsgrad: 0 }, /^AdamW: amsgrad must be true or false/],
    ['RMSprop', { lr: -1 }, /^RMSprop: lr must be a number >= 0, got -1$/],
    ['RMSprop', { alpha: -0.1 }, /^RMSprop: alpha must be a number >= 0, got -0\.1$/],
    ['RMSprop', { eps: -1 }, /^RMSprop: eps must be a number >= 0, got -1$/],
    ['RMSprop', { momentum: -0.9 }, /^RMSprop: momentum must be a number >= 0, got -0\.9$/],
    ['RMSprop', { weightDecay: -1 }, /^RMSprop: weightDecay must be a number >= 0, got -1$/],
    ['RMSprop', { centered: 1 }, /^RMSprop: centered must be true or false, got 1$/],
    ['RMSprop', { maximize: 'no' }, /^RMSprop: maximize must be true or false/],
    ['Adagrad', { lr: -1 }, /^Adagrad: lr must be a number >= 0, got -1$/],
    ['Adagrad', { lrDecay: -0.1 }, /^Adagrad: lrDecay must be a number >= 0, got -0\.1$/],
    ['Adagrad', { weightDecay: -1 }, /^Adagrad: weightDecay must be a number >= 0, got -1$/],
    ['Adagrad', { initialAccumulatorValue: -1 }, /^Adagrad: initialAccumulatorValue must be a number >= 0, got -1$/],
    ['Adagrad', { eps: -1 }, /^Adagrad: eps must be a number >= 0, got -1$/],
    ['Adagrad', { maximize: 'yes' }, /^Adagrad: maximize must be true or false/],
  ];
  test.each(cases)('%s %o', (name, options, message) => {
    expect(() => make[name](options)).toThrow(ValueError);
    expect(() => make[name](options)).toThrow(message);
  });

  test.each(Object.keys(make) as (keyof typeof make)[])('%s rejects an unknown option, listing the known ones', (name) => {
    expect(() => make[name]({ lr: 0.1, momentun: 0.9 })).toThrow(new RegExp(`^${name}: unknown option 'momentun'; expected one of 'lr'`));
  });

  test('options must be an object', () => {
    expect(() => new Adam([param([1])], 0.1 as Loose)).toThrow(/^Adam: options must be an object, got 0\.1$/);
  });

  test('SGD requires lr, as torch', () => {
    expect(() => new SGD([param([1])], {} as Loose)).toThrow(
      /^SGD: param group 0 has no lr and SGD has no default learning rate \(torch\.optim\.SGD requires lr\); pass e\.g\. \{ lr: 0\.01 \}$/,
    );
    expect(() => new SGD([param([1])] as Loose)).toThrow(/has no lr/);
  });

  test('group options are checked as the defaults are', () => {
    expect(() => new Adam([{ params: [param([1])], betas: [0.9, 2] as Loose }])).toThrow(
      /^Adam: param group 0: betas\[1\] must be a number in \[0, 1\), got 2$/,
    );
    expect(() => new SGD([{ params: [param([1])], momentun: 0.9 } as Loose], { lr: 0.1 })).toThrow(
      /^SGD: param group 0: unknown option 'momentun'/,
    );
  });
});

describe('parameters', () => {
  test('an empty list is an error, as in torch', () => {
    expect(() => new Adam([])).toThrow(/^Adam: optimizer got an empty parameter list$/);
  });

  test('a single Parameter must be wrapped in an array', () => {
    expect(() => new Adam(param([1]) as Loose)).toThrow(
      /^Adam: params must be an iterable of Parameters or of param groups, got a Parameter; wrap it in an array$/,
    );
  });

  test('something that is not iterable', () => {
    expect(() => new Adam(5 as Loose)).toThrow(/^Adam: params must be an iterable of Parameters or of param groups, got 5$/);
  });

  test('an element that is not a Parameter', () => {
    expect(() => new Adam([param([1]), zeros([2])] as Loose)).toThrow(
      /^Adam: param group 0: params\[1\] must be a Parameter, got an NDArray of shape \[2\] \(float32\)$/,
    );
    expect(() => new Adam([3] as Loose)).toThrow(/^Adam: param group 0 must be a Parameter or an object \{ params, \.\.\.options \}, got 3$/);
  });

  test('Parameters and param groups mixed in one list', () => {
    expect(() => new Adam([{ params: [param([1])] }, param([2])] as Loose)).toThrow(
      /^Adam: params\[1\] is a Parameter but params\[0\] is a param group; give all Parameters or all groups$/,
    );
  });

  test('a parameter given twice, in one group or across groups', () => {
    const p = param([1], 'bias');
    expect(() => new Adam([p, p])).toThrow(/^Adam: param group 0: params\[1\] \('bias'\) appears more than once/);
    expect(() => new Adam([{ params: [p] }, { params: [param([2]), p] }])).toThrow(
      /^Adam: param group 1: params\[1\] \('bias'\) appears more than once/,
    );
  });

  test('a group with no parameters', () => {
    expect(() => new Adam([{ params: [] }])).toThrow(/^Adam: param group 0 has an empty parameter list$/);
  });
});

describe('gradients at step()', () => {
  test('a grad whose shape differs from its value', () => {
    const p = param([1, 2], 'weight');
    (p as Loose).grad = zeros([3], { dtype: 'float64' });
    const opt = new SGD([p], { lr: 0.1 });
    expect(() => opt.step()).toThrow(ShapeError);
    expect(() => opt.step()).toThrow(
      /^SGD\.step: parameter 0 \('weight'\) has shape \[2\] but its grad has shape \[3\]; expected the same shape$/,
    );
  });

  test('a grad of another dtype', () => {
    const p = param([1, 2], 'weight');
    (p as Loose).grad = zeros([2], { dtype: 'float32' });
    expect(() => new Adam([p]).step()).toThrow(DTypeError);
    expect(() => new Adam([p]).step()).toThrow(
      /^Adam\.step: the grad of parameter 0 \('weight'\) is float32 but the parameter is float64; expected the same dtype$/,
    );
  });

  test('a grad that is not an NDArray', () => {
    const p = param([1]);
    (p as Loose).grad = [1];
    expect(() => new Adam([p]).step()).toThrow(/^Adam\.step: the grad of parameter 0 \('w'\) must be an NDArray, got an array of length 1$/);
  });

  test('a NaN or infinite gradient throws before any parameter changes, naming the step and the parameter', () => {
    const a = param([1, 2], '0.weight');
    const b = param([3, 4], '2.weight');
    const opt = new Adam([a, b], { lr: 0.1 });
    opt.step(); // step 1 with zero gradients
    const after = [Array.from(a.value.data), Array.from(b.value.data)];
    a.grad.data.set([1, 1]);
    b.grad.data.set([1, Number.NaN]);
    expect(() => opt.step()).toThrow(
      /^Adam\.step: step 2: the grad of '2\.weight' \(parameter 1\) holds NaN at index \[1\] \(shape \[2\]\); no parameter was updated\./,
    );
    expect([Array.from(a.value.data), Array.from(b.value.data)]).toEqual(after);
    expect(opt.stepCount).toBe(1);
    b.grad.data.set([Number.POSITIVE_INFINITY, 0]);
    expect(() => opt.step()).toThrow(/step 2: the grad of '2\.weight' \(parameter 1\) holds Infinity at index \[0\]/);
  });

  test('options changed in place between steps are checked again before the next step', () => {
    const a = param([1, 2], 'w');
    const adam = new Adam([a], { lr: 0.1 });
    a.grad.data.set([1, 1]);
    adam.paramGroups[0].betas = [1, 0.999];
    expect(() => adam.step()).toThrow(/^Adam\.step: paramGroups\[0\]: betas\[0\] must be/);
    expect(Array.from(a.value.data)).toEqual([1, 2]);
    const sgd = new SGD([a], { lr: 0.1 });
    sgd.paramGroups[0].weightDecay = Number.NaN;
    expect(() => sgd.step()).toThrow(/^SGD\.step: paramGroups\[0\]: weightDecay must be/);
    expect(Array.from(a.value.data)).toEqual([1, 2]);
  });

  test("nonFinite: 'skip' skips the whole step, as a loss scaler does", () => {
    const a = param([1, 2], '0.weight');
    const b = param([3, 4], '0.bias');
    const opt = new SGD([a, b], { lr: 0.5, momentum: 0.9, nonFinite: 'skip' });
    a.grad.data.set([1, 1]);
    b.grad.data.set([Number.NEGATIVE_INFINITY, 1]);
    opt.step();
    expect(Array.from(a.value.data)).toEqual([1, 2]);
    expect(Array.from(b.value.data)).toEqual([3, 4]);
    expect(opt.skippedSteps).toBe(1);
    expect(opt.stepCount).toBe(0);
    expect(opt.state.size).toBe(0); // no momentum buffer was started from the bad step
    b.grad.data.set([1, 1]);
    opt.step();
    expect(Array.from(a.value.data)).toEqual([0.5, 1.5]);
    expect(opt.stepCount).toBe(1);
    expect(() => new SGD([param([1])], { lr: 0.1, nonFinite: 'ignore' as never })).toThrow(
      "SGD: nonFinite must be one of 'error', 'skip', got 'ignore'",
    );
  });

  test('a closure that is not a function', () => {
    expect(() => new Adam([param([1])]).step(5 as Loose)).toThrow(/^Adam\.step: closure must be a function, got 5$/);
  });

  test('setting lr to a bad value', () => {
    const opt = new Adam([param([1])]);
    expect(() => {
      opt.lr = -0.1;
    }).toThrow(/^Adam\.lr: lr must be a number >= 0, got -0\.1$/);
    expect(opt.lr).toBe(1e-3);
  });
});

describe('loadStateDict', () => {
  function trained(): { opt: Adam; params: Parameter[] } {
    const params = [param([1, 2], 'weight'), param([3], 'bias')];
    const opt = new Adam(params, { amsgrad: true });
    for (const p of params) p.grad.data.fill(0.5);
    opt.step();
    return { opt, params };
  }

  test('rejects what is not a state dict', () => {
    const { opt } = trained();
    expect(() => opt.loadStateDict(5 as Loose)).toThrow(/^Adam\.loadStateDict: expected an object \{ state, paramGroups, stepCount \}/);
  });

  test('a different number of param groups', () => {
    const { opt } = trained();
    const dict = opt.stateDict();
    dict.paramGroups.push({ ...dict.paramGroups[0], params: [2] });
    expect(() => opt.loadStateDict(dict)).toThrow(/^Adam\.loadStateDict: the state dict has 2 param groups but this optimizer has 1$/);
  });

  test('a different number of parameters in a group', () => {
    const { opt } = trained();
    const other = new Adam([param([1, 2])], { amsgrad: true });
    expect(() => other.loadStateDict(opt.stateDict())).toThrow(
      /^Adam\.loadStateDict: paramGroups\[0\] has 2 parameters but this optimizer's group 0 has 1$/,
    );
  });

  test('a buffer whose shape differs from its parameter', () => {
    const { opt } = trained();
    const other = new Adam([param([1, 2, 3], 'weight'), param([3], 'bias')], { amsgrad: true });
    expect(() => other.loadStateDict(opt.stateDict())).toThrow(ShapeError);
    expect(() => other.loadStateDict(opt.stateDict())).toThrow(
      /^Adam\.loadStateDict: state\[0\] \(parameter 'weight', shape \[3\]\): expAvg has shape \[2\]; expected the parameter's shape \[3\]$/,
    );
  });

  test('an unknown entry, a missing entry, a bad counter, a buffer that is not an NDArray', () => {
    const { opt } = trained();
    const unknown = opt.stateDict();
    unknown.state[1].momentumBuffer = zeros([1], { dtype: 'float64' });
    expect(() => opt.loadStateDict(unknown)).toThrow(
      /^Adam\.loadStateDict: state\[1\] \(parameter 'bias', shape \[1\]\): unknown state entry 'momentumBuffer'; Adam keeps 'step', 'expAvg', 'expAvgSq', 'maxExpAvgSq'$/,
    );
    const missing = opt.stateDict();
    delete missing.state[1].maxExpAvgSq;
    expect(() => opt.loadStateDict(missing)).toThrow(/state\[1\] \(parameter 'bias', shape \[1\]\): the entry 'maxExpAvgSq' is missing$/);
    const counter = opt.stateDict();
    counter.state[0].step = 1.5;
    expect(() => opt.loadStateDict(counter)).toThrow(/state\[0\] \(parameter 'weight', shape \[2\]\): step must be an integer >= 0, got 1\.5$/);
    const notArray = opt.stateDict();
    notArray.state[0].expAvg = 3;
    expect(() => opt.loadStateDict(notArray)).toThrow(/state\[0\] \(parameter 'weight', shape \[2\]\): expAvg must be an NDArray, got 3$/);
  });

  test('a state entry for a parameter the groups do not list', () => {
    const { opt } = trained();
    const dict = opt.stateDict();
    dict.state[7] = dict.state[0];
    expect(() => opt.loadStateDict(dict)).toThrow(
      /^Adam\.loadStateDict: state has an entry for parameter 7 but the param groups list no parameter with that number$/,
    );
  });

  test("another optimizer's state dict: its options are unknown here", () => {
    const { opt } = trained();
    const sgd = new SGD([param([1, 2]), param([3])], { lr: 0.1 });
    expect(() => sgd.loadStateDict(opt.stateDict() as Loose)).toThrow(/^SGD\.loadStateDict: paramGroups\[0\]: unknown option 'betas'/);
  });

  test('a bad option value in a saved group', () => {
    const { opt } = trained();
    const dict = opt.stateDict();
    dict.paramGroups[0].lr = -1;
    expect(() => opt.loadStateDict(dict)).toThrow(/^Adam\.loadStateDict: paramGroups\[0\]: lr must be a number >= 0, got -1$/);
  });

  test('a failed load changes nothing', () => {
    const { opt, params } = trained();
    const before = opt.stateDict();
    const dict = opt.stateDict();
    dict.paramGroups[0].lr = 0.5;
    (dict.state[0].expAvg as NDArray).data.fill(9);
    delete dict.state[1].expAvg;
    expect(() => opt.loadStateDict(dict)).toThrow(/missing/);
    expect(opt.stateDict()).toEqual(before);
    expect(opt.state.get(params[0])!.expAvg.data[0]).not.toBe(9);
  });
});

describe('scheduler options', () => {
  const opt = (): AnyOptimizer => new SGD([param([1])], { lr: 0.1 });
  const cases: [string, () => unknown, RegExp][] = [
    ['not an optimizer', () => new StepLR({} as Loose, { stepSize: 1 }), /^StepLR: optimizer must be an Optimizer \(SGD, Adam, \.\.\.\), got an object with keys \[\]$/],
    ['StepLR stepSize 0', () => new StepLR(opt(), { stepSize: 0 }), /^StepLR: stepSize must be an integer >= 1, got 0$/],
    ['StepLR stepSize 1.5', () => new StepLR(opt(), { stepSize: 1.5 }), /^StepLR: stepSize must be an integer >= 1, got 1\.5$/],
    ['StepLR without stepSize', () => new StepLR(opt(), {} as Loose), /^StepLR: stepSize must be an integer >= 1, got undefined$/],
    ['StepLR gamma -1', () => new StepLR(opt(), { stepSize: 1, gamma: -1 }), /^StepLR: gamma must be a number >= 0, got -1$/],
    ['StepLR unknown option', () => new StepLR(opt(), { stepSize: 1, step_size: 2 } as Loose), /^StepLR: unknown option 'step_size'; expected one of 'stepSize', 'gamma'$/],
    ['ExponentialLR without gamma', () => new ExponentialLR(opt(), {} as Loose), /^ExponentialLR: gamma must be a number >= 0, got undefined$/],
    ['ExponentialLR gamma NaN', () => new ExponentialLR(opt(), { gamma: Number.NaN }), /^ExponentialLR: gamma must be a number >= 0, got NaN$/],
    ['CosineAnnealingLR tMax 0', () => new CosineAnnealingLR(opt(), { tMax: 0 }), /^CosineAnnealingLR: tMax must be an integer >= 1, got 0$/],
    ['CosineAnnealingLR etaMin -1', () => new CosineAnnealingLR(opt(), { tMax: 5, etaMin: -1 }), /^CosineAnnealingLR: etaMin must be a number >= 0, got -1$/],
    ['CosineAnnealingLR T_max', () => new CosineAnnealingLR(opt(), { T_max: 5 } as Loose), /^CosineAnnealingLR: unknown option 'T_max'/],
    ['MultiStepLR milestones 5', () => new MultiStepLR(opt(), { milestones: 5 } as Loose), /^MultiStepLR: milestones must be an array of epochs \(integers >= 0\), got 5$/],
    ['MultiStepLR milestone 2.5', () => new MultiStepLR(opt(), { milestones: [1, 2.5] }), /^MultiStepLR: milestones\[1\] must be an integer >= 0, got 2\.5$/],
    ['LinearLR startFactor 0', () => new LinearLR(opt(), { startFactor: 0 }), /^LinearLR: startFactor must be a number in \(0, 1\], got 0$/],
    ['LinearLR endFactor 1.5', () => new LinearLR(opt(), { endFactor: 1.5 }), /^LinearLR: endFactor must be a number in \[0, 1\], got 1\.5$/],
    ['LinearLR totalIters -1', () => new LinearLR(opt(), { totalIters: -1 }), /^LinearLR: totalIters must be an integer >= 0, got -1$/],
  ];
  test.each(cases)('%s', (_name, build, message) => {
    expect(build).toThrow(ValueError);
    expect(build).toThrow(message);
  });

  test('loadStateDict checks the saved values and the number of groups', () => {
    const scheduler = new StepLR(opt(), { stepSize: 2 });
    const dict = scheduler.stateDict();
    expect(() => scheduler.loadStateDict({ ...dict, baseLrs: [0.1, 0.2] })).toThrow(
      /^StepLR\.loadStateDict: baseLrs must be an array of 1 learning rates \(one per param group\), got an array of length 2$/,
    );
    expect(() => scheduler.loadStateDict({ ...dict, lastEpoch: -2 })).toThrow(/^StepLR\.loadStateDict: lastEpoch must be an integer >= -1, got -2$/);
    expect(() => scheduler.loadStateDict({ ...dict, tMax: 3 })).toThrow(/^StepLR\.loadStateDict: unknown option 'tMax'/);
    expect(() => scheduler.loadStateDict({ ...dict, stepSize: 0 })).toThrow(/^StepLR\.loadStateDict: stepSize must be an integer >= 1, got 0$/);
    expect(() => scheduler.loadStateDict(null as Loose)).toThrow(/^StepLR\.loadStateDict: expected an object/);
    expect(scheduler.stateDict()).toEqual(dict);
  });
});

test('NDArray and Parameter come from @backprop/ndarray', () => {
  expect(new Parameter(zeros([1])).value).toBeInstanceOf(NDArray);
});
