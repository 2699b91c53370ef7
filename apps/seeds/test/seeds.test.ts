import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { array, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { ElementwiseWeights } from '../src/elementwise-weights';
import { HalfSumSquaredError } from '../src/half-sum-squared-error';
import { NOTEBOOKS } from '../src/notebooks/index';
import { passed, printedRow, renderReport, valueRow } from '../src/report';

describe('every seed notebook reproduces', () => {
  for (const run of NOTEBOOKS) {
    const report = run();
    describe(`${report.id}: ${report.title}`, () => {
      for (const row of report.rows) {
        it(row.quantity, () => {
          expect(row.maxError, `${row.quantity}: notebook ${row.notebook}, ours ${row.ours}`).toBeLessThanOrEqual(row.tolerance);
        });
      }
    });
  }
});

describe('the report', () => {
  it('flags a mismatch', () => {
    const off = valueRow('q', array([1, 2], { dtype: 'float64' }), array([1, 2.001], { dtype: 'float64' }));
    expect(passed(off)).toBe(false);
    expect(passed(printedRow('p', '0.1', '0.10'))).toBe(false);
    expect(renderReport({ id: 'x', title: 't', rows: [off], notes: [] })).toContain('MISMATCH');
  });

  it('the start script prints every notebook and exits 0', () => {
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const out = execFileSync(process.execPath, [tsx, 'src/main.ts'], { encoding: 'utf8' });
    for (const id of ['000', '001', '002', '003', '004']) expect(out).toContain(`${id}  `);
    expect(out).toMatch(/All \d+ quantities of 5 notebooks reproduced\./);
  });
});

describe('the custom layer and loss of notebook 001', () => {
  it('ElementwiseWeights accumulates its gradient and checks its input', () => {
    const layer = new ElementwiseWeights(array([2, 3], { dtype: 'float64' }));
    const x = array([[1, 1], [2, 0]], { dtype: 'float64' });
    expect(layer.forward(x).toArray()).toEqual([[2, 3], [4, 0]]);
    expect(layer.backward(array([[1, 1], [1, 1]], { dtype: 'float64' })).toArray()).toEqual([[2, 3], [2, 3]]);
    layer.backward(array([[1, 1], [1, 1]], { dtype: 'float64' }));
    expect(Array.from(layer.weight.grad.data)).toEqual([6, 2]);
    expect(() => layer.forward(zeros([2, 3], { dtype: 'float64' }))).toThrow('ElementwiseWeights(2): expected input whose last dimension is 2, got [2, 3]');
  });
  it('HalfSumSquaredError is ½Σ(a − y)² with gradient a − y', () => {
    const loss = new HalfSumSquaredError();
    expect(loss.forward(array([1, 2], { dtype: 'float64' }), array([0, 4], { dtype: 'float64' }))).toBe(2.5);
    expect(loss.backward().toArray()).toEqual([1, -2]);
    expect(() => loss.forward(array([1]), array([1, 2]))).toThrow(/\[1\] but target has shape \[2\]/);
  });
});
