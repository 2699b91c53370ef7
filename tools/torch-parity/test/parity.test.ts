import type { DType } from '@backprop/ndarray';
import { afterAll, describe, expect, it } from 'vitest';
import { type Comparison, describeCase, type LayerSpec, loadCases, runCase, tolerance } from './parity';

const cases = loadCases();

type BatchNormSpec = Extract<LayerSpec, { type: 'BatchNorm1d' | 'BatchNorm2d' }>;

function isTrackedBatchNorm(l: LayerSpec): l is BatchNormSpec {
  return (l.type === 'BatchNorm1d' || l.type === 'BatchNorm2d') && l.trackRunningStats;
}

/** The layer specs with `f` applied to each, inside Residual blocks and Sequentials too. */
function mapLayers(layers: LayerSpec[], f: (l: LayerSpec) => LayerSpec): LayerSpec[] {
  const map = (l: LayerSpec): LayerSpec => {
    if (l.type === 'Residual') return f({ ...l, block: map(l.block) });
    if (l.type === 'Sequential') return f({ ...l, layers: l.layers.map(map) });
    return f(l);
  };
  return layers.map(map);
}

function findLayer(layers: LayerSpec[], test: (l: LayerSpec) => boolean): LayerSpec | undefined {
  let found: LayerSpec | undefined;
  mapLayers(layers, (l) => {
    if (found === undefined && test(l)) found = l;
    return l;
  });
  return found;
}
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

  // The newer families: running statistics and the attention mask are compared, not only drawn.
  it('has the conv, sequence and transformer families, with buffers and token ids', () => {
    for (const family of ['conv', 'sequence', 'transformer']) {
      expect(cases.some((c) => c.name.includes(` ${family} `))).toBe(true);
    }
    expect(cases.some((c) => c.steps[0].buffers !== undefined)).toBe(true);
    expect(cases.some((c) => c.inputs[0].dtype === 'int64')).toBe(true);
  });

  it('reports a running statistic that differs', () => {
    const c = cases.find((k) => k.dtype === 'float64' && findLayer(k.layers, (l) => isTrackedBatchNorm(l)) !== undefined)!;
    // Another momentum changes the running statistics after the first step, and nothing else in training mode.
    const layers = mapLayers(c.layers, (l) => (isTrackedBatchNorm(l) ? { ...l, momentum: l.momentum === 0.5 ? 0.25 : 0.5 } : l));
    const result = runCase({ ...c, layers });
    expect(result.firstFailure).toMatchObject({ step: 0 });
    expect(result.firstFailure?.what).toMatch(/^buffer .*running_(mean|var)$/);
  });

  it('reports attention without its causal mask', () => {
    const c = cases.find((k) => findLayer(k.layers, (l) => l.type === 'MultiheadAttention' && l.causal) !== undefined)!;
    const layers = mapLayers(c.layers, (l) => (l.type === 'MultiheadAttention' ? { ...l, causal: false } : l));
    expect(runCase({ ...c, layers }).firstFailure).toMatchObject({ step: 0, what: 'output' });
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
