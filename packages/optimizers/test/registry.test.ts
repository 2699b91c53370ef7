import { Parameter, zeros } from '@backprop/ndarray';
import { describe, expect, test } from 'vitest';
import * as api from '../src/index';
import { type AnyOptimizer, LRScheduler, OPTIMIZERS, Optimizer, type OptimizerClass, SCHEDULERS, type SchedulerClass } from '../src/index';

/** The package's exports by name (a test may enumerate them; a bundle never does). */
const exported: Record<string, unknown> = { ...api };

/** Every class the package exports that derives from `base` (the base itself aside). */
function exportedSubclasses(base: { prototype: object }): unknown[] {
  return Object.values(exported).filter(
    (value) => typeof value === 'function' && (value as { prototype: unknown }).prototype instanceof (base as unknown as new () => unknown),
  );
}

describe('OPTIMIZERS and SCHEDULERS: the one list of classes by torch name', () => {
  test('the keys are torch.optim names, each the class of that name', () => {
    expect(Object.keys(OPTIMIZERS)).toEqual(['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad']);
    expect(Object.keys(SCHEDULERS)).toEqual([
      'StepLR',
      'ExponentialLR',
      'CosineAnnealingLR',
      'MultiStepLR',
      'LinearLR',
      'LambdaLR',
      'SequentialLR',
      'CosineAnnealingWarmRestarts',
      'OneCycleLR',
      'ReduceLROnPlateau',
    ]);
    for (const [name, Class] of [...Object.entries(OPTIMIZERS), ...Object.entries(SCHEDULERS)]) {
      expect(Class.name).toBe(name);
      expect(exported[name]).toBe(Class);
    }
  });

  test('they list every optimizer and scheduler the package exports', () => {
    expect(new Set(exportedSubclasses(Optimizer))).toEqual(new Set(Object.values(OPTIMIZERS)));
    expect(new Set(exportedSubclasses(LRScheduler))).toEqual(new Set(Object.values(SCHEDULERS)));
  });

  test('a name picks a class that builds as the class itself does, errors naming it', () => {
    // What each scheduler takes beside the optimizer (LambdaLR a function, SequentialLR schedulers on it).
    const options: Record<string, (opt: AnyOptimizer) => unknown> = {
      StepLR: () => ({ stepSize: 2 }),
      ExponentialLR: () => ({ gamma: 0.5 }),
      CosineAnnealingLR: () => ({ tMax: 4 }),
      MultiStepLR: () => ({ milestones: [1, 3] }),
      LinearLR: () => ({}),
      LambdaLR: () => (epoch: number) => 0.5 ** epoch,
      SequentialLR: (opt) => ({ schedulers: [new SCHEDULERS.LinearLR(opt), new SCHEDULERS.StepLR(opt, { stepSize: 2 })], milestones: [3] }),
      CosineAnnealingWarmRestarts: () => ({ T0: 3 }),
      OneCycleLR: () => ({ maxLr: 0.1, totalSteps: 10, cycleMomentum: false }),
      ReduceLROnPlateau: () => ({}),
    };
    for (const [name, Class] of Object.entries(OPTIMIZERS)) {
      const Optim: OptimizerClass = Class;
      const opt = new Optim([new Parameter(zeros([2]), 'w')], { lr: 0.1 });
      expect(opt).toBeInstanceOf(Class);
      expect(() => new Optim([new Parameter(zeros([2]))], { lr: -1 })).toThrow(new RegExp(`^${name}: lr must be a number >= 0, got -1$`));
      for (const [schedulerName, S] of Object.entries(SCHEDULERS)) {
        const Scheduler: SchedulerClass = S;
        expect(new Scheduler(opt, options[schedulerName](opt))).toBeInstanceOf(S);
      }
    }
  });
});
