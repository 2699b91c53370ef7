import { describe, expect, it } from 'vitest';
import { MIN_CHART_HEIGHT, MIN_CHART_WIDTH, linePath, niceCeil, niceTicks, renderChart } from '../src/chart';

describe('chart geometry', () => {
  it('picks round ticks, at most about the count asked for', () => {
    expect(niceTicks(0, 625, 6)).toEqual([0, 200, 400, 600]);
    expect(niceTicks(0, 2.5, 4)).toEqual([0, 1, 2]);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.5, 1]);
    expect(niceTicks(0, 0.1, 4)).toEqual([0, 0.05, 0.1]);
    expect(niceTicks(0, 10, 6)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it('rounds the loss axis up to a nice top', () => {
    expect(niceCeil(2.31)).toBe(2.5);
    expect(niceCeil(0.64)).toBe(1);
    expect(niceCeil(0.07)).toBe(0.1);
    expect(niceCeil(0)).toBe(1);
  });

  it('draws a path through the scaled points', () => {
    expect(linePath([[0, 0], [10, 1]], (x) => 2 * x, (y) => 100 - 50 * y)).toBe('M0.0,100.0L20.0,50.0');
    expect(linePath([], (x) => x, (y) => y)).toBe('');
  });

  it('renders each series on its own axis, the loss scaled to its nice top and accuracy to 0–1', () => {
    const svg = renderChart(
      [
        { name: 'train loss', color: '#00f', axis: 'loss', points: [[0, 2.5], [100, 0]] },
        { name: 'test accuracy', color: '#0f0', axis: 'accuracy', points: [[100, 1]], dots: true },
      ],
      { width: 400, height: 200, maxStep: 100 },
    );
    // Plot area: x 48…352, y 14…164. Loss 2.5 is the top, 0 the bottom; accuracy 1 the top.
    expect(svg).toContain('d="M48.0,14.0L352.0,164.0" fill="none" stroke="#00f"');
    expect(svg).toContain('<circle cx="352.0" cy="14.0" r="3" fill="#0f0"/>');
    // Each line carries its end points' values, which the browser test reads.
    expect(svg).toContain('data-series="train loss" data-first="0,2.5" data-last="100,0"');
    expect(svg).toContain('>100%<');
    expect(renderChart([], { width: 400, height: 200, maxStep: 10, accuracyAxis: false })).not.toContain('%<');
  });

  it('is drawn at its size in CSS pixels, with the axis title and the ticks inside it at any width', () => {
    for (const [width, height] of [[760, 250], [330, 250], [300, 150], [MIN_CHART_WIDTH, MIN_CHART_HEIGHT]]) {
      const svg = renderChart([{ name: 'loss', color: '#00f', axis: 'loss', points: [[1, 2], [2000, 0.5]] }], {
        width,
        height,
        maxStep: 2000,
        accuracyAxis: width > 300,
      });
      // One SVG unit is one CSS pixel: the text keeps the stylesheet's size, never scaled.
      expect(svg).toContain(`viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"`);
      // The title's baseline leaves room for its descender (11 px text descends about 3 px).
      const title = Number(/<text x="[^"]+" y="([^"]+)"[^>]*class="axis-title">step</.exec(svg)?.[1]);
      expect(title).toBeLessThanOrEqual(height - 4);
      // The step ticks sit between the plot and the title, about 70 px or more apart, so their labels never touch.
      const ticks = [...svg.matchAll(/<text x="([^"]+)" y="([^"]+)" text-anchor="middle" class="tick">/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      for (const [x, y] of ticks) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(width);
        expect(y).toBeLessThanOrEqual(title - 11);
      }
      for (let i = 1; i < ticks.length; i++) expect(ticks[i][0] - ticks[i - 1][0]).toBeGreaterThanOrEqual(40);
    }
  });

  it('refuses a size it cannot lay its labels out in, naming it', () => {
    const options = { maxStep: 10, accuracyAxis: false };
    expect(() => renderChart([], { ...options, width: 100, height: 150 })).toThrow(/at least 160 × 100 CSS pixels, got 100 × 150/);
    expect(() => renderChart([], { ...options, width: Number.NaN, height: 150 })).toThrow(/got NaN × 150/);
    expect(() => renderChart([], { ...options, width: 300, height: Number.POSITIVE_INFINITY })).toThrow(/finite/);
  });
});
