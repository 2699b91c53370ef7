import { NDArray, array } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { CrossEntropyLoss, NLLLoss } from '../src/index';
import { assertClose, assertNumberClose, randomArray, relativeError, testRandom } from '@backprop/ndarray/test';

const f64 = (values: number[], shape?: number[]) => array(values, { dtype: 'float64', shape: shape ?? [values.length] });

/** log-softmax along dimension 1 (or 0 for [C]), computed directly for cross-checks. */
function logSoftmax(x: NDArray): NDArray {
  const C = x.ndim === 1 ? x.shape[0] : x.shape[1];
  const inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const outer = x.ndim === 1 ? 1 : x.shape[0];
  const out = new Float64Array(x.size);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < inner; s++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) max = Math.max(max, x.data[o * C * inner + c * inner + s]);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(x.data[o * C * inner + c * inner + s] - max);
      for (let c = 0; c < C; c++) {
        const k = o * C * inner + c * inner + s;
        out[k] = x.data[k] - max - Math.log(sum);
      }
    }
  }
  return new NDArray(out, x.shape);
}

describe('CrossEntropyLoss', () => {
  it('uniform logits cost log C with or without label smoothing; the gradient is (1/C − q)/B', () => {
    const x = f64(new Array(8).fill(0.5), [2, 4]);
    for (const labelSmoothing of [0, 0.2]) {
      const ce = new CrossEntropyLoss({ labelSmoothing });
      expect(ce.forward(x, [1, 3])).toBeCloseTo(Math.log(4), 15);
      const grad = ce.backward();
      const q = (c: number, y: number) => (1 - labelSmoothing) * (c === y ? 1 : 0) + labelSmoothing / 4;
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < 4; c++) {
          expect(grad.get(r, c)).toBeCloseTo((0.25 - q(c, [1, 3][r])) / 2, 15);
        }
      }
    }
  });

  it('every form of class-index target gives the same loss and gradient', () => {
    const x = randomArray([6, 5], 'float64', testRandom(1), -3, 3);
    const labels = [0, 4, 2, 2, 1, 3];
    const forms = [
      labels,
      Int32Array.from(labels),
      Uint8Array.from(labels),
      Int8Array.from(labels),
      Uint16Array.from(labels),
      BigInt64Array.from(labels.map(BigInt)),
      f64(labels),
      array(labels, { dtype: 'float32' }),
    ];
    const ce = new CrossEntropyLoss({ labelSmoothing: 0.1 });
    const reference = ce.forward(x, labels);
    const referenceGrad = Array.from(ce.backward().data);
    for (const target of forms) {
      expect(ce.forward(x, target)).toBe(reference);
      expect(Array.from(ce.backward().data)).toEqual(referenceGrad);
    }
  });

  it('one-hot probability targets equal index targets (with weights and smoothing: the mean divisor differs)', () => {
    const x = randomArray([4, 3], 'float64', testRandom(2), -3, 3);
    const labels = [2, 0, 1, 1];
    const onehot = f64(labels.flatMap((y) => [0, 1, 2].map((c) => (c === y ? 1 : 0))), [4, 3]);
    for (const labelSmoothing of [0, 0.3]) {
      const a = new CrossEntropyLoss({ labelSmoothing });
      const b = new CrossEntropyLoss({ labelSmoothing });
      expect(a.forward(x, labels)).toBeCloseTo(b.forward(x, onehot), 14);
      const ga = a.backward();
      const gb = b.backward();
      for (let i = 0; i < ga.size; i++) expect(ga.data[i]).toBeCloseTo(gb.data[i], 15);
    }
  });

  it('equals NLLLoss after a log-softmax, for [B, C], [C] and [B, C, d1, d2]', () => {
    const next = testRandom(3);
    const weight = randomArray([3], 'float64', next, 0.5, 2);
    const cases: [NDArray, NDArray | number][] = [
      [randomArray([5, 3], 'float64', next, -3, 3), f64([0, 2, -100, 1, 1])],
      [randomArray([3], 'float64', next, -3, 3), 2],
      [randomArray([2, 3, 2, 2], 'float64', next, -3, 3), f64([0, 1, 2, 2, 1, -100, 0, 0], [2, 2, 2])],
    ];
    for (const [x, t] of cases) {
      const ce = new CrossEntropyLoss({ weight });
      const nll = new NLLLoss({ weight });
      const logp = logSoftmax(x);
      expect(relativeError([ce.forward(x, t)], [nll.forward(logp, t)]).error).toBeLessThan(1e-14);
      // d(NLL ∘ logsoftmax)/dx = g − softmax·Σg, row by row.
      const g = nll.backward();
      const ceGrad = ce.backward();
      const C = x.ndim === 1 ? x.shape[0] : x.shape[1];
      const inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
      for (let o = 0; o < x.size / (C * inner); o++) {
        for (let s = 0; s < inner; s++) {
          let sum = 0;
          for (let c = 0; c < C; c++) sum += g.data[o * C * inner + c * inner + s];
          for (let c = 0; c < C; c++) {
            const k = o * C * inner + c * inner + s;
            expect(ceGrad.data[k]).toBeCloseTo(g.data[k] - Math.exp(logp.data[k]) * sum, 15);
          }
        }
      }
    }
  });

  it('is finite for extreme logits and saturates the gradient exactly', () => {
    const ce = new CrossEntropyLoss({ reduction: 'sum' });
    // Row 0 is certain and right (0); row 1 puts half each on classes 1 and 2: 2e4 + log 2.
    expect(ce.forward(f64([1e4, -1e4, 0, -1e4, 1e4, 1e4], [2, 3]), [0, 0])).toBeCloseTo(2e4 + Math.LN2, 10);
    expect(Array.from(ce.backward().data)).toEqual([0, 0, 0, -1, 0.5, 0.5]);
  });

  it('float32 logits 6e38 apart: log p is −∞ for a class that is not the target, and costs nothing, as in torch', () => {
    const x = array([[3e38, -3e38, 0], [1, 2, 3]], { dtype: 'float32' });
    const ce = new CrossEntropyLoss({ reduction: 'sum' });
    // torch 1.13: F.cross_entropy(x, [0, 2], reduction='sum') and its gradient.
    assertNumberClose(ce.forward(x, [0, 2]), 0.40760594606399536, 'float32', 'loss');
    assertClose(ce.backward(), array([[0, 0, 0], [0.09003058075904846, 0.24472849071025848, -0.334758996963501]], { dtype: 'float32' }), 'gradient');
    // With smoothing every class is a target: torch's loss is ∞ and its gradient finite.
    const smooth = new CrossEntropyLoss({ reduction: 'sum', labelSmoothing: 0.1 });
    expect(smooth.forward(x, [0, 2])).toBe(Number.POSITIVE_INFINITY);
    const torchGrad = [
      [0.06666666269302368, -0.03333333507180214, -0.03333333507180214],
      [0.05669724568724632, 0.21139515936374664, -0.2680923342704773],
    ];
    assertClose(smooth.backward(), array(torchGrad, { dtype: 'float32' }), 'smoothed gradient');
  });

  it("float32 rounds after every op, as torch's float32 kernels, and stays within the float32 tolerance of float64", () => {
    const next = testRandom(4);
    const x32 = randomArray([64, 10], 'float64', next, -6, 6).astype('float32');
    const x64 = x32.astype('float64');
    const labels = Array.from({ length: 64 }, () => Math.floor(next() * 10));
    const q = randomArray([64, 10], 'float64', next, 0, 1).astype('float32');
    const weight = randomArray([10], 'float64', next, 0.5, 2);
    for (const [target32, target64] of [[labels, labels], [q, q.astype('float64')]] as const) {
      const a = new CrossEntropyLoss({ labelSmoothing: 0.1, weight: weight.astype('float32') });
      const b = new CrossEntropyLoss({ labelSmoothing: 0.1, weight: weight.astype('float32').astype('float64') });
      const value32 = a.forward(x32, target32);
      const value64 = b.forward(x64, target64);
      expect(value32).toBe(Math.fround(value32));
      assertNumberClose(value32, value64, 'float32', 'loss');
      const g32 = a.backward();
      expect(g32.dtype).toBe('float32');
      assertClose(g32, b.backward().astype('float32'), 'gradient');
    }
  });

  it('keeps its scratch buffers between steps but never the returned gradient', () => {
    const ce = new CrossEntropyLoss();
    const next = testRandom(5);
    const x1 = randomArray([8, 4], 'float64', next, -2, 2);
    const x2 = randomArray([8, 4], 'float64', next, -2, 2);
    ce.forward(x1, [0, 1, 2, 3, 0, 1, 2, 3]);
    const g1 = ce.backward();
    const kept = Array.from(g1.data);
    ce.forward(x2, [3, 2, 1, 0, 3, 2, 1, 0]);
    const g2 = ce.backward();
    expect(Array.from(g1.data)).toEqual(kept);
    expect(g2).not.toBe(g1);
    // A smaller batch after a larger one reuses the buffers correctly.
    ce.forward(f64([0, 0, 0, 0], [1, 4]), [2]);
    expect(Array.from(ce.backward().data)).toEqual([0.25, 0.25, -0.75, 0.25]);
  });

  it('ignoreIndex may be a valid class; ignored rows get zero gradient', () => {
    const x = randomArray([3, 3], 'float64', testRandom(6), -2, 2);
    const ce = new CrossEntropyLoss({ ignoreIndex: 1 });
    const all = new CrossEntropyLoss();
    // Only rows 0 and 2 count, so the mean is over 2.
    const value = ce.forward(x, [0, 1, 2]);
    const rows02 = all.forward(f64([...Array.from(x.data.slice(0, 3)), ...Array.from(x.data.slice(6, 9))], [2, 3]), [0, 2]);
    expect(value).toBeCloseTo(rows02, 15);
    expect(Array.from(ce.backward().data.slice(3, 6))).toEqual([0, 0, 0]);
  });
});
