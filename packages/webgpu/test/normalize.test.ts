/**
 * Softmax and its kin, layer normalisation and the negative log-likelihood on
 * WebGPU against the TypeScript kernels: each op runs on host copies with
 * `jsBackend` (float64 accumulation) and on uploads with the WGSL kernels,
 * along every axis, on empty and size-1 axes, on rows longer than a workgroup
 * and on rows side by side in memory.
 */
import {
  type NDArray,
  array,
  jsBackend,
  layerNorm,
  layerNormBackward,
  logSoftmax,
  logSoftmaxBackward,
  nllLoss,
  nllLossBackward,
  setBackend,
  softmax,
  softmaxBackward,
  zeros,
} from '@backprop/ndarray';
import { testRandom } from '@backprop/ndarray/test';
import { describe, expect, test } from 'vitest';
import { both, expectWithin, gpu, host, useGpu } from './reference';

useGpu();

/** Each element within rtol·|e| + atol of the reference (NaN where it is NaN, the same infinity where infinite). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): void {
  expectWithin(actual, expected, (j) => rtol * Math.abs(expected[j]) + atol);
}

/** Shapes with empty and size-1 axes, long rows (one workgroup each) and many short rows side by side. */
const SHAPES = [[7], [1], [3, 5], [2, 3, 4], [4, 1, 6], [0, 4], [3, 0], [2, 1000], [1, 3000], [300, 3], [2, 70, 9]];
const AXES: [string, number[], number][] = SHAPES.flatMap((shape) => shape.map((_, axis): [string, number[], number] => [`[${shape}] axis ${axis}`, shape, axis]));

describe('softmax, logSoftmax and their backward passes', () => {
  test.each(AXES)('%s', async (_, shape, axis) => {
    const x = host(shape, shape.length + axis, undefined, 4);
    const s = await both([x], (a) => [softmax(a, axis)]);
    expectClose(s.actual[0], s.expected[0], 1e-5, 1e-7);
    const l = await both([x], (a) => [logSoftmax(a, axis)]);
    expectClose(l.actual[0], l.expected[0], 1e-5, 1e-6);

    setBackend(jsBackend);
    const g = host(shape, 9);
    const y = softmax(x, axis);
    const sb = await both([g, y], (gr, out) => [softmaxBackward(gr, out, axis)]);
    expectClose(sb.actual[0], sb.expected[0], 1e-5, 1e-6);
    const ly = logSoftmax(x, axis);
    const lb = await both([g, ly], (gr, out) => [logSoftmaxBackward(gr, out, axis)]);
    expectClose(lb.actual[0], lb.expected[0], 1e-5, 1e-5);
  });

  test('rows of −∞, with +∞ or NaN are NaN; a −∞ element has probability 0', async () => {
    const inf = Number.POSITIVE_INFINITY;
    const rows = [
      [-inf, -inf, -inf],
      [1, inf, 2],
      [1, Number.NaN, 2],
      [-inf, 0, 0],
      [1e30, -1e30, 1e30],
    ];
    const x = array(Float32Array.from(rows.flat()), { shape: [5, 3] });
    for (const op of [softmax, logSoftmax]) {
      const r = await both([x], (a) => [op(a, 1)]);
      expectClose(r.actual[0], r.expected[0], 1e-6, 1e-7);
      expect(Array.from(r.actual[0].slice(0, 9)).every(Number.isNaN), op.name).toBe(true);
    }
    const r = await both([x], (a) => [softmax(a, 1)]);
    expect(Array.from(r.actual[0].slice(9))).toEqual([0, 0.5, 0.5, 0.5, 0, 0.5]);
  });

  test('in place: out is the input', async () => {
    const x = host([4, 50], 3, undefined, 3);
    setBackend(jsBackend);
    const expected = softmax(x, 1).data;
    setBackend(gpu());
    const a = array(x.data, { shape: x.shape });
    softmax(a, 1, a);
    setBackend(jsBackend);
    expectClose(await a.toHost(), expected, 1e-5, 1e-7);
  });
});

describe('layerNorm and its backward pass', () => {
  const cases: [string, number[], number[]][] = [
    ['[4, 10] over [10]', [4, 10], [10]],
    ['[2, 3, 8] over [3, 8]', [2, 3, 8], [3, 8]],
    ['[2, 3, 8] over [8]', [2, 3, 8], [8]],
    ['[1, 3000] over [3000]', [1, 3000], [3000]],
    ['[5, 1] over [1]', [5, 1], [1]],
    ['[3000, 4] over [4]', [3000, 4], [4]],
    ['[0, 4] over [4]', [0, 4], [4]],
    ['[3, 0] over [0]: NaN statistics', [3, 0], [0]],
    ['[7] over [7]', [7], [7]],
  ];
  test.each(cases)('%s', async (_, shape, normalized) => {
    // An offset mean, so the two-pass variance matters.
    const x = host(shape, 2, (_i, r) => 3 + 2 * r());
    const w = host(normalized, 3);
    const b = host(normalized, 4);
    for (const affine of [false, true]) {
      const r = await both([x, w, b], (a, weight, bias) => {
        const { output, mean, invStd } = layerNorm(a, normalized, affine ? { weight, bias, eps: 1e-3 } : {});
        return [output, mean, invStd];
      });
      const [outTol, meanTol, invTol] = [1e-4, 1e-6, 1e-5];
      expectClose(r.actual[0], r.expected[0], outTol, 1e-5);
      expectClose(r.actual[1], r.expected[1], meanTol, 1e-7);
      expectClose(r.actual[2], r.expected[2], invTol, 1e-7);
    }

    setBackend(jsBackend);
    const g = host(shape, 5);
    const { mean, invStd } = layerNorm(x, normalized);
    const dW0 = host(normalized, 6);
    const dB0 = host(normalized, 7);
    for (const affine of [false, true]) {
      const r = await both([g, x, mean, invStd, w, dW0, dB0], (gr, a, m, s, weight, dW, dB) => {
        const dx = layerNormBackward(gr, a, { mean: m, invStd: s }, affine ? { weight, weightGrad: dW, biasGrad: dB } : {});
        return [dx!, dW, dB];
      });
      // dx's terms cancel: held to its row's scale, |inv|·|g|; the weight and bias gradients add Σ over rows into them.
      expectClose(r.actual[0], r.expected[0], 1e-4, 1e-4);
      const rows = shape.reduce((n, d) => n * d, 1) / Math.max(1, normalized.reduce((n, d) => n * d, 1));
      expectClose(r.actual[1], r.expected[1], 1e-5, 1e-5 * Math.max(1, rows));
      expectClose(r.actual[2], r.expected[2], 1e-5, 1e-5 * Math.max(1, rows));
      if (!affine) expect(Array.from(r.actual[1])).toEqual(Array.from(dW0.data));
    }
  });

  test('only the affine gradients (no dx)', async () => {
    const [x, g, w] = [host([6, 5], 1), host([6, 5], 2), host([5], 3)];
    setBackend(jsBackend);
    const { mean, invStd } = layerNorm(x, [5]);
    const r = await both([g, x, mean, invStd, w], (gr, a, m, s, weight) => {
      const dW = zeros([5]);
      const dB = zeros([5]);
      expect(layerNormBackward(gr, a, { mean: m, invStd: s }, { weight, weightGrad: dW, biasGrad: dB, inputGrad: false })).toBeUndefined();
      return [dW, dB];
    });
    expectClose(r.actual[0], r.expected[0], 1e-5, 1e-6);
    expectClose(r.actual[1], r.expected[1], 1e-5, 1e-6);
  });
});

describe('nllLoss and its backward pass', () => {
  /** Class targets for rows of `classes`: every fifth ignored (−100 or −1). */
  function targets(shape: number[], classes: number, seed: number): NDArray {
    const r = testRandom(seed);
    const size = shape.reduce((n, d) => n * d, 1);
    return array(
      Int32Array.from({ length: size }, (_, i) => (i % 5 === 3 ? (i % 2 === 0 ? -100 : -1) : Math.floor(r() * classes))),
      { shape },
    );
  }
  const cases: [string, number[], number][] = [
    ['[8, 5] axis 1', [8, 5], 1],
    ['[5] axis 0 (unbatched)', [5], 0],
    ['[4, 3, 6] axis 1', [4, 3, 6], 1],
    ['[3, 2, 7] axis 2', [3, 2, 7], 2],
    ['[3000, 5] axis 1 (partial sums)', [3000, 5], 1],
    ['[0, 4] axis 1', [0, 4], 1],
  ];
  test.each(cases)('%s', async (_, shape, axis) => {
    const input = host(shape, 2, (_i, r) => Math.log(0.01 + r()));
    const target = targets(
      shape.filter((__, d) => d !== axis),
      shape[axis],
      3,
    );
    const weight = host([shape[axis]], 4, (_i, r) => 0.5 + r());
    const rows = target.size;
    for (const weighted of [false, true]) {
      // The sums: float64 on the host, float32 on the GPU (which has no float64).
      const sums = await both([input, target, weight], (a, tg, wt) => [nllLoss(a, tg, { axis, ...(weighted && { weight: wt }) })]);
      expect(sums.actual[0]).toBeInstanceOf(Float32Array);
      // Sums of |terms| up to 1.5·|log 0.01| per class and row: float32's bound for the tree.
      expectClose(sums.actual[0], sums.expected[0], 1e-6, 64 * 2 ** -24 * 1.5 * 4.7 * shape[axis] * rows + 1e-30);

      for (const labelSmoothing of [0, 0.1]) {
        for (const scale of [0.25, -2]) {
          const r = await both([input, target, weight], (a, tg, wt) => [
            nllLossBackward(a, tg, scale, { axis, labelSmoothing, ...(weighted && { weight: wt }) }),
          ]);
          expectClose(r.actual[0], r.expected[0], 1e-6, 0);
          // Ignored rows and zero coefficients are +0, whatever scale's sign.
          r.expected[0].forEach((e, i) => {
            if (e === 0) expect(Object.is(r.actual[0][i], 0), `element ${i}`).toBe(true);
          });
        }
      }
    }
  });
});
