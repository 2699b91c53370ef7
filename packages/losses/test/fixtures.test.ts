import { NDArray, array } from '@backprop/ndarray';
import { type FixtureTensor, TOLERANCE, assertClose, assertNumberClose, fromFixture, worstSeen } from '@backprop/ndarray/test';
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
  type Reduction,
  SmoothL1Loss,
} from '../src/index';
import { type FixtureCase, loadCases } from './helpers';

type Factory = (options: Record<string, unknown>) => Loss<Reduction>;

const suites: [string, Factory][] = [
  ['mse', (o) => new MSELoss(o)],
  ['l1', (o) => new L1Loss(o)],
  ['smooth-l1', (o) => new SmoothL1Loss(o)],
  ['huber', (o) => new HuberLoss(o)],
  ['bce', (o) => new BCELoss(o)],
  ['bce-with-logits', (o) => new BCEWithLogitsLoss(o)],
  ['cross-entropy', (o) => new CrossEntropyLoss(o)],
  ['cross-entropy-nd', (o) => new CrossEntropyLoss(o)],
  ['nll', (o) => new NLLLoss(o)],
];

/** The worst relative error of a loss value per dtype (assertClose keeps the gradients' in worstSeen). */
const worstLoss: Record<'float32' | 'float64', { error: number; label: string }> = {
  float64: { error: 0, label: '' },
  float32: { error: 0, label: '' },
};

/** Per loss and dtype, the worst loss and gradient errors, printed with REPORT_ERRORS=1. */
const bySuite = new Map<string, { loss: number; grad: number }>();

function note(key: string, kind: 'loss' | 'grad', error: number): void {
  const entry = bySuite.get(key) ?? { loss: 0, grad: 0 };
  entry[kind] = Math.max(entry[kind], error);
  bySuite.set(key, entry);
}

/**
 * Every form a class-index target may take, to check they all agree: an int32
 * NDArray (what fromFixture makes of torch's int64), a float64 NDArray of
 * integer values, and for 1-D targets number[], Int32Array and BigInt64Array.
 */
function targetForms(t: FixtureTensor): [string, unknown][] {
  const asFloat = array(t.data, { shape: t.shape, dtype: 'float64' });
  if (t.shape.length === 0) return [['number', t.data[0]], ['0-d int32 NDArray', fromFixture(t)], ['0-d float64 NDArray', asFloat]];
  const forms: [string, unknown][] = [['int32 NDArray', fromFixture(t)], ['float64 NDArray', asFloat]];
  if (t.shape.length === 1) {
    forms.push(['number[]', t.data.slice()], ['Int32Array', Int32Array.from(t.data)]);
    forms.push(['BigInt64Array', BigInt64Array.from(t.data.map((v) => BigInt(v)))]);
  }
  return forms;
}

function build(factory: Factory, c: FixtureCase): Loss<Reduction> {
  const options: Record<string, unknown> = { ...c.options };
  if (c.weight) options.weight = fromFixture(c.weight);
  if (c.posWeight) options.posWeight = fromFixture(c.posWeight);
  return factory(options);
}

describe.each(suites)('%s against PyTorch', (file, factory) => {
  const cases = loadCases(file);
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const prediction = fromFixture(c.prediction);
    const dtype = prediction.dtype === 'float32' ? 'float32' : 'float64';
    const forms: [string, unknown][] =
      c.target.dtype === 'int64' ? targetForms(c.target) : [['NDArray', fromFixture(c.target)]];
    for (const [form, target] of forms) {
      const loss = build(factory, c);
      const label = `${file} ${c.name} (${form} target)`;
      const value = loss.forward(prediction, target as NDArray);
      let error: number;
      let grad: NDArray;
      if (c.outputGrad !== undefined) {
        // reduction 'none': the unreduced terms, and the gradient for a given dLoss/dterms.
        expect(loss.reduction).toBe('none');
        if (!(value instanceof NDArray)) throw new Error(`${label}: forward returned ${value}, expected an NDArray`);
        error = assertClose(value, c.loss as FixtureTensor, `${label} loss`);
        grad = loss.backward(fromFixture(c.outputGrad));
      } else {
        if (typeof value !== 'number') throw new Error(`${label}: forward returned ${value}, expected a number`);
        error = assertNumberClose(value, c.loss as number, dtype, `${label} loss`);
        grad = loss.backward();
      }
      if (error > worstLoss[dtype].error) worstLoss[dtype] = { error, label: `${label} loss` };
      note(`${file} ${dtype}`, 'loss', error);
      note(`${file} ${dtype}`, 'grad', assertClose(grad, c.grad, `${label} grad`));
    }
  });
});

afterAll(() => {
  // The worst errors seen, for the report; the assertions above enforce the bounds.
  for (const dtype of ['float64', 'float32'] as const) {
    console.log(
      `worst relative error vs PyTorch, ${dtype}: loss ${worstLoss[dtype].error} (${worstLoss[dtype].label}); ` +
        `grad ${worstSeen[dtype].error} (${worstSeen[dtype].label})`,
    );
    expect(Math.max(worstLoss[dtype].error, worstSeen[dtype].error)).toBeLessThan(TOLERANCE[dtype]);
  }
  if (process.env.REPORT_ERRORS) {
    for (const [key, { loss, grad }] of bySuite) console.log(`  ${key.padEnd(24)} loss ${loss.toExponential(2)}  grad ${grad.toExponential(2)}`);
  }
});
