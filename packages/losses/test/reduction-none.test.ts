/**
 * reduction 'none': forward returns the unreduced terms (the prediction's
 * shape for the elementwise losses, the class-index target's shape for
 * cross-entropy and NLL) and backward takes dLoss/dterm of that shape. Their
 * numbers are checked against torch in fixtures.test.ts and by finite
 * differences in gradcheck.test.ts; here, how 'none' relates to 'sum' and
 * 'mean', shapes, ignored positions and bad input.
 */
import { DTypeError, NDArray, ShapeError, ValueError, array, onesLike, zeros } from '@backprop/ndarray';
import { assertClose, randomArray, testRandom } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import {
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  HuberLoss,
  L1Loss,
  type Loss,
  type LossTarget,
  MSELoss,
  NLLLoss,
  type Reduction,
  SmoothL1Loss,
} from '../src/index';

const f64 = (values: number[], shape?: number[]) => array(values, { dtype: 'float64', shape: shape ?? [values.length] });
const f32 = (values: number[], shape?: number[]) => array(values, { dtype: 'float32', shape: shape ?? [values.length] });
const i32 = (values: number[], shape?: number[]) => array(values, { dtype: 'int32', shape: shape ?? [values.length] });

type Make = (options: Record<string, unknown>) => Loss<Reduction>;

const next = testRandom(7);
const probabilities = randomArray([3, 4], 'float64', next, 0.05, 0.95);
const soft = randomArray([3, 4], 'float64', next, 0, 1);
const logits = randomArray([3, 4], 'float64', next, -3, 3);
const weight4 = randomArray([4], 'float64', next, 0.3, 2);

/** Every loss with an input and target that suit it, and options switched on. */
const CASES: [string, Make, NDArray, LossTarget, number[]][] = [
  ['MSELoss', (o) => new MSELoss(o), logits, soft, [3, 4]],
  ['L1Loss', (o) => new L1Loss(o), logits, soft, [3, 4]],
  ['SmoothL1Loss', (o) => new SmoothL1Loss({ ...o, beta: 0.5 }), logits, soft, [3, 4]],
  ['HuberLoss', (o) => new HuberLoss({ ...o, delta: 2 }), logits, soft, [3, 4]],
  ['BCELoss', (o) => new BCELoss({ ...o, weight: weight4 }), probabilities, soft, [3, 4]],
  ['BCEWithLogitsLoss', (o) => new BCEWithLogitsLoss({ ...o, posWeight: weight4 }), logits, soft, [3, 4]],
  ['CrossEntropyLoss', (o) => new CrossEntropyLoss({ ...o, weight: weight4, labelSmoothing: 0.1 }), logits, [2, -100, 0], [3]],
  ['CrossEntropyLoss (probabilities)', (o) => new CrossEntropyLoss({ ...o, weight: weight4 }), logits, soft, [3]],
  ['NLLLoss', (o) => new NLLLoss({ ...o, weight: weight4 }), logits, i32([2, -100, 0]), [3]],
];

function sumOf(a: NDArray): number {
  let total = 0;
  for (const v of a.data) total += v;
  return total;
}

describe("reduction 'none' against 'sum' and 'mean'", () => {
  it.each(CASES)('%s: the terms sum to the sum, and ones as outputGrad give the sum\'s gradient', (_, make, prediction, target, shape) => {
    const none = make({ reduction: 'none' });
    const terms = none.forward(prediction, target);
    if (!(terms instanceof NDArray)) throw new Error('expected an NDArray');
    expect(terms.shape).toEqual(shape);
    expect(terms.dtype).toBe('float64');
    const sum = make({ reduction: 'sum' });
    expect(sumOf(terms)).toBeCloseTo(sum.forward(prediction, target) as number, 12);
    assertClose(none.backward(onesLike(terms)), sum.backward(), 'gradient');
  });

  it.each(CASES)('%s: forward returns a new array each call, which later calls leave alone', (_, make, prediction, target) => {
    const none = make({ reduction: 'none' });
    const first = none.forward(prediction, target) as NDArray;
    const copy = first.clone();
    const second = none.forward(prediction, target) as NDArray;
    expect(second).not.toBe(first);
    none.backward(onesLike(second));
    expect(Array.from(first.data)).toEqual(Array.from(copy.data));
  });

  it('the elementwise mean is the mean of the terms; cross-entropy and NLL divide by Σ w[y] over counted targets', () => {
    const mse = new MSELoss({ reduction: 'none' }).forward(logits, soft);
    expect(new MSELoss().forward(logits, soft)).toBeCloseTo(sumOf(mse) / 12, 14);
    const t = [2, -100, 0];
    const ce = new CrossEntropyLoss({ reduction: 'none', weight: weight4 }).forward(logits, t);
    const divisor = weight4.data[2] + weight4.data[0];
    expect(new CrossEntropyLoss({ weight: weight4 }).forward(logits, t)).toBeCloseTo(sumOf(ce) / divisor, 14);
  });

  it('MSELoss by hand: (p − y)² per element, gradient 2(p − y)·g with no divisor', () => {
    const mse = new MSELoss({ reduction: 'none' });
    expect(Array.from(mse.forward(f64([1, 2, -1], [3]), f64([0, 0, 1])).data)).toEqual([1, 4, 4]);
    expect(Array.from(mse.backward(f64([1, -0.5, 2])).data)).toEqual([2, -2, -8]);
  });

  it('NLLLoss by hand: −w[y]·x[y] per row, 0 (+0) where ignored', () => {
    const nll = new NLLLoss({ reduction: 'none', weight: f64([1, 2, 4]) });
    const x = f64([-1, -2, -3, -0.5, -0.25, -0.125], [2, 3]);
    const terms = nll.forward(x, [2, -100]);
    expect(Array.from(terms.data)).toEqual([12, 0]);
    expect(Object.is(terms.data[1], 0)).toBe(true);
    const grad = nll.backward(f64([0.5, -3]));
    expect(Array.from(grad.data)).toEqual([0, 0, -2, 0, 0, 0]);
    expect(Array.from(grad.data).every((v, i) => i === 2 || Object.is(v, 0))).toBe(true);
  });

  it('CrossEntropyLoss: an ignored position is +0 under every label smoothing, and gets no gradient', () => {
    for (const labelSmoothing of [0, 0.2]) {
      const ce = new CrossEntropyLoss({ reduction: 'none', labelSmoothing });
      const terms = ce.forward(logits, i32([1, -100, 3]));
      expect(Object.is(terms.data[1], 0)).toBe(true);
      expect(terms.data[0]).toBeGreaterThan(0);
      const grad = ce.backward(f64([1, 5, -1]));
      expect(Array.from(grad.data.slice(4, 8))).toEqual([0, 0, 0, 0]);
    }
  });
});

describe('shapes under reduction none', () => {
  it('K-dimensional [N, C, d1, d2] logits give [N, d1, d2] terms, for every target form', () => {
    const x = randomArray([2, 3, 4, 5], 'float32', testRandom(8), -2, 2);
    const labels = Array.from({ length: 40 }, (_, i) => (i % 7 === 0 ? -100 : i % 3));
    const forms: LossTarget[] = [i32(labels, [2, 4, 5]), f32(labels, [2, 4, 5]), f64(labels, [2, 4, 5])];
    const ce = new CrossEntropyLoss({ reduction: 'none', labelSmoothing: 0.1 });
    const reference = ce.forward(x, forms[0]);
    expect(reference.shape).toEqual([2, 4, 5]);
    expect(reference.dtype).toBe('float32');
    for (const target of forms.slice(1)) expect(Array.from(ce.forward(x, target).data)).toEqual(Array.from(reference.data));
    expect(ce.backward(randomArray([2, 4, 5], 'float32', testRandom(9))).shape).toEqual([2, 3, 4, 5]);
    const nll = new NLLLoss({ reduction: 'none' });
    expect(nll.forward(x, forms[0]).shape).toEqual([2, 4, 5]);
    // Probabilities of the logits' shape: one term per position too.
    const q = onesLike(x);
    expect(new CrossEntropyLoss({ reduction: 'none' }).forward(x, q).shape).toEqual([2, 4, 5]);
  });

  it('an unbatched [C] prediction gives a 0-d loss, and backward takes a 0-d outputGrad', () => {
    for (const make of [() => new CrossEntropyLoss({ reduction: 'none' }), () => new NLLLoss({ reduction: 'none' })]) {
      const loss = make();
      const value = loss.forward(f64([0.5, -1, 2]), 2);
      expect(value.shape).toEqual([]);
      const g = loss.backward(f64([3], []));
      expect(g.shape).toEqual([3]);
      expect(() => loss.backward(f64([3]))).toThrow('outputGrad has shape [1], expected []');
    }
  });

  it('an empty prediction gives an empty loss (no error, unlike the mean of nothing)', () => {
    const mse = new MSELoss({ reduction: 'none' });
    const empty = zeros([0, 3], { dtype: 'float64' });
    expect(mse.forward(empty, empty).shape).toEqual([0, 3]);
    expect(mse.backward(empty).shape).toEqual([0, 3]);
    const ce = new CrossEntropyLoss({ reduction: 'none' });
    expect(ce.forward(zeros([0, 4], { dtype: 'float64' }), []).shape).toEqual([0]);
    expect(ce.backward(zeros([0], { dtype: 'float64' })).shape).toEqual([0, 4]);
  });

  it('every target ignored is a loss of zeros, not an error', () => {
    const nll = new NLLLoss({ reduction: 'none' });
    expect(Array.from(nll.forward(logits, [-100, -100, -100]).data)).toEqual([0, 0, 0]);
  });
});

describe('bad outputGrad under none', () => {
  it.each(CASES)('%s: missing, a number, another shape, another dtype, NaN', (name, make, prediction, target, shape) => {
    const loss = make({ reduction: 'none' });
    loss.forward(prediction, target);
    const op = name.split(' ')[0];
    const missing = () => loss.backward();
    expect(missing).toThrowError(ValueError);
    expect(missing).toThrow(`${op}.backward: reduction 'none' needs outputGrad, an NDArray of shape [${shape.join(', ')}]`);
    expect(() => loss.backward(2)).toThrow(`${op}.backward: reduction 'none' needs outputGrad`);
    const wrongShape = () => loss.backward(zeros([5], { dtype: 'float64' }));
    expect(wrongShape).toThrowError(ShapeError);
    expect(wrongShape).toThrow(`${op}.backward: outputGrad has shape [5], expected [${shape.join(', ')}]`);
    const wrongDType = () => loss.backward(zeros(shape, { dtype: 'float32' }));
    expect(wrongDType).toThrowError(DTypeError);
    expect(wrongDType).toThrow(`${op}.backward: outputGrad is float32 but the prediction is float64`);
    const nan = zeros(shape, { dtype: 'float64' });
    nan.data[0] = Number.NaN;
    expect(() => loss.backward(nan)).toThrow(`${op}.backward: outputGrad holds NaN at index [0`);
  });

  it('CrossEntropyLoss names an int32 target of the logits\' shape, which is neither indices nor probabilities', () => {
    const bad = () => new CrossEntropyLoss({ reduction: 'none' }).forward(logits, i32(new Array(12).fill(1), [3, 4]));
    expect(bad).toThrowError(DTypeError);
    expect(bad).toThrow(
      "CrossEntropyLoss: target is int32 with the logits' shape [3, 4]; expected class indices of shape [3] or class probabilities of the logits' shape and dtype (float64)",
    );
  });
});
