import { type DType, type NDArray, array } from '@backprop/ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  HuberLoss,
  L1Loss,
  type Loss,
  MSELoss,
  NLLLoss,
  SmoothL1Loss,
} from '../src/index';
import { type FixtureCase, expectArrayClose, expectNumberClose, fromFixture, loadCases } from './helpers';

type Factory = (options: Record<string, unknown>) => Loss;

const suites: [string, Factory][] = [
  ['mse', (o) => new MSELoss(o)],
  ['l1', (o) => new L1Loss(o)],
  ['smooth-l1', (o) => new SmoothL1Loss(o)],
  ['huber', (o) => new HuberLoss(o)],
  ['bce', (o) => new BCELoss(o)],
  ['bce-with-logits', (o) => new BCEWithLogitsLoss(o)],
  ['cross-entropy', (o) => new CrossEntropyLoss(o)],
  ['nll', (o) => new NLLLoss(o)],
];

const worst: Record<DType, { error: number; where: string }> = {
  float64: { error: 0, where: '' },
  float32: { error: 0, where: '' },
};

function record(dtype: DType, error: number, where: string): void {
  if (error > worst[dtype].error) worst[dtype] = { error, where };
}

/** Every form a class-index target may take, to check they all agree. */
function targetForms(t: FixtureCase['target']): [string, unknown][] {
  const asArray = array(t.data, { shape: t.shape, dtype: 'float64' });
  if (t.shape.length === 0) return [['number', t.data[0]], ['0-d NDArray', asArray]];
  const forms: [string, unknown][] = [['NDArray', asArray]];
  if (t.shape.length === 1) {
    forms.push(['number[]', t.data.slice()], ['Int32Array', Int32Array.from(t.data)]);
    forms.push(['BigInt64Array', BigInt64Array.from(t.data.map((v) => BigInt(v)))]);
  }
  return forms;
}

function build(factory: Factory, c: FixtureCase): Loss {
  const options: Record<string, unknown> = { ...c.options };
  if (c.weight) options.weight = fromFixture(c.weight);
  if (c.posWeight) options.posWeight = fromFixture(c.posWeight);
  return factory(options);
}

describe.each(suites)('%s against PyTorch', (file, factory) => {
  const cases = loadCases(file);
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const prediction = fromFixture(c.prediction);
    const dtype = prediction.dtype;
    const expectedGrad = fromFixture(c.grad);
    const forms: [string, unknown][] =
      c.target.dtype === 'int64' ? targetForms(c.target) : [['NDArray', fromFixture(c.target)]];
    for (const [form, target] of forms) {
      const loss = build(factory, c);
      const label = `${file} ${c.name} (${form} target)`;
      const value = loss.forward(prediction, target as NDArray);
      record(dtype, expectNumberClose(value, c.loss, dtype, `${label} loss`), `${label} loss`);
      const grad = loss.backward();
      record(dtype, expectArrayClose(grad, expectedGrad, `${label} grad`), `${label} grad`);
    }
  });
});

afterAll(() => {
  // The worst errors seen, for the report; the assertions above enforce the bounds.
  console.log(
    `worst relative error vs PyTorch: float64 ${worst.float64.error} (${worst.float64.where}); ` +
      `float32 ${worst.float32.error} (${worst.float32.where})`,
  );
  expect(worst.float64.error).toBeLessThan(1e-10);
});
