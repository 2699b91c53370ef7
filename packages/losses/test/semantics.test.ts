import { array } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { BCELoss, BCEWithLogitsLoss, HuberLoss, L1Loss, MSELoss, SmoothL1Loss } from '../src/index';

const f64 = (values: number[], shape?: number[]) => array(values, { dtype: 'float64', shape: shape ?? [values.length] });
const f32 = (values: number[], shape?: number[]) => array(values, { dtype: 'float32', shape: shape ?? [values.length] });
const EPS = Math.fround(1e-12);

describe('hand-derivable values', () => {
  it('MSELoss: mean of d², gradient 2d/N; sum: Σd², 2d', () => {
    const mse = new MSELoss();
    expect(mse.forward(f64([1, 2]), f64([0, 0]))).toBe(2.5);
    expect(Array.from(mse.backward().data)).toEqual([1, 2]);
    const sum = new MSELoss({ reduction: 'sum' });
    expect(sum.forward(f64([1, 2]), f64([0, 0]))).toBe(5);
    expect(Array.from(sum.backward().data)).toEqual([2, 4]);
  });

  it('a float32 loss is a float32 value and its gradient float32', () => {
    const mse = new MSELoss();
    const value = mse.forward(f32([0.1, 0.2, 0.3]), f32([0, 0, 0]));
    expect(value).toBe(Math.fround(value));
    expect(mse.backward().dtype).toBe('float32');
  });

  it('L1Loss: sign(0) = 0 in the gradient', () => {
    const l1 = new L1Loss({ reduction: 'sum' });
    expect(l1.forward(f64([1, -2, 3]), f64([0, 0, 3]))).toBe(3);
    expect(Array.from(l1.backward().data)).toEqual([1, -1, 0]);
  });

  it('SmoothL1Loss with beta 0 is L1, but its gradient at d = 0 is -1, as PyTorch', () => {
    const p = f64([0.5, -1, 2, 0.25]);
    const t = f64([0.5, 0, 0, 1]);
    const smooth = new SmoothL1Loss({ beta: 0 });
    expect(smooth.forward(p, t)).toBe(new L1Loss().forward(p, t));
    expect(Array.from(smooth.backward().data)).toEqual([-0.25, -0.25, 0.25, -0.25]);
  });

  it('SmoothL1Loss: quadratic inside beta, linear outside, gradient ±1 from |d| = beta on', () => {
    const loss = new SmoothL1Loss({ beta: 0.5, reduction: 'sum' });
    // d = 0.25 → 0.5·0.0625/0.5; d = 0.5 (the kink) → 0.5 − 0.25; d = −2 → 2 − 0.25.
    expect(loss.forward(f64([0.25, 0.5, -2]), f64([0, 0, 0]))).toBe(0.0625 + 0.25 + 1.75);
    expect(Array.from(loss.backward().data)).toEqual([0.5, 1, -1]);
  });

  it('HuberLoss: gradient is d clamped to ±delta, and Huber(δ) = δ · SmoothL1(β = δ)', () => {
    const p = f64([0.25, 2, -3, 1.5]);
    const t = f64([0, 0, 0, 0]);
    const huber = new HuberLoss({ delta: 1.5, reduction: 'sum' });
    expect(huber.forward(p, t)).toBe(0.03125 + 1.5 * (2 - 0.75) + 1.5 * (3 - 0.75) + 1.5 * (1.5 - 0.75));
    expect(Array.from(huber.backward().data)).toEqual([0.25, 1.5, -1.5, 1.5]);
    const smooth = new SmoothL1Loss({ beta: 1.5, reduction: 'sum' });
    expect(huber.forward(p, t)).toBeCloseTo(1.5 * smooth.forward(p, t), 14);
  });

  it('BCELoss at p = 0 and 1 exactly: each log clamped at -100, the gradient floored at EPS = float32(1e-12)', () => {
    for (const make of [f64, f32]) {
      const bce = new BCELoss({ reduction: 'sum' });
      const loss = bce.forward(make([0, 1, 0, 1]), make([0.25, 0.75, 0, 1]));
      expect(loss).toBe(25 + 25);
      const grad = bce.backward();
      const expected = make([-0.25 / EPS, 0.25 / EPS, 0, 0]);
      expect(Array.from(grad.data)).toEqual(Array.from(expected.data));
    }
  });

  it('BCELoss: an exact prediction of a hard label costs 0; p = 0.5 costs log 2', () => {
    const bce = new BCELoss();
    expect(bce.forward(f64([1, 0]), f64([1, 0]))).toBe(0);
    expect(bce.forward(f64([0.5]), f64([1]))).toBe(Math.LN2);
    expect(bce.backward().data[0]).toBe(-0.5 / 0.25);
  });

  it('BCEWithLogitsLoss is finite for logits of any size, with gradient σ(x) − y', () => {
    for (const make of [f64, f32]) {
      const big = [1e4, -1e4, 1e30, -1e30, 3e38, -3e38];
      const loss = new BCEWithLogitsLoss({ reduction: 'sum' });
      const value = loss.forward(make(big), make([0.3, 0.3, 0, 1, 1, 0]));
      expect(Number.isFinite(value)).toBe(true);
      const grad = Array.from(loss.backward().data);
      expect(grad).toEqual(Array.from(make([0.7, -0.3, 1, -1, 0, 0]).data));
    }
    const x = new BCEWithLogitsLoss({ reduction: 'sum' });
    // (1 − y)·x for x ≫ 0, y·|x| for x ≪ 0; a confident right answer costs 0.
    expect(x.forward(f64([1e4, -1e4, 1e4]), f64([0.25, 0.25, 1]))).toBe(7500 + 2500 + 0);
    expect(x.forward(f64([1e300, -1e300]), f64([0.5, 0.5]))).toBe(1e300);
  });

  it('BCEWithLogitsLoss equals BCELoss after a sigmoid where both are accurate', () => {
    const x = f64([-2, -0.5, 0, 0.5, 2]);
    const yv = f64([0, 0.25, 0.5, 0.75, 1]);
    const p = f64(Array.from(x.data, (v) => 1 / (1 + Math.exp(-v))));
    expect(new BCEWithLogitsLoss().forward(x, yv)).toBeCloseTo(new BCELoss().forward(p, yv), 14);
  });

  it('BCEWithLogitsLoss posWeight multiplies the positive term only', () => {
    const x = f64([0.5, -1]);
    const yv = f64([1, 0]);
    const plain = new BCEWithLogitsLoss({ reduction: 'sum' });
    const weighted = new BCEWithLogitsLoss({ reduction: 'sum', posWeight: f64([3]) });
    const positive = Math.log(1 + Math.exp(-0.5));
    const negative = Math.log(1 + Math.exp(-1));
    expect(plain.forward(x, yv)).toBeCloseTo(positive + negative, 14);
    expect(weighted.forward(x, yv)).toBeCloseTo(3 * positive + negative, 14);
  });

  it('a weight changed in place takes effect, as a PyTorch buffer', () => {
    const weight = f64([1, 1]);
    const bce = new BCELoss({ weight, reduction: 'sum' });
    const p = f64([0.5, 0.5]);
    const t = f64([1, 1]);
    expect(bce.forward(p, t)).toBe(2 * Math.LN2);
    weight.data[1] = 3;
    expect(bce.forward(p, t)).toBe(4 * Math.LN2);
  });
});

describe('state between calls', () => {
  it('backward may be called twice and returns fresh, equal arrays', () => {
    const mse = new MSELoss();
    mse.forward(f64([1, 2]), f64([0, 0]));
    const a = mse.backward();
    const b = mse.backward();
    expect(a).not.toBe(b);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('the prediction shape may change from call to call (weights re-broadcast)', () => {
    const bce = new BCEWithLogitsLoss({ posWeight: f64([2, 3]) });
    bce.forward(f64([0, 1, 2, 3], [2, 2]), f64([1, 0, 1, 0], [2, 2]));
    expect(bce.backward().shape).toEqual([2, 2]);
    bce.forward(f64([0, 1, 2, 3, 4, 5], [3, 2]), f64([1, 0, 1, 0, 1, 1], [3, 2]));
    const grad = bce.backward();
    expect(grad.shape).toEqual([3, 2]);
    // Element [2, 1]: posWeight 3, y = 1: (3·σ(5) − 3)/6.
    expect(grad.data[5]).toBeCloseTo((3 / (1 + Math.exp(-5)) - 3) / 6, 15);
  });
});
