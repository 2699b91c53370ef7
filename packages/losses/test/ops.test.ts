/**
 * Losses compute only through ndarray's ops: at a steady batch size a
 * forward and backward allocate only the gradient they return and read back
 * only the loss value (forward returns it as a number); and on a backend
 * whose arrays live off the host (boxes standing for GPU buffers) every loss
 * gives the `js` backend's value and gradient bit for bit.
 */
import { type FloatDType, type NDArray, array, getBackend, setBackend } from '@backprop/ndarray';
import { assertBitwiseEqual, countDataReads, countTypedArrays, createBoxedBackend, dataReads, testRandom } from '@backprop/ndarray/test';
import { afterEach, describe, expect, it } from 'vitest';
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

const active = getBackend();
afterEach(() => {
  setBackend(active);
});

/** Plain numbers for one problem, so each backend builds its own arrays from them. */
function problem(seed: number, batch: number, classes: number) {
  const next = testRandom(seed);
  const draw = (n: number, low: number, high: number) => Array.from({ length: n }, () => low + (high - low) * next());
  const labels = Array.from({ length: batch }, () => Math.floor(next() * classes));
  labels[1] = -100;
  return {
    logits: draw(batch * classes, -4, 4),
    probabilities: draw(batch * classes, 0.01, 0.99),
    soft: draw(batch * classes, 0, 1),
    weight: draw(classes, 0.5, 2),
    labels,
    shape: [batch, classes],
  };
}

type Problem = ReturnType<typeof problem>;

/** Every loss with its options switched on, and its inputs, built on the active backend. */
const CASES: [string, (p: Problem, dtype: FloatDType) => { loss: Loss; prediction: NDArray; target: unknown }][] = [
  ['MSELoss', (p, dtype) => ({ loss: new MSELoss(), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) })],
  ['L1Loss', (p, dtype) => ({ loss: new L1Loss({ reduction: 'sum' }), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) })],
  ['SmoothL1Loss', (p, dtype) => ({ loss: new SmoothL1Loss({ beta: 0.5 }), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) })],
  ['HuberLoss', (p, dtype) => ({ loss: new HuberLoss({ delta: 2 }), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) })],
  [
    'BCELoss weight',
    (p, dtype) => ({
      loss: new BCELoss({ weight: array(p.weight, { dtype }) }),
      prediction: arr(p.probabilities, p, dtype),
      target: arr(p.soft, p, dtype),
    }),
  ],
  [
    'BCEWithLogitsLoss weight posWeight',
    (p, dtype) => ({
      loss: new BCEWithLogitsLoss({ weight: array(p.weight, { dtype }), posWeight: array(p.weight.map((w) => 2 * w), { dtype }) }),
      prediction: arr(p.logits, p, dtype),
      target: arr(p.soft, p, dtype),
    }),
  ],
  [
    'CrossEntropyLoss weight labelSmoothing, int32 NDArray targets',
    (p, dtype) => ({
      loss: new CrossEntropyLoss({ weight: array(p.weight, { dtype }), labelSmoothing: 0.1 }),
      prediction: arr(p.logits, p, dtype),
      target: array(p.labels, { dtype: 'int32' }),
    }),
  ],
  [
    'CrossEntropyLoss ignoreIndex 2 (a class), int32 NDArray targets',
    (p, dtype) => ({
      loss: new CrossEntropyLoss({ ignoreIndex: 2, labelSmoothing: 0.2 }),
      prediction: arr(p.logits, p, dtype),
      target: array(p.labels.map((y) => (y < 0 ? 2 : y)), { dtype: 'int32' }),
    }),
  ],
  [
    'CrossEntropyLoss, Int32Array targets',
    (p, dtype) => ({ loss: new CrossEntropyLoss({ reduction: 'sum' }), prediction: arr(p.logits, p, dtype), target: Int32Array.from(p.labels) }),
  ],
  [
    'CrossEntropyLoss weight labelSmoothing, probabilities',
    (p, dtype) => ({
      loss: new CrossEntropyLoss({ weight: array(p.weight, { dtype }), labelSmoothing: 0.1 }),
      prediction: arr(p.logits, p, dtype),
      target: arr(p.soft, p, dtype),
    }),
  ],
  [
    'NLLLoss weight, int32 NDArray targets',
    (p, dtype) => ({
      loss: new NLLLoss({ weight: array(p.weight, { dtype }) }),
      prediction: arr(p.logits.map((x) => -Math.abs(x)), p, dtype),
      target: array(p.labels, { dtype: 'int32' }),
    }),
  ],
];

function arr(values: number[], p: Problem, dtype: FloatDType): NDArray {
  return array(values, { shape: p.shape, dtype });
}

describe('a training step at a steady batch size', () => {
  it('CrossEntropyLoss on [64, 10] logits with Int32Array targets allocates exactly one typed array: the gradient', () => {
    const p = problem(1, 64, 10);
    const logits = arr(p.logits, p, 'float32');
    const targets = Int32Array.from(p.labels.map((y) => Math.max(y, 0)));
    const ce = new CrossEntropyLoss();
    const step = (): NDArray => {
      ce.forward(logits, targets);
      return ce.backward();
    };
    step(); // the warm-up fills the scratch arrays
    let grad: NDArray | undefined;
    const counts = countTypedArrays(() => {
      grad = step();
    });
    expect(counts.owning, 'typed arrays with memory of their own').toBe(1);
    expect(counts.owningBytes).toBe((grad as NDArray).size * 4);
  });

  it('CrossEntropyLoss with int32 NDArray targets reads .data once: the loss value, never the logits or targets', () => {
    const p = problem(2, 64, 10);
    const logits = arr(p.logits, p, 'float32');
    const targets = array(p.labels, { dtype: 'int32' });
    const ce = new CrossEntropyLoss();
    const step = () => {
      ce.forward(logits, targets);
      ce.backward();
    };
    step();
    expect(countDataReads(step), 'reads of .data in forward + backward').toBe(1);
    const read = dataReads(step);
    expect(read).toHaveLength(1);
    expect(read[0]).not.toBe(logits);
    expect(read[0].storage).not.toBe(logits.storage);
    expect(read[0].storage).not.toBe(targets.storage);
  });

  describe.each(CASES)('%s', (_, make) => {
    it.each(['float32', 'float64'] as FloatDType[])('%s: one owning typed array (the gradient), one read (the loss value)', (dtype) => {
      const { loss, prediction, target } = make(problem(3, 16, 5), dtype);
      const step = () => {
        loss.forward(prediction, target as NDArray);
        loss.backward();
      };
      step();
      expect(countTypedArrays(step).owning).toBe(1);
      expect(countDataReads(step)).toBe(1);
    });

    it.each(['float32', 'float64'] as FloatDType[])('%s: off the host, js bit for bit, reading back only the loss value', (dtype) => {
      const p = problem(4, 16, 5);
      setBackend('js');
      const reference = make(p, dtype);
      const expectedValue = reference.loss.forward(reference.prediction, reference.target as NDArray);
      const expectedGrad = reference.loss.backward();

      const boxed = createBoxedBackend();
      setBackend(boxed);
      const device = make(p, dtype);
      boxed.readBacks = 0;
      const value = device.loss.forward(device.prediction, device.target as NDArray);
      const grad = device.loss.backward();
      expect(boxed.readBacks, 'read-backs in forward + backward').toBe(1);
      expect(grad.storage, 'the gradient lives in a box').not.toBeInstanceOf(Float32Array);
      expect(grad.storage).not.toBeInstanceOf(Float64Array);
      expect(value).toBe(expectedValue);
      setBackend(active);
      assertBitwiseEqual(grad.data, expectedGrad.data, 'gradient');
    });

    it.each(['float32', 'float64'] as FloatDType[])('%s: compute() is forward as a 0-d array on the host, and off the host reads nothing back', (dtype) => {
      const p = problem(5, 16, 5);
      setBackend('js');
      const reference = make(p, dtype);
      const expectedValue = reference.loss.forward(reference.prediction, reference.target as NDArray);
      const expectedGrad = reference.loss.backward();
      const onHost = make(p, dtype);
      const hostLoss = onHost.loss.compute(onHost.prediction, onHost.target as NDArray);
      expect(hostLoss.shape).toEqual([]);
      expect(hostLoss.dtype).toBe(dtype);
      expect(hostLoss.item(), 'the same value as forward, to the bit').toBe(expectedValue);
      assertBitwiseEqual(onHost.loss.backward().data, expectedGrad.data, 'gradient after compute');

      const boxed = createBoxedBackend();
      setBackend(boxed);
      const device = make(p, dtype);
      boxed.readBacks = 0;
      const loss = device.loss.compute(device.prediction, device.target as NDArray);
      const grad = device.loss.backward();
      expect(boxed.readBacks, 'read-backs in compute + backward').toBe(0);
      expect(loss.shape).toEqual([]);
      expect(ArrayBuffer.isView(loss.storage), 'the loss lives in a box').toBe(false);
      setBackend(active);
      // The device sums into the dtype and divides after: a rounding or two from forward's double arithmetic.
      const rtol = dtype === 'float32' ? 4e-7 : 1e-15;
      expect(Math.abs(loss.data[0] - expectedValue)).toBeLessThanOrEqual(rtol * Math.abs(expectedValue));
      const got = grad.data;
      const want = expectedGrad.data;
      const scale = Array.from(want).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `gradient[${i}]`).toBeLessThanOrEqual(rtol * scale);
    });
  });
});

/** The losses under reduction 'none', with their options switched on. */
const NONE_CASES: [string, (p: Problem, dtype: FloatDType) => { loss: Loss<'none'>; prediction: NDArray; target: unknown }][] = [
  ['MSELoss', (p, dtype) => ({ loss: new MSELoss({ reduction: 'none' }), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) })],
  ['L1Loss', (p, dtype) => ({ loss: new L1Loss({ reduction: 'none' }), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) })],
  [
    'SmoothL1Loss',
    (p, dtype) => ({ loss: new SmoothL1Loss({ reduction: 'none', beta: 0.5 }), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) }),
  ],
  ['HuberLoss', (p, dtype) => ({ loss: new HuberLoss({ reduction: 'none', delta: 2 }), prediction: arr(p.logits, p, dtype), target: arr(p.soft, p, dtype) })],
  [
    'BCELoss weight',
    (p, dtype) => ({
      loss: new BCELoss({ reduction: 'none', weight: array(p.weight, { dtype }) }),
      prediction: arr(p.probabilities, p, dtype),
      target: arr(p.soft, p, dtype),
    }),
  ],
  [
    'BCEWithLogitsLoss weight posWeight',
    (p, dtype) => ({
      loss: new BCEWithLogitsLoss({ reduction: 'none', weight: array(p.weight, { dtype }), posWeight: array(p.weight, { dtype }) }),
      prediction: arr(p.logits, p, dtype),
      target: arr(p.soft, p, dtype),
    }),
  ],
  [
    'CrossEntropyLoss weight labelSmoothing, int32 NDArray targets',
    (p, dtype) => ({
      loss: new CrossEntropyLoss({ reduction: 'none', weight: array(p.weight, { dtype }), labelSmoothing: 0.1 }),
      prediction: arr(p.logits, p, dtype),
      target: array(p.labels, { dtype: 'int32' }),
    }),
  ],
  [
    'CrossEntropyLoss weight labelSmoothing, probabilities',
    (p, dtype) => ({
      loss: new CrossEntropyLoss({ reduction: 'none', weight: array(p.weight, { dtype }), labelSmoothing: 0.1 }),
      prediction: arr(p.logits, p, dtype),
      target: arr(p.soft, p, dtype),
    }),
  ],
  [
    'NLLLoss weight, int32 NDArray targets',
    (p, dtype) => ({
      loss: new NLLLoss({ reduction: 'none', weight: array(p.weight, { dtype }) }),
      prediction: arr(p.logits.map((x) => -Math.abs(x)), p, dtype),
      target: array(p.labels, { dtype: 'int32' }),
    }),
  ],
];

describe("reduction 'none' at a steady batch size", () => {
  describe.each(NONE_CASES)('%s', (_, make) => {
    it.each(['float32', 'float64'] as FloatDType[])('%s: two owning typed arrays (the terms and the gradient), no reads', (dtype) => {
      const { loss, prediction, target } = make(problem(5, 16, 5), dtype);
      const outputGrad = loss.forward(prediction, target as NDArray).clone().fill(0.5);
      const step = () => {
        loss.forward(prediction, target as NDArray);
        loss.backward(outputGrad);
      };
      step();
      expect(countTypedArrays(step).owning).toBe(2);
      expect(countDataReads(step)).toBe(0);
    });

    it.each(['float32', 'float64'] as FloatDType[])('%s: off the host, js bit for bit, reading nothing back', (dtype) => {
      const p = problem(6, 16, 5);
      setBackend('js');
      const reference = make(p, dtype);
      const expectedTerms = reference.loss.forward(reference.prediction, reference.target as NDArray);
      const g = Array.from({ length: expectedTerms.size }, (_, i) => (i % 3) - 0.75);
      const expectedGrad = reference.loss.backward(array(g, { shape: expectedTerms.shape, dtype }));

      const boxed = createBoxedBackend();
      setBackend(boxed);
      const device = make(p, dtype);
      const outputGrad = array(g, { shape: expectedTerms.shape, dtype });
      boxed.readBacks = 0;
      const terms = device.loss.forward(device.prediction, device.target as NDArray);
      const grad = device.loss.backward(outputGrad);
      expect(boxed.readBacks, 'read-backs in forward + backward').toBe(0);
      expect(terms.storage, 'the terms live in a box').not.toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
      setBackend(active);
      assertBitwiseEqual(terms.data, expectedTerms.data, 'terms');
      assertBitwiseEqual(grad.data, expectedGrad.data, 'gradient');
    });
  });
});

describe('compute() off the host when nothing is counted', () => {
  it.each(['CrossEntropyLoss', 'NLLLoss'])("%s under 'mean' with every target ignored: a NaN loss and a zero gradient, as torch's", (name) => {
    setBackend(createBoxedBackend('boxed-ignored'));
    const loss = name === 'CrossEntropyLoss' ? new CrossEntropyLoss() : new NLLLoss();
    const value = loss.compute(array([[0.5, -1, 2], [1, 1, 1]]), array([-100, -100], { dtype: 'int32' }));
    const grad = loss.backward();
    setBackend(active);
    expect(value.data[0]).toBeNaN();
    expect(Array.from(grad.data).every((g) => Object.is(g, 0))).toBe(true);
  });
});
