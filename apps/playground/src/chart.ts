/**
 * The live training chart: loss on the left axis, accuracy (0–100 %) on the
 * right, against the step. Plain SVG built as a string, redrawn on each
 * progress message (a few hundred points at most), so no chart library.
 *
 * A chart is drawn at its box's size in CSS pixels (one SVG unit is one CSS
 * pixel, see `chartWidth` and `redrawOnResize`), never scaled to fit: its
 * text keeps the stylesheet's size on a phone as on a desktop, and every
 * label lies inside the box.
 */

export interface Series {
  name: string;
  color: string;
  axis: 'loss' | 'accuracy';
  /** [step, value] pairs, step ascending. */
  points: readonly (readonly [number, number])[];
  /** Draw a dot at each point (sparse series such as the test accuracy). */
  dots?: boolean;
  dashed?: boolean;
}

export interface ChartOptions {
  /** The chart's size in CSS pixels (at least MIN_CHART_WIDTH × MIN_CHART_HEIGHT): the SVG's size and its viewBox. */
  width: number;
  height: number;
  /** The x axis runs to at least this step (the run's length), so the line grows across the chart. */
  maxStep: number;
  /** Label the right axis 0–100 % (default true; a loss-only chart leaves it off). */
  accuracyAxis?: boolean;
}

/**
 * Room around the plot for the labels, in CSS pixels, for the stylesheet's
 * 11 px text: the step ticks' baseline 15 px under the plot, the axis title's
 * baseline TITLE_DESCENT above the bottom edge, so its descenders (the p of
 * "step") stay inside.
 */
const PAD = { left: 48, right: 48, top: 14, bottom: 36 };
const TITLE_DESCENT = 5;
/** The right-hand room of a chart without the accuracy axis. */
const PAD_RIGHT_LOSS_ONLY = 16;
/** The smallest chart drawn: below it the labels would run into each other. */
export const MIN_CHART_WIDTH = 160;
export const MIN_CHART_HEIGHT = 100;
/** About one step tick per this many pixels of plot width (at most 6). */
const STEP_TICK_SPACING = 70;

/**
 * Round tick values covering [min, max], about `count` of them, at 1, 2 or 5
 * times a power of ten (as d3's ticks).
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The smallest "nice" number (1, 2, 2.5, 5 × 10^k) at least `value`: the loss axis's top. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= value - 1e-12) ?? 10 * power;
}

/** An SVG path through the points, scaled into the plot area. */
export function linePath(points: readonly (readonly [number, number])[], x: (v: number) => number, y: (v: number) => number): string {
  return points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join('');
}

/** The chart as an SVG document (a string), `width` × `height` CSS pixels. */
export function renderChart(series: readonly Series[], options: ChartOptions): string {
  const { width, height } = options;
  if (!(width >= MIN_CHART_WIDTH && height >= MIN_CHART_HEIGHT && Number.isFinite(width) && Number.isFinite(height))) {
    throw new Error(`renderChart: width × height must be finite and at least ${MIN_CHART_WIDTH} × ${MIN_CHART_HEIGHT} CSS pixels, got ${width} × ${height}`);
  }
  const withAccuracy = options.accuracyAxis !== false;
  const plotW = width - PAD.left - (withAccuracy ? PAD.right : PAD_RIGHT_LOSS_ONLY);
  const plotH = height - PAD.top - PAD.bottom;
  const lastStep = Math.max(1, options.maxStep, ...series.flatMap((s) => s.points.map(([step]) => step)));
  const lossValues = series.filter((s) => s.axis === 'loss').flatMap((s) => s.points.map(([, v]) => v));
  const lossTop = niceCeil(Math.max(0.1, ...lossValues));
  const x = (step: number) => PAD.left + (step / lastStep) * plotW;
  const yLoss = (v: number) => PAD.top + plotH - (Math.min(v, lossTop) / lossTop) * plotH;
  const yAcc = (v: number) => PAD.top + plotH - v * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="training chart">`,
  ];
  // Grid and axes: loss ticks on the left, accuracy on the right, steps below.
  for (const t of niceTicks(0, lossTop, 4)) {
    const y = yLoss(t).toFixed(1);
    parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y}" dy="4" text-anchor="end" class="tick">${t}</text>`);
  }
  for (const t of withAccuracy ? [0, 0.25, 0.5, 0.75, 1] : []) {
    parts.push(`<text x="${PAD.left + plotW + 6}" y="${yAcc(t).toFixed(1)}" dy="4" class="tick">${t * 100}%</text>`);
  }
  const stepTicks = Math.max(2, Math.min(6, Math.floor(plotW / STEP_TICK_SPACING)));
  for (const t of niceTicks(0, lastStep, stepTicks)) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${PAD.top + plotH + 15}" text-anchor="middle" class="tick">${t}</text>`);
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" class="frame"/>`);
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${height - TITLE_DESCENT}" text-anchor="middle" class="axis-title">step</text>`);
  for (const s of series) {
    if (s.points.length === 0) continue;
    const y = s.axis === 'loss' ? yLoss : yAcc;
    parts.push(
      // data-first / data-last: the plotted values at both ends, for tests and assistive tools.
      `<path d="${linePath(s.points, x, y)}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="5 4"' : ''} data-series="${s.name}" data-first="${s.points[0].join(',')}" data-last="${s.points[s.points.length - 1].join(',')}"/>`,
    );
    if (s.dots) {
      for (const [px, py] of s.points) {
        parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
      }
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The width to draw a chart at: its box's width in CSS pixels (whole), at least MIN_CHART_WIDTH. */
export function chartWidth(box: Element): number {
  return Math.max(MIN_CHART_WIDTH, Math.floor(box.clientWidth));
}

/**
 * Calls `redraw` whenever the box's width changes (a ResizeObserver: the
 * window resized, a phone turned, the layout went to one column), so that a
 * chart drawn at `chartWidth(box)` keeps fitting it. Changes of height alone,
 * such as the chart's own, are ignored.
 */
export function redrawOnResize(box: Element, redraw: () => void): void {
  let width = box.clientWidth;
  new ResizeObserver(() => {
    if (box.clientWidth === width) return;
    width = box.clientWidth;
    redraw();
  }).observe(box);
}
