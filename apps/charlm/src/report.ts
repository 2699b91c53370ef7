import asciichart from 'asciichart';
import cliProgress from 'cli-progress';
import * as vega from 'vega';
import { type ReportStream, stretch } from '@backprop/cli-kit';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EvalPoint, TrainHooks } from './train';

export { printable, type ReportStream } from '@backprop/cli-kit';

/** The line printed after each evaluation: `step  250/1500  train 2.3456  val 2.3012   12.3 s`, columns fixed (to 9999.9 s). */
export function formatEvalLine(point: EvalPoint, totalSteps: number): string {
  const width = String(totalSteps).length;
  return (
    `step ${String(point.step).padStart(width)}/${totalSteps}  ` +
    `train ${point.trainLoss.toFixed(4).padStart(6)}  val ${point.valLoss.toFixed(4).padStart(6)} ` +
    `${point.seconds.toFixed(1).padStart(6)} s`
  );
}

/**
 * The terminal side of a training run, as {@link TrainHooks}: on a TTY a
 * cli-progress bar over the steps (loss, learning rate, steps/s, ETA) with
 * each evaluation's line (and what `afterEval` returns) printed above it;
 * elsewhere (pipes, CI, tests) those lines only.
 */
export class TrainingReporter implements TrainHooks {
  private bar?: cliProgress.SingleBar;
  private readonly tty: boolean;
  /** The step and time the speed is measured from: the last evaluation, so its time is not counted. */
  private since?: { step: number; time: number };
  private last = { step: 0, loss: '-', lr: '-', speed: '-' };

  /**
   * @param afterEval called after each evaluation line; what it returns (e.g. `samples: emma, olivia, ...`)
   *   is printed below it.
   * @param now the clock in milliseconds (tests pass their own).
   */
  constructor(
    private readonly out: ReportStream,
    private readonly totalSteps: number,
    private readonly afterEval?: (point: EvalPoint) => string | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tty = out.isTTY === true;
  }

  private startBar(): void {
    this.bar = new cliProgress.SingleBar(
      {
        format: 'step {value}/{total} {bar} | loss {loss} | lr {lr} | {speed} steps/s | ETA {eta_formatted}',
        stream: this.out as NodeJS.WritableStream,
        barsize: 30,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const { step, ...payload } = this.last;
    this.bar.start(this.totalSteps, step, payload);
  }

  onStep(step: number, loss: number, lr: number): void {
    this.since ??= { step, time: this.now() };
    const seconds = (this.now() - this.since.time) / 1000;
    const speed = seconds > 0 ? ((step - this.since.step) / seconds).toFixed(1) : '-';
    this.last = { step, loss: loss.toFixed(4), lr: lr.toExponential(2), speed };
    if (!this.tty) return;
    if (this.bar === undefined) this.startBar();
    const { step: value, ...payload } = this.last;
    this.bar?.update(value, payload);
  }

  onEval(point: EvalPoint): void {
    // The bar clears its line when it stops; the lines go where it was, and it starts again below them.
    this.close();
    this.out.write(`${formatEvalLine(point, this.totalSteps)}\n`);
    const extra = this.afterEval?.(point);
    if (extra !== undefined && extra !== '') this.out.write(`${extra}\n`);
    this.since = { step: point.step, time: this.now() };
    if (this.tty && point.step < this.totalSteps) this.startBar();
  }

  /** Stops the bar (at the end, or if a run ends early with an error), leaving the terminal clean. */
  close(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

export interface ChartOptions {
  /** Columns of the plot (default 48). */
  width?: number;
  /** One chart in colours (train blue, val magenta, baseline green) instead of one chart per series. */
  color?: boolean;
  /** The bigram's validation loss, drawn flat across the chart. */
  baseline?: number;
}

/**
 * A small chart of the run for the terminal (asciichart): train and
 * validation loss against the step, the evaluations stretched to `width`
 * columns, with `baseline` as a flat line. With `color` the series share
 * one chart; without, train and val get a chart each (on one scale), each
 * with the baseline, which is told apart by being flat.
 */
export function terminalChart(history: readonly EvalPoint[], { width = 48, color = false, baseline }: ChartOptions = {}): string {
  const train = stretch(
    history.map((p) => p.trainLoss),
    width,
  );
  const val = stretch(
    history.map((p) => p.valLoss),
    width,
  );
  const flat = baseline === undefined ? [] : [new Array<number>(width).fill(baseline)];
  const all = [...train, ...val, ...(baseline === undefined ? [] : [baseline])];
  const scale = { min: Math.min(...all), max: Math.max(...all) };
  const first = `step ${history[0]?.step ?? 0}`;
  const last = `step ${history.at(-1)?.step ?? 0}`;
  const axis = `${' '.repeat(10)}${first}${' '.repeat(Math.max(1, width + 1 - first.length - last.length))}${last}`;
  const format = (x: number) => x.toFixed(3).padStart(9);
  const chart = (title: string, series: number[][], colors: string[], height: number) =>
    `${title}\n${asciichart.plot(series, { height, format, ...scale, ...(color ? { colors } : {}) })}\n${axis}\n`;
  const base = baseline === undefined ? '' : `bigram baseline ${baseline.toFixed(3)}`;
  if (color) {
    const { blue, magenta, green, reset } = asciichart;
    const title = `Loss, nats/char (${blue}train${reset}, ${magenta}val${reset}${base && `, ${green}${base}${reset}`})`;
    // The baseline first, so the losses are drawn over it where they cross.
    return chart(title, [...flat, train, val], [...(flat.length > 0 ? [green] : []), blue, magenta], 8);
  }
  const suffix = base && ` (flat line: ${base})`;
  return [chart(`Train loss, nats/char${suffix}`, [...flat, train], [], 5), chart(`Val loss, nats/char${suffix}`, [...flat, val], [], 5)].join(
    '\n',
  );
}

/** The series names of `loss.svg`. */
export const SERIES = { train: 'train loss', val: 'validation loss', baseline: 'bigram baseline' } as const;

/**
 * The vega-lite spec of `loss.svg`: train and validation loss (nats per
 * character) against the step, and `baseline` (the bigram's) as a dashed rule.
 */
export function lossChartSpec(history: readonly EvalPoint[], title: string, { baseline }: { baseline?: number } = {}): TopLevelSpec {
  const values = history.flatMap((p) => [
    { step: p.step, series: SERIES.train, loss: p.trainLoss },
    { step: p.step, series: SERIES.val, loss: p.valLoss },
  ]);
  const y = { field: 'loss', type: 'quantitative', title: 'loss (nats/char)', scale: { zero: false } } as const;
  const lines = {
    data: { values },
    mark: { type: 'line', point: history.length <= 40 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step', scale: { nice: false } },
      y,
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: [SERIES.train, SERIES.val],
        legend: { orient: 'top', direction: 'horizontal' },
      },
    },
  } as const;
  const rule =
    baseline === undefined
      ? []
      : ([
          {
            data: { values: [{ loss: baseline, label: `${SERIES.baseline} ${baseline.toFixed(3)}` }] },
            layer: [
              { mark: { type: 'rule', strokeDash: [6, 4], color: '#777' }, encoding: { y } },
              {
                mark: { type: 'text', align: 'right', baseline: 'bottom', x: 'width', dx: -4, dy: -3, color: '#555' },
                encoding: { y, text: { field: 'label' } },
              },
            ],
          },
        ] as const);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    height: 280,
    config: { font: 'sans-serif' },
    layer: [lines, ...rule],
  } as TopLevelSpec;
}

/** Renders the loss chart to SVG text, headless (vega's 'none' renderer, no canvas or browser). */
export async function renderLossSvg(history: readonly EvalPoint[], title: string, options: { baseline?: number } = {}): Promise<string> {
  const view = new vega.View(vega.parse(compile(lossChartSpec(history, title, options)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
