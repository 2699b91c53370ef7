import type { DType } from '@backprop/ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { type Comparison, describeCase, loadCases, runCase, tolerance } from './parity';

const cases = loadCases();
const worstByDType = new Map<DType, { name: string; comparison: Comparison }>();

function format(c: Comparison): string {
  const w = c.worst;
  const where = `step ${c.step + 1}, ${c.what}`;
  if (c.problem) return `${where}: ${c.problem}`;
  return `${where}: relative error ${w.error.toExponential(2)} at flat index ${w.index} (got ${w.actual}, PyTorch ${w.expected})`;
}

describe('training against PyTorch, step by step', () => {
  it('has the cases tools/torch-fixtures/parity.py writes, in both dtypes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.dtype))).toEqual(new Set(['float32', 'float64']));
  });

  // The harness itself: a case changed on our side only must fail, at the first quantity it changes.
  it('reports the first step and quantity that differ', () => {
    // float64, and a loss over several elements, so that 'mean' and 'sum' differ
    const c = cases.find(
      (k) => k.dtype === 'float64' && k.steps[0].output.data.length > 1 && /^(MSE|L1|SmoothL1|Huber)Loss$/.test(k.loss.type),
    )!;
    const options = c.optimizer.options as { lr: number };
    const slower = runCase({ ...c, optimizer: { ...c.optimizer, options: { ...options, lr: options.lr * (1 + 1e-6) } } });
    expect(slower.firstFailure?.step).toBe(0);
    expect(slower.firstFailure?.what).toMatch(/^param /);
    const other = c.loss.options.reduction === 'sum' ? 'mean' : 'sum';
    const reduced = runCase({ ...c, loss: { ...c.loss, options: { ...c.loss.options, reduction: other } } });
    expect(reduced.firstFailure).toMatchObject({ step: 0, what: 'loss' });
  });

  for (const c of cases) {
    it(c.name, () => {
      const result = runCase(c);
      const previous = worstByDType.get(c.dtype);
      if (!previous || result.worst.worst.error > previous.comparison.worst.error) {
        worstByDType.set(c.dtype, { name: c.name, comparison: result.worst });
      }
      if (result.firstFailure) {
        expect.fail(
          `${c.name}: first difference over ${tolerance(c.dtype)} at ${format(result.firstFailure)}\n` +
            `case: ${describeCase(c)}`,
        );
      }
      expect(result.worst.worst.error).toBeLessThan(tolerance(c.dtype));
    });
  }

  afterAll(() => {
    for (const [dtype, { name, comparison }] of worstByDType) {
      console.log(`worst ${dtype} error over ${cases.length} cases: ${name}, ${format(comparison)}`);
    }
  });
});
