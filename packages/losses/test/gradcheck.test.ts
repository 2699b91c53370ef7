import { type NDArray, array } from '@backprop/ndarray';
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
  SmoothL1Loss,
} from '../src/index';
import { numericGradient, randomArray, testRandom } from '@backprop/ndarray/test';

/**
 * Compares backward() with central finite differences of forward() in float64.
 * The bound is relative to the larger of the element and the gradient's scale,
 * since finite differences carry an absolute error of about h² · f‴ + ε·f/h.
 */
function gradcheck(loss: Loss, prediction: NDArray, target: LossTarget, outputGrad = 1): void {
  const f = (x: NDArray) => outputGrad * loss.forward(x, target);
  const numeric = numericGradient(f, prediction);
  loss.forward(prediction, target);
  compare(loss.backward(outputGrad), numeric, prediction);
}

/**
 * The same for reduction 'none': forward returns the terms ℓ, backward(g) is
 * d(Σ gᵢ·ℓᵢ)/dPrediction for a seeded random g of ℓ's shape, checked against
 * finite differences of Σ gᵢ·ℓᵢ.
 */
function gradcheckNone(loss: Loss<'none'>, prediction: NDArray, target: LossTarget, seed: number): void {
  const terms = loss.forward(prediction, target);
  const outputGrad = randomArray(terms.shape, 'float64', testRandom(seed), -2, 2);
  const f = (x: NDArray) => {
    const t = loss.forward(x, target);
    let total = 0;
    for (let i = 0; i < t.size; i++) total += outputGrad.data[i] * t.data[i];
    return total;
  };
  const numeric = numericGradient(f, prediction);
  loss.forward(prediction, target);
  compare(loss.backward(outputGrad), numeric, prediction);
}

function compare(analytic: NDArray, numeric: Float64Array, prediction: NDArray): void {
  expect(analytic.shape).toEqual(prediction.shape);
  expect(analytic.dtype).toBe('float64');
  let scale = 0;
  for (const v of numeric) scale = Math.max(scale, Math.abs(v));
  expect(scale).toBeGreaterThan(0);
  for (let i = 0; i < numeric.length; i++) {
    const error = Math.abs(analytic.data[i] - numeric[i]) / Math.max(Math.abs(numeric[i]), scale * 1e-2);
    expect(error, `element ${i}: analytic ${analytic.data[i]}, numeric ${numeric[i]}`).toBeLessThan(1e-6);
  }
}

/** Random pairs whose difference stays at least `gap` away from ±kink (and 0 when kink is 0). */
function awayFromKink(shape: number[], kink: number, gap: number, seed: number): [NDArray, NDArray] {
  const next = testRandom(seed);
  const p = randomArray(shape, 'float64', next, -2, 2);
  const y = randomArray(shape, 'float64', next, -2, 2);
  for (let i = 0; i < p.size; i++) {
    while (Math.abs(Math.abs(p.data[i] - y.data[i]) - kink) < gap) y.data[i] = -2 + 4 * next();
  }
  return [p, y];
}

describe('gradients match central finite differences (float64)', () => {
  for (const reduction of ['mean', 'sum'] as const) {
    it(`MSELoss ${reduction}`, () => {
      const [p, y] = awayFromKink([3, 4], 0, 0, 1);
      gradcheck(new MSELoss({ reduction }), p, y);
    });
    it(`L1Loss ${reduction}`, () => {
      const [p, y] = awayFromKink([3, 4], 0, 1e-3, 2);
      gradcheck(new L1Loss({ reduction }), p, y);
    });
    for (const beta of [0, 0.5, 1, 2]) {
      it(`SmoothL1Loss beta ${beta} ${reduction}`, () => {
        const [p, y] = awayFromKink([3, 4], beta, 1e-3, 3 + beta);
        gradcheck(new SmoothL1Loss({ reduction, beta }), p, y);
      });
    }
    for (const delta of [0.5, 1, 2]) {
      it(`HuberLoss delta ${delta} ${reduction}`, () => {
        const [p, y] = awayFromKink([3, 4], delta, 1e-3, 7 + delta);
        gradcheck(new HuberLoss({ reduction, delta }), p, y);
      });
    }
    it(`BCELoss ${reduction}, with and without a broadcast weight`, () => {
      const next = testRandom(11);
      const p = randomArray([4, 3], 'float64', next, 0.05, 0.95);
      const y = randomArray([4, 3], 'float64', next, 0, 1);
      gradcheck(new BCELoss({ reduction }), p, y);
      gradcheck(new BCELoss({ reduction, weight: randomArray([3], 'float64', next, 0.5, 2) }), p, y);
      gradcheck(new BCELoss({ reduction, weight: randomArray([4, 1], 'float64', next, 0.5, 2) }), p, y);
    });
    it(`BCEWithLogitsLoss ${reduction}, with weight and posWeight`, () => {
      const next = testRandom(12);
      const x = randomArray([4, 3], 'float64', next, -4, 4);
      const y = randomArray([4, 3], 'float64', next, 0, 1);
      gradcheck(new BCEWithLogitsLoss({ reduction }), x, y);
      const weight = randomArray([3], 'float64', next, 0.5, 2);
      const posWeight = randomArray([3], 'float64', next, 0.2, 3);
      gradcheck(new BCEWithLogitsLoss({ reduction, posWeight }), x, y);
      gradcheck(new BCEWithLogitsLoss({ reduction, weight, posWeight }), x, y);
    });
    for (const labelSmoothing of [0, 0.1]) {
      it(`CrossEntropyLoss ${reduction} labelSmoothing ${labelSmoothing}: indices, weights, ignoreIndex`, () => {
        const next = testRandom(13);
        const x = randomArray([5, 4], 'float64', next, -3, 3);
        const weight = randomArray([4], 'float64', next, 0.3, 2);
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing }), x, [0, 3, 1, 1, 2]);
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing, weight }), x, [0, 3, 1, 1, 2]);
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing, weight }), x, [0, -100, 1, -100, 2]);
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing, weight, ignoreIndex: 1 }), x, [0, 3, 1, 1, 2]);
      });
      it(`CrossEntropyLoss ${reduction} labelSmoothing ${labelSmoothing}: probabilities, unbatched, K-dim`, () => {
        const next = testRandom(14);
        const x = randomArray([5, 4], 'float64', next, -3, 3);
        const q = randomArray([5, 4], 'float64', next, 0, 1);
        for (let r = 0; r < 5; r++) {
          let s = 0;
          for (let c = 0; c < 4; c++) s += q.data[r * 4 + c];
          for (let c = 0; c < 4; c++) q.data[r * 4 + c] /= s;
        }
        const weight = randomArray([4], 'float64', next, 0.3, 2);
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing }), x, q);
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing, weight }), x, q);
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing, weight }), randomArray([4], 'float64', next, -3, 3), 2);
        const xk = randomArray([2, 4, 3], 'float64', next, -3, 3);
        const tk = array([0, 3, -100, 2, 1, 1], { shape: [2, 3], dtype: 'float64' });
        gradcheck(new CrossEntropyLoss({ reduction, labelSmoothing, weight }), xk, tk);
      });
    }
    it(`NLLLoss ${reduction}: weights, ignoreIndex, K-dim`, () => {
      const next = testRandom(15);
      const x = randomArray([5, 4], 'float64', next, -3, 0);
      const weight = randomArray([4], 'float64', next, 0.3, 2);
      gradcheck(new NLLLoss({ reduction }), x, [0, 3, 1, 1, 2]);
      gradcheck(new NLLLoss({ reduction, weight }), x, Int32Array.from([0, -100, 1, 3, 2]));
      gradcheck(new NLLLoss({ reduction, weight }), randomArray([2, 4, 3], 'float64', next, -3, 0), array([0, 3, 2, 2, 1, 1], { shape: [2, 3], dtype: 'float64' }));
    });
  }

  it('CrossEntropyLoss and NLLLoss on [N, C, d1, d2] with int32 targets, every reduction', () => {
    const next = testRandom(17);
    const x = randomArray([2, 3, 2, 2], 'float64', next, -3, 3);
    const weight = randomArray([3], 'float64', next, 0.3, 2);
    const t = array([0, 2, -100, 1, 1, 0, 2, -100], { shape: [2, 2, 2], dtype: 'int32' });
    const q = softmaxRows(randomArray([2, 3, 2, 2], 'float64', next, -2, 2));
    for (const reduction of ['mean', 'sum'] as const) {
      gradcheck(new CrossEntropyLoss({ reduction, weight, labelSmoothing: 0.1 }), x, t);
      gradcheck(new CrossEntropyLoss({ reduction, weight, labelSmoothing: 0.1 }), x, q);
      gradcheck(new NLLLoss({ reduction, weight }), x, t);
    }
    gradcheckNone(new CrossEntropyLoss({ reduction: 'none', weight, labelSmoothing: 0.1 }), x, t, 18);
    gradcheckNone(new CrossEntropyLoss({ reduction: 'none', weight, labelSmoothing: 0.1 }), x, q, 19);
    gradcheckNone(new NLLLoss({ reduction: 'none', weight }), x, t, 20);
  });

  it('backward(outputGrad) scales the gradient, as loss.backward(gradient) in PyTorch', () => {
    const next = testRandom(16);
    const x = randomArray([3, 4], 'float64', next, -2, 2);
    gradcheck(new CrossEntropyLoss({ labelSmoothing: 0.1 }), x, [1, 0, 3], -2.5);
    gradcheck(new MSELoss(), x, randomArray([3, 4], 'float64', next, -2, 2), 0.25);
  });
});

/** q normalised to sum to 1 along axis 1 (class probabilities of q's shape). */
function softmaxRows(q: NDArray): NDArray {
  const [n, c] = q.shape;
  const inner = q.size / (n * c);
  const out = q.clone();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inner; k++) {
      let s = 0;
      for (let j = 0; j < c; j++) s += Math.exp(q.data[(i * c + j) * inner + k]);
      for (let j = 0; j < c; j++) out.data[(i * c + j) * inner + k] = Math.exp(q.data[(i * c + j) * inner + k]) / s;
    }
  }
  return out;
}

describe("reduction 'none': backward(g) matches finite differences of Σ g·ℓ (float64)", () => {
  const none = 'none' as const;
  it('MSELoss, L1Loss, SmoothL1Loss, HuberLoss', () => {
    gradcheckNone(new MSELoss({ reduction: none }), ...awayFromKink([3, 4], 0, 0, 21), 22);
    gradcheckNone(new L1Loss({ reduction: none }), ...awayFromKink([2, 3, 2], 0, 1e-3, 23), 24);
    for (const beta of [0, 0.5, 2]) gradcheckNone(new SmoothL1Loss({ reduction: none, beta }), ...awayFromKink([3, 4], beta, 1e-3, 25 + beta), 26);
    for (const delta of [0.5, 2]) gradcheckNone(new HuberLoss({ reduction: none, delta }), ...awayFromKink([3, 4], delta, 1e-3, 27 + delta), 28);
    // A 0-d prediction gives a 0-d loss.
    gradcheckNone(new MSELoss({ reduction: none }), array(0.75, { dtype: 'float64' }), array(-0.5, { dtype: 'float64' }), 29);
  });
  it('BCELoss and BCEWithLogitsLoss with weight and posWeight', () => {
    const next = testRandom(30);
    const p = randomArray([4, 3], 'float64', next, 0.05, 0.95);
    const x = randomArray([4, 3], 'float64', next, -4, 4);
    const y = randomArray([4, 3], 'float64', next, 0, 1);
    const weight = randomArray([4, 1], 'float64', next, 0.5, 2);
    const posWeight = randomArray([3], 'float64', next, 0.2, 3);
    gradcheckNone(new BCELoss({ reduction: none }), p, y, 31);
    gradcheckNone(new BCELoss({ reduction: none, weight }), p, y, 32);
    gradcheckNone(new BCEWithLogitsLoss({ reduction: none }), x, y, 33);
    gradcheckNone(new BCEWithLogitsLoss({ reduction: none, weight, posWeight }), x, y, 34);
  });
  for (const labelSmoothing of [0, 0.1]) {
    it(`CrossEntropyLoss labelSmoothing ${labelSmoothing}: indices, weight, ignoreIndex, probabilities, unbatched, K-dim`, () => {
      const next = testRandom(35);
      const x = randomArray([5, 4], 'float64', next, -3, 3);
      const weight = randomArray([4], 'float64', next, 0.3, 2);
      const q = softmaxRows(randomArray([5, 4], 'float64', next, -2, 2));
      gradcheckNone(new CrossEntropyLoss({ reduction: none, labelSmoothing }), x, [0, 3, 1, 1, 2], 36);
      gradcheckNone(new CrossEntropyLoss({ reduction: none, labelSmoothing, weight }), x, [0, -100, 1, -100, 2], 37);
      gradcheckNone(new CrossEntropyLoss({ reduction: none, labelSmoothing, weight, ignoreIndex: 1 }), x, Int32Array.from([0, 3, 1, 1, 2]), 38);
      gradcheckNone(new CrossEntropyLoss({ reduction: none, labelSmoothing, weight }), x, q, 39);
      gradcheckNone(new CrossEntropyLoss({ reduction: none, labelSmoothing, weight }), randomArray([4], 'float64', next, -3, 3), 2, 40);
      gradcheckNone(new CrossEntropyLoss({ reduction: none, labelSmoothing }), randomArray([4], 'float64', next, -3, 3), softmaxRows(randomArray([1, 4], 'float64', next)).reshape([4]), 41);
      const xk = randomArray([2, 4, 3], 'float64', next, -3, 3);
      const tk = array([0, 3, -100, 2, 1, 1], { shape: [2, 3], dtype: 'float64' });
      gradcheckNone(new CrossEntropyLoss({ reduction: none, labelSmoothing, weight }), xk, tk, 42);
    });
  }
  it('NLLLoss: weight, ignoreIndex, unbatched, K-dim', () => {
    const next = testRandom(43);
    const x = randomArray([5, 4], 'float64', next, -3, 0);
    const weight = randomArray([4], 'float64', next, 0.3, 2);
    gradcheckNone(new NLLLoss({ reduction: none }), x, [0, 3, 1, 1, 2], 44);
    gradcheckNone(new NLLLoss({ reduction: none, weight }), x, Int32Array.from([0, -100, 1, 3, 2]), 45);
    gradcheckNone(new NLLLoss({ reduction: none, weight }), randomArray([4], 'float64', next, -3, 0), 1, 46);
    const xk = randomArray([2, 4, 3, 2], 'float64', next, -3, 0);
    gradcheckNone(new NLLLoss({ reduction: none, weight, ignoreIndex: 3 }), xk, array([0, 3, 2, 2, 1, 1, 3, 0, 1, 2, 0, 1], { shape: [2, 3, 2], dtype: 'int32' }), 47);
  });
});
