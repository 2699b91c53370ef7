import { inspect } from 'node:util';
import { readFixture } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import {
  AvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  Identity,
  LeakyReLU,
  Linear,
  MaxPool2d,
  type NeuralLayer,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
} from '../src/index';

/** What `print(module)` gave in torch 1.13 for each model (tools/torch-fixtures/layers.py, `repr_fixture`). */
const torch = readFixture<Record<string, string>>(new URL('./fixtures/repr.json', import.meta.url));

/** The same models, built here under the fixture's names. */
const MODELS: Record<string, () => NeuralLayer> = {
  'Linear(784, 128)': () => new Linear(784, 128),
  'Linear(10, 2, bias=False)': () => new Linear(10, 2, { bias: false }),
  'ReLU()': () => new ReLU(),
  'Tanh()': () => new Tanh(),
  'Sigmoid()': () => new Sigmoid(),
  'Identity()': () => new Identity(),
  'LeakyReLU()': () => new LeakyReLU(),
  'LeakyReLU(0.2)': () => new LeakyReLU(0.2),
  'Conv2d(1, 8, 3, padding=1)': () => new Conv2d(1, 8, 3, { padding: 1 }),
  'Conv2d(3, 4, (2, 3), stride=2, dilation=(1, 2), bias=False)': () =>
    new Conv2d(3, 4, [2, 3], { stride: 2, dilation: [1, 2], bias: false }),
  'MaxPool2d(2)': () => new MaxPool2d(2),
  'MaxPool2d(3, stride=2, padding=1, ceil_mode=True)': () => new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
  'MaxPool2d((2, 3))': () => new MaxPool2d([2, 3]),
  'AvgPool2d(2)': () => new AvgPool2d(2),
  'AvgPool2d(3, stride=2, padding=1)': () => new AvgPool2d(3, { stride: 2, padding: 1 }),
  'Dropout(0.2)': () => new Dropout(0.2),
  'Dropout()': () => new Dropout(),
  'Flatten()': () => new Flatten(),
  'Flatten(0, 2)': () => new Flatten(0, 2),
  mlp: () => new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3)),
  nested: () => new Sequential(new Linear(4, 8), new Sequential(new ReLU(), new Linear(8, 3)), new Sequential()),
  cnn: () =>
    new Sequential(
      new Conv2d(1, 4, 3, { padding: 1 }),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(4, 4, 3, { padding: 1 }),
      new ReLU(),
      new AvgPool2d(2),
      new Flatten(),
      new Dropout(0.3),
      new Linear(16, 3),
    ),
};

describe('a model prints as torch prints it', () => {
  it('covers every model of the fixture', () => {
    expect(Object.keys(MODELS).sort()).toEqual(Object.keys(torch).filter((k) => k !== 'meta').sort());
  });

  for (const [name, build] of Object.entries(MODELS)) {
    it(`${name}: String() and console.log() read as print() in torch`, () => {
      const model = build();
      expect(String(model)).toBe(torch[name]);
      expect(inspect(model)).toBe(torch[name]);
      expect(`${model}`).not.toMatch(/_[A-Z]/); // never a bundler's renamed class (_Sequential)
    });
  }

  it('floats print as Python writes them, exponents below 1e-4 included', () => {
    expect(String(new LeakyReLU(1e-5))).toBe('LeakyReLU(negative_slope=1e-05)');
    expect(String(new Dropout(0.0001))).toBe('Dropout(p=0.0001, inplace=False)');
  });

  it("a user's own layer prints with its class name and its children", () => {
    class Block extends Sequential {}
    class Head extends Linear {}
    const model = new Block(new Head(2, 1), new ReLU());
    expect(String(model)).toBe('Block(\n  (0): Head(in_features=2, out_features=1, bias=True)\n  (1): ReLU()\n)');
  });
});
