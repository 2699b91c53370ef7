import asciichart from 'asciichart';
import cliProgress from 'cli-progress';
import * as vega from 'vega';
import { type ReportStream, stretch } from '@backprop/cli-kit';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Evaluation } from './evaluate';
import type { BatchProgress, EpochMetrics, TrainHooks } from './train';

export { printable, type ReportStream } from '@backprop/cli-kit';

const percent = (fraction: number, digits = 2): string => `${(100 * fraction).toFixed(digits)}%`;
const grouped = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The line printed after each epoch. */
export function formatEpochLine(m: EpochMetrics, epochs: number): string {
  const width = String(epochs).length;
  return (
    `epoch ${String(m.epoch).padStart(width)}/${epochs}  ` +
    `train loss ${m.trainLoss.toFixed(4)}  test loss ${m.testLoss.toFixed(4)}  ` +
    `test accuracy ${percent(m.testAccuracy)}  ` +
    `${grouped(m.samplesPerSecond)} samples/s  ${m.seconds.toFixed(1)} s`
  );
}

/**
 * The terminal side of a training run, as {@link TrainHooks}: on a TTY a
 * cli-progress bar per epoch (loss so far, samples/s, ETA) that gives way to
 * the epoch's summary line; elsewhere (pipes, CI, tests) the summary lines only.
 */
export class TrainingReporter implements TrainHooks {
  private bar?: cliProgress.SingleBar;
  private readonly tty: boolean;

  constructor(
    private readonly out: ReportStream,
    private readonly epochs: number,
  ) {
    this.tty = out.isTTY === true;
  }

  onEpochStart(epoch: number, _batches: number, samples: number): void {
    if (!this.tty) return;
    const width = String(this.epochs).length;
    this.bar = new cliProgress.SingleBar(
      {
        format: `epoch ${String(epoch).padStart(width)}/${this.epochs} {bar} {percentage}% | loss {loss} | {speed} samples/s | ETA {eta_formatted}`,
        stream: this.out as NodeJS.WritableStream,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(samples, 0, { loss: '-', speed: '-' });
  }

  onBatch(p: BatchProgress): void {
    this.bar?.update(p.samples, { loss: p.loss.toFixed(4), speed: grouped(p.samples / Math.max(p.seconds, 1e-9)) });
  }

  onEpochEnd(metrics: EpochMetrics): void {
    this.bar?.stop();
    this.bar = undefined;
    this.out.write(`${formatEpochLine(metrics, this.epochs)}\n`);
  }

  /** Stops the bar if a run ends early (an error), leaving the terminal clean. */
  close(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/**
 * A small chart of the run for the terminal (asciichart): loss and test
 * accuracy against the epochs (stretched to `width` columns). With `color`
 * train and test loss share one chart in two colours; without, each gets its own.
 */
export function terminalChart(history: readonly EpochMetrics[], { width = 48, color = false } = {}): string {
  const series = (pick: (m: EpochMetrics) => number) => stretch(history.map(pick), width);
  const last = `epoch ${history.length}`;
  const axis = `${' '.repeat(10)}epoch 1${' '.repeat(Math.max(1, width + 1 - 'epoch 1'.length - last.length))}${last}`;
  const chart = (title: string, values: number[][], colors: string[], format: (x: number) => string, height: number) =>
    `${title}\n${asciichart.plot(values, { height, format: (x) => format(x).padStart(9), ...(color ? { colors } : {}) })}\n${axis}\n`;
  const loss = (x: number) => x.toFixed(3);
  const accuracy = chart('Test accuracy', [series((m) => 100 * m.testAccuracy)], [asciichart.green], (x) => `${x.toFixed(1)}%`, 5);
  if (color) {
    const title = `Loss (${asciichart.blue}train${asciichart.reset}, ${asciichart.magenta}test${asciichart.reset})`;
    const both = [series((m) => m.trainLoss), series((m) => m.testLoss)];
    return `${chart(title, both, [asciichart.blue, asciichart.magenta], loss, 6)}\n${accuracy}`;
  }
  return [
    chart('Train loss', [series((m) => m.trainLoss)], [], loss, 4),
    chart('Test loss', [series((m) => m.testLoss)], [], loss, 4),
    accuracy,
  ].join('\n');
}

/** The confusion matrix as a table: rows the true digit, columns the prediction, and each row's recall. */
export function formatConfusion(confusion: readonly (readonly number[])[]): string {
  const width = Math.max(4, ...confusion.flat().map((n) => String(n).length + 1));
  const cell = (s: string | number) => String(s).padStart(width);
  const lines = [
    'Confusion matrix (rows: true digit, columns: predicted digit)',
    `true ${confusion.map((_, j) => cell(j)).join('')}   recall`,
  ];
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total === 0 ? '   -' : percent(row[i] / total, 1).padStart(7);
    lines.push(`${String(i).padStart(4)} ${row.map(cell).join('')}  ${recall}`);
  });
  return `${lines.join('\n')}\n`;
}

/** The vega-lite spec of `training.svg`: loss (train, test) and test accuracy per epoch, side by side. */
export function trainingChartSpec(history: readonly EpochMetrics[], title: string): TopLevelSpec {
  const values = history.flatMap((m) => [
    { epoch: m.epoch, panel: 'loss', series: 'train loss', value: m.trainLoss },
    { epoch: m.epoch, panel: 'loss', series: 'test loss', value: m.testLoss },
    { epoch: m.epoch, panel: 'accuracy', series: 'test accuracy', value: m.testAccuracy },
  ]);
  const x = { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, scale: { nice: false } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    config: { font: 'sans-serif' },
    hconcat: [
      {
        title: 'Cross-entropy loss',
        width: 320,
        height: 220,
        transform: [{ filter: "datum.panel === 'loss'" }],
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: true } },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            sort: ['train loss', 'test loss'],
            legend: { orient: 'top', direction: 'horizontal' },
          },
        },
      },
      {
        title: 'Test accuracy',
        width: 320,
        height: 220,
        transform: [{ filter: "datum.panel === 'accuracy'" }],
        mark: { type: 'line', color: '#2ca02c', point: { color: '#2ca02c' } },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: 'accuracy', axis: { format: '.1%' }, scale: { zero: false } },
        },
      },
    ],
  };
}

/** Renders the training chart to SVG text, headless (vega's 'none' renderer, no canvas or browser). */
export async function renderTrainingSvg(history: readonly EpochMetrics[], title: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(trainingChartSpec(history, title)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Everything `metrics.json` holds. */
export interface MetricsFile {
  model: string;
  /** The flags of the run, resolved. */
  config: Record<string, unknown>;
  normalization: { mean: number; std: number };
  /** One entry per epoch. */
  epochs: EpochMetrics[];
  /** Final test accuracy, a fraction in [0, 1]. */
  testAccuracy: number;
  testLoss: number;
  /** Training seconds over all epochs, and samples/s over them. */
  trainSeconds: number;
  samplesPerSecond: number;
  /** Wall seconds of the whole run (loading, training, evaluating, saving). */
  totalSeconds: number;
  /** `confusionMatrix[true][predicted]` on the test set after the last epoch. */
  confusionMatrix: number[][];
  trainSize: number;
  testSize: number;
  node: string;
  createdAt: string;
}

/** Assembles `metrics.json` from a run's history and final evaluation. */
export function buildMetrics(
  args: Pick<MetricsFile, 'model' | 'config' | 'normalization' | 'totalSeconds' | 'trainSize'>,
  history: readonly EpochMetrics[],
  final: Evaluation,
): MetricsFile {
  const trainSeconds = history.reduce((s, m) => s + m.seconds, 0);
  return {
    ...args,
    epochs: [...history],
    testAccuracy: final.accuracy,
    testLoss: final.loss,
    trainSeconds,
    samplesPerSecond: (args.trainSize * history.length) / trainSeconds,
    confusionMatrix: final.confusion,
    testSize: final.count,
    node: process.version,
    createdAt: new Date().toISOString(),
  };
}
