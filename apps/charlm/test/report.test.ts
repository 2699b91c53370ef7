import { describe, expect, it } from 'vitest';
import { SERIES, TrainingReporter, formatEvalLine, lossChartSpec, printable, renderLossSvg, terminalChart } from '../src/report';
import type { EvalPoint } from '../src/train';

/** Collects what a reporter writes. */
class Capture {
  text = '';
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const history: EvalPoint[] = [250, 500, 750, 1000, 1250, 1500].map((step, i) => ({
  step,
  trainLoss: 3.2 - 0.15 * i,
  valLoss: 3.1 - 0.12 * i,
  seconds: 12.3 * (i + 1),
}));

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches the escape sequences themselves
const ANSI = /\u001b\[[0-9;]*m/g;

describe('formatEvalLine', () => {
  it('prints the step, train and val loss and the seconds in fixed columns', () => {
    expect(formatEvalLine({ step: 250, trainLoss: 2.34564, valLoss: 2.30123, seconds: 12.34 }, 1500)).toBe(
      'step  250/1500  train 2.3456  val 2.3012   12.3 s',
    );
    const lines = [
      formatEvalLine({ step: 5, trainLoss: 3.3, valLoss: 3.29, seconds: 1 }, 1500),
      formatEvalLine({ step: 1500, trainLoss: 1.9, valLoss: 2.01, seconds: 123.45 }, 1500),
    ];
    expect(lines[0]).toBe('step    5/1500  train 3.3000  val 3.2900    1.0 s');
    expect(lines[1]).toBe('step 1500/1500  train 1.9000  val 2.0100  123.5 s');
  });
});

describe('TrainingReporter', () => {
  it('off a TTY prints each evaluation line and what afterEval returns, nothing per step', () => {
    const out = new Capture();
    const seen: number[] = [];
    const reporter = new TrainingReporter(out, 1500, (point) => {
      seen.push(point.step);
      return point.step === 500 ? undefined : `samples: emma, olivia (${point.step})`;
    });
    for (let step = 1; step <= 3; step++) reporter.onStep(step, 3 - step / 10, 1e-3);
    reporter.onEval(history[0]);
    reporter.onStep(4, 2.5, 1e-3);
    reporter.onEval(history[1]);
    reporter.close();
    expect(seen).toEqual([250, 500]);
    expect(out.text).toBe(`${formatEvalLine(history[0], 1500)}\nsamples: emma, olivia (250)\n${formatEvalLine(history[1], 1500)}\n`);
  });

  it('on a TTY draws a bar with the loss, lr, steps/s and ETA, the lines above it, and clears it at the end', () => {
    const out = new Capture();
    out.isTTY = true;
    let clock = 0;
    const reporter = new TrainingReporter(out, 10, () => 'samples: ava', () => clock);
    for (let step = 1; step <= 5; step++) {
      clock += 500;
      reporter.onStep(step, 2.5 / step, 2e-3);
    }
    expect(out.text).toMatch(/step \d+\/10 .* \| loss \d\.\d{4} \| lr 2\.00e-3 \| (-|2\.0) steps\/s \| ETA/);
    const point = { step: 5, trainLoss: 1.5, valLoss: 1.6, seconds: 2.5 };
    reporter.onEval(point);
    const afterEval = out.text.length;
    expect(out.text).toContain(`${formatEvalLine(point, 10)}\nsamples: ava\n`);
    clock += 500;
    reporter.onStep(6, 0.4, 1e-3);
    reporter.close();
    expect(out.text.length).toBeGreaterThan(afterEval); // the bar came back after the lines
    expect(out.text.slice(afterEval)).toMatch(/step \d+\/10/);
    expect(out.text.endsWith('\u001b[0K') || out.text.endsWith('\u001b[2K')).toBe(true);
  });
});

describe('terminalChart', () => {
  it('draws train and val loss in separate charts of height + 1 rows, labelled, with the step axis', () => {
    const text = terminalChart(history, { width: 30 });
    const charts = text.split('\n\n');
    expect(charts).toHaveLength(2);
    const [train, val] = charts.map((chart) => chart.trimEnd().split('\n'));
    expect(train[0]).toBe('Train loss, nats/char');
    expect(val[0]).toBe('Val loss, nats/char');
    for (const lines of [train, val]) {
      expect(lines).toHaveLength(1 + 6 + 1); // title, height 5 + 1 rows, axis
      expect(lines.at(-1)).toMatch(/^ {10}step 250 +step 1500$/);
      expect(lines.at(-1)?.length).toBe(10 + 31);
      // one scale for both charts: the top label is the highest loss of either, the bottom the lowest
      expect(lines[1]).toContain('3.200');
      expect(lines[6]).toContain(history.at(-1)?.trainLoss.toFixed(3));
    }
  });

  it('adds the bigram baseline as a labelled flat line, and in colour draws one chart', () => {
    const text = terminalChart(history, { baseline: 2.454 });
    expect(text).toContain('Train loss, nats/char (flat line: bigram baseline 2.454)');
    const flatRow = text.split('\n').find((line) => /─{40,}/.test(line));
    expect(flatRow).toBeDefined();
    const colored = terminalChart(history, { color: true, baseline: 2.454 });
    expect(colored).toMatch(ANSI);
    const lines = colored.replace(ANSI, '').trimEnd().split('\n');
    expect(lines[0]).toBe('Loss, nats/char (train, val, bigram baseline 2.454)');
    expect(lines).toHaveLength(1 + 9 + 1);
    expect(terminalChart(history.slice(0, 1))).toContain('step 250');
  });
});

describe('loss.svg', () => {
  it('specifies train and val lines and the baseline as a dashed rule', () => {
    const spec = JSON.stringify(lossChartSpec(history, 't', { baseline: 2.454 }));
    expect(spec).toContain('"strokeDash"');
    expect(spec).toContain('bigram baseline 2.454');
    expect(JSON.stringify(lossChartSpec(history, 't'))).not.toContain('strokeDash');
  });

  it('renders headless to an SVG with the title, the series and the baseline', async () => {
    const svg = await renderLossSvg(history, 'transformer on U.S. baby names', { baseline: 2.454 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('transformer on U.S. baby names');
    expect(svg).toContain(SERIES.train);
    expect(svg).toContain(SERIES.val);
    expect(svg).toContain('bigram baseline 2.454');
    expect(svg).toContain('loss (nats/char)');
    expect(svg).toContain('stroke-dasharray');
  });
});

describe('printable', () => {
  it('shows control characters and bidirectional overrides instead of obeying them', () => {
    expect(printable('emma\u001b[2J\nolivia\u202e')).toBe('emma\\x1b[2J\\x0aolivia\\u202e');
    expect(printable('zoë')).toBe('zoë');
  });
});
