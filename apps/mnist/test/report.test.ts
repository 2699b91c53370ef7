import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../src/evaluate';
import { TrainingReporter, buildMetrics, formatConfusion, formatEpochLine, renderTrainingSvg, terminalChart } from '../src/report';
import type { EpochMetrics } from '../src/train';
import { Capture } from './helpers';

const history: EpochMetrics[] = [1, 2, 3].map((epoch) => ({
  epoch,
  trainLoss: 0.6 / epoch,
  testLoss: 0.4 / epoch + 0.05,
  testAccuracy: 0.9 + epoch / 100,
  samplesPerSecond: 4000 + epoch,
  seconds: 2,
  evalSeconds: 0.1,
  lr: 0.05 / epoch,
}));

describe('report', () => {
  it('prints one line per epoch with train loss, test loss and test accuracy', () => {
    expect(formatEpochLine(history[1], 15)).toBe(
      'epoch  2/15  train loss 0.3000  test loss 0.2500  test accuracy 92.00%  4,002 samples/s  2.0 s',
    );
  });

  it('without a TTY the reporter prints the epoch lines only (no progress bar)', () => {
    const out = new Capture();
    const reporter = new TrainingReporter(out, 3);
    reporter.onEpochStart(1, 10, 640);
    reporter.onBatch({ epoch: 1, batch: 1, batches: 10, loss: 2.3, batchLoss: 2.3, samples: 64, seconds: 0.1 });
    reporter.onEpochEnd(history[0]);
    reporter.close();
    expect(out.text).toBe(`${formatEpochLine(history[0], 3)}\n`);
  });

  it('on a TTY it draws a progress bar with the loss, samples/s and ETA, then the epoch line', () => {
    const out = new Capture();
    out.isTTY = true;
    const reporter = new TrainingReporter(out, 3);
    reporter.onEpochStart(1, 10, 640);
    reporter.onBatch({ epoch: 1, batch: 5, batches: 10, loss: 1.23456, batchLoss: 1, samples: 320, seconds: 0.1 });
    reporter.onEpochEnd(history[0]);
    expect(out.text).toMatch(/epoch 1\/3 .*\d+% \| loss (-|1\.2346) \| (-|3,200) samples\/s \| ETA/);
    expect(out.text.endsWith(`${formatEpochLine(history[0], 3)}\n`)).toBe(true);
  });

  it('draws a small terminal chart of loss and accuracy', () => {
    const chart = terminalChart(history);
    expect(chart).toContain('Train loss');
    expect(chart).toContain('Test loss');
    expect(chart).toContain('Test accuracy');
    expect(chart).toContain('93.0%');
    expect(chart).toContain('epoch 3');
    expect(terminalChart(history.slice(0, 1))).toContain('epoch 1');
    expect(terminalChart(history, { color: true })).toContain('\u001b[');
  });

  it('prints the confusion matrix with each digit’s recall', () => {
    const confusion = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? 9 : j === 0 ? 1 : 0)));
    const text = formatConfusion(confusion);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe('Confusion matrix (rows: true digit, columns: predicted digit)');
    expect(lines[2]).toMatch(/^ {3}0 +9 +0 .* 100\.0%$/);
    expect(lines[3]).toMatch(/^ {3}1 +1 +9 +0 .* 90\.0%$/);
  });

  it('renders training.svg headless with vega-lite', async () => {
    const svg = await renderTrainingSvg(history, 'mlp on MNIST');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Cross-entropy loss');
    expect(svg).toContain('Test accuracy');
    expect(svg).toContain('train loss');
    expect(svg).toContain('mlp on MNIST');
  });

  it('builds metrics.json with every epoch and the final accuracy as a fraction', () => {
    const final = { loss: 0.1, accuracy: 0.93, count: 2000, confusion: [[1]], predictions: new Int32Array(0) } as Evaluation;
    const metrics = buildMetrics(
      { model: 'mlp', config: { lr: 0.05 }, normalization: { mean: 0.13, std: 0.31 }, totalSeconds: 7, trainSize: 8000 },
      history,
      final,
    );
    expect(metrics.testAccuracy).toBe(0.93);
    expect(metrics.epochs).toEqual(history);
    expect(metrics.trainSeconds).toBe(6);
    expect(metrics.samplesPerSecond).toBe(4000);
    expect(metrics.testSize).toBe(2000);
    expect(Object.keys(metrics.epochs[0])).toEqual(
      expect.arrayContaining(['trainLoss', 'testLoss', 'testAccuracy', 'samplesPerSecond', 'seconds']),
    );
  });
});
