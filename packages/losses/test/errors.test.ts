import { DTypeError, type NDArray, ShapeError, ValueError, array, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
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

const f64 = (values: number[], shape?: number[]) => array(values, { dtype: 'float64', shape: shape ?? [values.length] });
const f32 = (values: number[], shape?: number[]) => array(values, { dtype: 'float32', shape: shape ?? [values.length] });

type Make = (options?: Record<string, unknown>) => Loss;
const everyLoss: [string, Make][] = [
  ['MSELoss', (o) => new MSELoss(o)],
  ['L1Loss', (o) => new L1Loss(o)],
  ['SmoothL1Loss', (o) => new SmoothL1Loss(o)],
  ['HuberLoss', (o) => new HuberLoss(o)],
  ['BCELoss', (o) => new BCELoss(o)],
  ['BCEWithLogitsLoss', (o) => new BCEWithLogitsLoss(o)],
  ['CrossEntropyLoss', (o) => new CrossEntropyLoss(o)],
  ['NLLLoss', (o) => new NLLLoss(o)],
];
const elementwise = everyLoss.slice(0, 6);

/** Valid inputs for each elementwise loss (probabilities suit every one of them). */
const p = () => f64([0.25, 0.5, 0.75, 0.125, 0.375, 0.625], [2, 3]);
const y = () => f64([0, 1, 0.5, 1, 0, 0.25], [2, 3]);

describe('constructor options', () => {
  it.each(everyLoss)('%s rejects an unknown option, naming it and the known ones', (name, make) => {
    expect(() => make({ reductoin: 'sum' })).toThrowError(ValueError);
    expect(() => make({ reductoin: 'sum' })).toThrow(new RegExp(`^${name}: unknown option 'reductoin'; expected one of 'reduction'`));
  });
  it.each(everyLoss)('%s rejects a bad reduction, naming the value and the choices', (name, make) => {
    expect(() => make({ reduction: 'avg' })).toThrow(`${name}: reduction must be one of 'mean', 'sum', 'none', got 'avg'`);
    expect(() => make({ reduction: null })).toThrow(`${name}: reduction must be one of 'mean', 'sum', 'none', got null`);
    expect(make({ reduction: 'none' }).reduction).toBe('none');
  });
  it.each(everyLoss)('%s rejects options that are not an object', (name, make) => {
    expect(() => make(42 as unknown as Record<string, unknown>)).toThrow(`${name}: options must be an object, got 42`);
  });
  it.each(everyLoss)('%s defaults to the mean, as PyTorch', (_, make) => {
    expect(make().reduction).toBe('mean');
  });
  it('SmoothL1Loss rejects beta < 0 (PyTorch: negative beta is not supported)', () => {
    expect(() => new SmoothL1Loss({ beta: -0.5 })).toThrow('SmoothL1Loss: beta must be >= 0, got -0.5');
    expect(() => new SmoothL1Loss({ beta: Number.NaN })).toThrow('SmoothL1Loss: beta must be a finite number, got NaN');
    expect(new SmoothL1Loss({ beta: 0 }).beta).toBe(0);
    expect(new SmoothL1Loss().beta).toBe(1);
  });
  it('HuberLoss rejects delta <= 0', () => {
    expect(() => new HuberLoss({ delta: 0 })).toThrow('HuberLoss: delta must be > 0, got 0');
    expect(() => new HuberLoss({ delta: -1 })).toThrow('HuberLoss: delta must be > 0, got -1');
    expect(() => new HuberLoss({ delta: '1' as unknown as number })).toThrow("HuberLoss: delta must be a finite number, got '1'");
    expect(new HuberLoss().delta).toBe(1);
  });
  it('CrossEntropyLoss checks labelSmoothing in [0, 1] and an integer ignoreIndex', () => {
    expect(() => new CrossEntropyLoss({ labelSmoothing: 1.5 })).toThrow('CrossEntropyLoss: labelSmoothing must be <= 1, got 1.5');
    expect(() => new CrossEntropyLoss({ labelSmoothing: -0.1 })).toThrow('CrossEntropyLoss: labelSmoothing must be >= 0, got -0.1');
    expect(() => new CrossEntropyLoss({ ignoreIndex: 0.5 })).toThrow('CrossEntropyLoss: ignoreIndex must be an integer, got 0.5');
    expect(() => new NLLLoss({ ignoreIndex: Number.NaN })).toThrow('NLLLoss: ignoreIndex must be a finite number, got NaN');
    const ce = new CrossEntropyLoss();
    expect([ce.labelSmoothing, ce.ignoreIndex, ce.weight]).toEqual([0, -100, undefined]);
  });
  it('weights must be finite NDArrays', () => {
    expect(() => new BCELoss({ weight: [1, 2] as unknown as NDArray })).toThrow('BCELoss: weight must be an NDArray, got an array of length 2');
    expect(() => new BCEWithLogitsLoss({ posWeight: 3 as unknown as NDArray })).toThrow('BCEWithLogitsLoss: posWeight must be an NDArray, got 3');
    expect(() => new CrossEntropyLoss({ weight: f64([1, Number.NaN]) })).toThrow(
      'CrossEntropyLoss: weight holds NaN at index [1]',
    );
    expect(() => new NLLLoss({ weight: new Float64Array(2) as unknown as NDArray })).toThrow('NLLLoss: weight must be an NDArray, got a Float64Array');
  });
});

describe('every loss: bad input to forward', () => {
  it.each(everyLoss)('%s refuses an int32 prediction', (name, make) => {
    expect(() => make().forward(array([1, 2, 3, 4], { dtype: 'int32', shape: [2, 2] }), [0, 1] as unknown as NDArray)).toThrow(
      `${name}: prediction is int32, expected float32 or float64 (convert it with astype('float32'))`,
    );
  });
});

describe('elementwise losses: bad input to forward', () => {
  it.each(elementwise)('%s refuses a target of another shape, naming both shapes', (name, make) => {
    const error = () => make().forward(p(), f64([0, 1, 0.5, 1, 0, 0.25], [6]));
    expect(error).toThrowError(ShapeError);
    expect(error).toThrow(`${name}: prediction has shape [2, 3] but target has shape [6]; expected the same shape`);
    // PyTorch would broadcast [2, 1] against [2, 3] with a warning; we refuse.
    expect(() => make().forward(p(), f64([0, 1], [2, 1]))).toThrow('but target has shape [2, 1]');
  });
  it.each(elementwise)('%s refuses mixed dtypes', (name, make) => {
    const error = () => make().forward(p(), y().astype('float32'));
    expect(error).toThrowError(DTypeError);
    expect(error).toThrow(`${name}: prediction is float64 but target is float32; expected the same dtype`);
  });
  it.each(elementwise)('%s refuses NaN or Infinity, naming the position', (name, make) => {
    const bad = p();
    bad.data[4] = Number.NaN;
    expect(() => make().forward(bad, y())).toThrowError(ValueError);
    expect(() => make().forward(bad, y())).toThrow(`${name}: prediction holds NaN at index [1, 1] (shape [2, 3]); expected finite values`);
    const badTarget = y();
    badTarget.data[2] = Number.POSITIVE_INFINITY;
    expect(() => make().forward(p(), badTarget)).toThrow(`${name}: target holds Infinity at index [0, 2]`);
  });
  it.each(elementwise)('%s refuses arguments that are not NDArrays', (name, make) => {
    expect(() => make().forward([0.5] as unknown as NDArray, y())).toThrow(`${name}: prediction must be an NDArray, got an array of length 1`);
    expect(() => make().forward(p(), [0.5] as unknown as NDArray)).toThrow(
      `${name}: target must be an NDArray of shape [2, 3], got an array of length 1`,
    );
  });
  it.each(elementwise)("%s refuses an empty prediction under 'mean' (PyTorch: NaN) but sums it to 0", (name, make) => {
    expect(() => make().forward(zeros([0, 3], { dtype: 'float64' }), zeros([0, 3], { dtype: 'float64' }))).toThrow(
      `${name}: prediction of shape [0, 3] is empty, and its mean is undefined`,
    );
    const sum = make({ reduction: 'sum' });
    expect(sum.forward(zeros([0, 3], { dtype: 'float64' }), zeros([0, 3], { dtype: 'float64' }))).toBe(0);
    expect(sum.backward().shape).toEqual([0, 3]);
  });
  it('BCELoss refuses predictions outside [0, 1], pointing to BCEWithLogitsLoss', () => {
    const error = () => new BCELoss().forward(f64([0.5, 1.5]), f64([0, 1]));
    expect(error).toThrowError(ValueError);
    expect(error).toThrow('BCELoss: prediction holds 1.5 at index [1] (shape [2]); expected values in [0, 1] (apply sigmoid first');
    expect(() => new BCELoss().forward(f64([-1e-9, 0.5]), f64([0, 1]))).toThrow('prediction holds -1e-9 at index [0]');
  });
  it('BCELoss and BCEWithLogitsLoss accept targets outside [0, 1] and apply the formula, as torch does', () => {
    const bce = new BCELoss();
    // −(y·log p + (1 − y)·log(1 − p)) at p = 0.5 is ln 2 for y = 0 and for y = 2.
    expect(bce.forward(f64([0.5, 0.5]), f64([0, 2]))).toBeCloseTo(Math.LN2, 14);
    expect(Array.from(bce.backward().data)).toEqual([1, -3]); // (p − y)/(p(1 − p))/N
    const logits = new BCEWithLogitsLoss();
    const soft = Math.log1p(Math.exp(-3));
    expect(logits.forward(f64([3, -3]), f64([-0.5, 1]))).toBeCloseTo((4.5 + soft + 3 + soft) / 2, 14);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const g = logits.backward().data;
    expect(g[0]).toBeCloseTo((sig(3) + 0.5) / 2, 15);
    expect(g[1]).toBeCloseTo((sig(-3) - 1) / 2, 15);
  });
  it('BCE weights must broadcast to the prediction and share its dtype', () => {
    expect(() => new BCELoss({ weight: f64([1, 2]) }).forward(p(), y())).toThrow(
      "BCELoss: weight of shape [2] does not broadcast to the prediction's shape [2, 3]",
    );
    expect(() => new BCEWithLogitsLoss({ posWeight: f64([1, 2, 3, 4]) }).forward(p(), y())).toThrow(
      "BCEWithLogitsLoss: posWeight of shape [4] does not broadcast to the prediction's shape [2, 3]",
    );
    expect(() => new BCEWithLogitsLoss({ weight: f64([1, 2, 3], [1, 1, 3]) }).forward(p(), y())).toThrowError(ShapeError);
    const mixed = () => new BCEWithLogitsLoss({ posWeight: f32([1, 2, 3]) }).forward(p(), y());
    expect(mixed).toThrowError(DTypeError);
    expect(mixed).toThrow('BCEWithLogitsLoss: prediction is float64 but posWeight is float32');
  });
});

describe('classification losses: bad input to forward', () => {
  const logits = () => f64([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
  const classification: [string, Make][] = everyLoss.slice(6);

  it.each(classification)('%s names an out-of-range class index and C', (name, make) => {
    const error = () => make().forward(logits(), [1, 4]);
    expect(error).toThrowError(ValueError);
    expect(error).toThrow(
      `${name}: target holds class index 4 at index [1], out of range for C = 4 classes; expected an integer in [0, 4) or ignoreIndex (-100)`,
    );
    expect(() => make().forward(logits(), Int32Array.from([-1, 0]))).toThrow(`${name}: target holds class index -1 at index [0]`);
    expect(() => make({ ignoreIndex: -1 }).forward(logits(), [-100, 0])).toThrow('class index -100 at index [0]');
  });
  it.each(classification)('%s checks int32 NDArray targets through ops, with the same messages', (name, make) => {
    const i32 = (values: number[]) => array(values, { dtype: 'int32' });
    expect(() => make().forward(logits(), i32([1, 4]))).toThrow(
      `${name}: target holds class index 4 at index [1], out of range for C = 4 classes; expected an integer in [0, 4) or ignoreIndex (-100)`,
    );
    expect(() => make({ ignoreIndex: -1 }).forward(logits(), i32([-100, 0]))).toThrow('class index -100 at index [0]');
    expect(() => make({ ignoreIndex: 2 ** 40 }).forward(logits(), i32([0, -100]))).toThrow('class index -100 at index [1]');
    expect(() => make().forward(logits(), i32([0, 1, 2]))).toThrow(`${name}: prediction has shape [2, 4] but target has shape [3]`);
    // An ignored target equal to a class (ignoreIndex 1) costs nothing; the other counts alone.
    const loss = make({ ignoreIndex: 1, reduction: 'sum' });
    const both = loss.forward(logits(), i32([1, 3]));
    expect(both).toBe(make({ reduction: 'sum' }).forward(logits(), [-100, 3]));
    expect(Array.from(loss.backward().data.slice(0, 4))).toEqual([0, 0, 0, 0]);
  });
  it.each(classification)('%s refuses non-integer class indices', (name, make) => {
    expect(() => make().forward(logits(), f64([1, 2.5]))).toThrow(
      `${name}: target holds 2.5 at index [1]; expected integer class indices in [0, 4) or ignoreIndex (-100)`,
    );
    expect(() => make().forward(logits(), [1, Number.NaN])).toThrow(`${name}: target holds NaN at index [1]`);
    expect(() => make().forward(logits(), ['1', 2] as unknown as number[])).toThrow(`${name}: target holds '1' at index [0]`);
  });
  it.each(classification)('%s refuses targets of the wrong shape or kind', (name, make) => {
    const shape = () => make().forward(logits(), [0, 1, 2]);
    expect(shape).toThrowError(ShapeError);
    expect(shape).toThrow(`${name}: prediction has shape [2, 4] but target has shape [3]; expected class indices of shape [2]`);
    expect(() => make().forward(logits(), f64([0, 1], [2, 1]))).toThrow('but target has shape [2, 1]');
    expect(() => make().forward(logits(), 1)).toThrow('but target has shape []; expected class indices of shape [2]');
    expect(() => make().forward(logits(), new Float32Array([0, 1]) as unknown as number[])).toThrow(
      `${name}: target must be an NDArray, a number[], an integer typed array or (for a [C] prediction) a number; got a Float32Array`,
    );
    expect(() => make().forward(f64([1, 2, 3]), [1])).toThrow('prediction has shape [3] but target has shape [1]; expected class indices of shape []');
  });
  it.each(classification)('%s refuses a 0-d prediction', (name, make) => {
    expect(() => make().forward(f64([1], []), 0)).toThrow(`${name}: prediction has shape [] but expected [C], [B, C] or [B, C, d1, ...]`);
  });
  it.each(classification)('%s refuses non-finite predictions, naming the position', (name, make) => {
    const bad = logits();
    bad.data[6] = Number.NEGATIVE_INFINITY;
    expect(() => make().forward(bad, [0, 1])).toThrow(`${name}: prediction holds -Infinity at index [1, 2] (shape [2, 4]); expected finite values`);
  });
  it.each(classification)('%s checks the class weight: shape [C] and the same dtype', (name, make) => {
    expect(() => make({ weight: f64([1, 2, 3]) }).forward(logits(), [0, 1])).toThrow(
      `${name}: weight has shape [3] but the prediction of shape [2, 4] has 4 classes; expected weight of shape [4]`,
    );
    const mixed = () => make({ weight: f32([1, 2, 3, 4]) }).forward(logits(), [0, 1]);
    expect(mixed).toThrowError(DTypeError);
    expect(mixed).toThrow(`${name}: prediction is float64 but weight is float32`);
  });
  it.each(classification)("%s refuses 'mean' when every target is ignored (PyTorch: NaN), but sums to 0", (name, make) => {
    expect(() => make().forward(logits(), [-100, -100])).toThrow(
      `${name}: every target is ignoreIndex (-100) or has weight 0, so the 'mean' reduction would divide by zero (PyTorch returns NaN)`,
    );
    expect(() => make({ weight: f64([0, 1, 1, 1]) }).forward(logits(), [0, -100])).toThrow('or has weight 0');
    const sum = make({ reduction: 'sum' });
    expect(sum.forward(logits(), [-100, -100])).toBe(0);
    expect(Array.from(sum.backward().data)).toEqual(new Array(8).fill(0));
  });
  it.each(classification)("%s refuses an empty batch under 'mean'", (name, make) => {
    expect(() => make().forward(zeros([0, 4], { dtype: 'float64' }), [])).toThrow(`${name}: prediction of shape [0, 4] holds no samples`);
  });
  it('CrossEntropyLoss probability targets: same dtype, finite', () => {
    const mixed = () => new CrossEntropyLoss().forward(logits(), f32([0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0], [2, 4]));
    expect(mixed).toThrowError(DTypeError);
    expect(mixed).toThrow('CrossEntropyLoss: prediction is float64 but target is float32');
    expect(() => new CrossEntropyLoss().forward(logits(), f64([0.25, 0.25, 0.25, 0.25, 1, 0, Number.NaN, 0], [2, 4]))).toThrow(
      'CrossEntropyLoss: target holds NaN at index [1, 2]',
    );
  });
  it('CrossEntropyLoss refuses a non-negative ignoreIndex with probability targets, as PyTorch', () => {
    const q = f64([0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0], [2, 4]);
    expect(() => new CrossEntropyLoss({ ignoreIndex: 1 }).forward(logits(), q)).toThrow(
      'CrossEntropyLoss: ignoreIndex 1 applies to class-index targets only, but the target has the logits\' shape [2, 4]',
    );
    expect(() => new CrossEntropyLoss({ ignoreIndex: -5 }).forward(logits(), q)).not.toThrow();
  });
  it('NLLLoss does not take probability targets', () => {
    expect(() => new NLLLoss().forward(logits(), f64([0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0], [2, 4]))).toThrow(
      'NLLLoss: prediction has shape [2, 4] but target has shape [2, 4]; expected class indices of shape [2]',
    );
  });
});

describe('backward', () => {
  it.each(everyLoss)('%s: backward before forward is a clear error', (name, make) => {
    expect(() => make().backward()).toThrow(`${name}: backward() called before forward(); call forward(prediction, target) first`);
    expect(() => make().backward()).toThrow(ValueError); // as the layers' backward-before-forward
  });
  it.each(elementwise)('%s: a forward that throws leaves nothing for backward', (name, make) => {
    const loss = make();
    loss.forward(p(), y());
    expect(() => loss.forward(p(), f64([1]))).toThrow();
    expect(() => loss.backward()).toThrow(`${name}: backward() called before forward()`);
  });
  it('CrossEntropyLoss: a forward that throws leaves nothing for backward', () => {
    const loss = new CrossEntropyLoss();
    loss.forward(f64([1, 2, 3, 4], [2, 2]), [0, 1]);
    expect(() => loss.forward(f64([1, 2, 3, 4], [2, 2]), [0, 2])).toThrow();
    expect(() => loss.backward()).toThrow('CrossEntropyLoss: backward() called before forward()');
  });
  it('outputGrad must be a finite number', () => {
    const loss = new MSELoss();
    loss.forward(p(), y());
    expect(() => loss.backward(Number.NaN)).toThrow('MSELoss.backward: outputGrad must be a finite number, got NaN');
  });
});

describe('weights changed in place after construction', () => {
  it('are checked at every forward, so a NaN weight fails instead of giving a NaN loss', async () => {
    const { array } = await import('@backprop/ndarray');
    const w = array([1, 2], { dtype: 'float64' });
    const bce = new BCELoss({ weight: w });
    const p = array([0.2, 0.7], { dtype: 'float64' });
    const y = array([0, 1], { dtype: 'float64' });
    expect(Number.isFinite(bce.forward(p, y))).toBe(true);
    w.data[1] = Number.NaN;
    expect(() => bce.forward(p, y)).toThrow('BCELoss: weight holds NaN at index [1] (shape [2]); expected finite values');
    const cw = array([1, 1, 1], { dtype: 'float64' });
    const ce = new CrossEntropyLoss({ weight: cw });
    const logits = array([[1, 2, 3]], { dtype: 'float64' });
    expect(Number.isFinite(ce.forward(logits, [2]))).toBe(true);
    cw.data[0] = Number.POSITIVE_INFINITY;
    expect(() => ce.forward(logits, [2])).toThrow('CrossEntropyLoss: weight holds Infinity at index [0] (shape [3]); expected finite values');
  });
});
