/**
 * Both pages at a phone's width (390 CSS pixels), a tablet's (768) and a
 * desktop's (1280), in Chromium: nothing runs off the right edge; every
 * chart is drawn at its box's size (its text at the stylesheet's size,
 * unscaled) with its tick labels and axis title inside it; the small
 * networks' neurons (gradient rings included) and labels never overlap. And
 * either page opened as a file says it needs a server and how to start one.
 * A screenshot of each page at 390 px goes to test-results/e2e/.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type BrowserSession, SHOTS, openBrowser } from './chromium';

const WIDTHS = [390, 768, 1280];

let context: BrowserContext;
let page: Page;
const errors: string[] = [];

/**
 * What is wrong with the page's layout, as sentences (run in the page, so it
 * uses nothing from outside it). Empty when all is well.
 */
function layoutProblems(): string[] {
  const problems: string[] = [];
  const slack = 0.5;
  const inside = (a: DOMRect, b: DOMRect) =>
    a.left >= b.left - slack && a.right <= b.right + slack && a.top >= b.top - slack && a.bottom <= b.bottom + slack;
  const meet = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const where = (element: Element) => `#${element.closest('[id]')?.id}`;
  const { scrollWidth } = document.documentElement;
  if (scrollWidth > innerWidth) problems.push(`the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
  for (const svg of document.querySelectorAll<SVGSVGElement>('.chart svg, .loss-chart svg')) {
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    if (Math.abs(scale - 1) > 0.01) problems.push(`${where(svg)}: a chart drawn ${svg.viewBox.baseVal.width} wide is scaled by ${scale.toFixed(2)}`);
    if (!inside(box, (svg.parentElement as Element).getBoundingClientRect())) problems.push(`${where(svg)}: a chart runs out of its box`);
    for (const text of svg.querySelectorAll('text')) {
      if (!inside(text.getBoundingClientRect(), box)) problems.push(`${where(svg)}: the ${text.getAttribute('class')} "${text.textContent}" is cut off by its chart's edge`);
    }
  }
  for (const svg of document.querySelectorAll<SVGSVGElement>('.diagram svg')) {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].map((text) => ({ text: text.textContent, rect: text.getBoundingClientRect() }));
    texts.forEach((a, i) => {
      if (!inside(a.rect, box)) problems.push(`${where(svg)}: the label "${a.text}" is cut off by the diagram's edge`);
      for (const b of texts.slice(i + 1)) if (meet(a.rect, b.rect)) problems.push(`${where(svg)}: the labels "${a.text}" and "${b.text}" overlap`);
    });
    // Each neuron as its outermost circle (the gradient's ring after a step).
    const neurons = [...svg.querySelectorAll('.neuron')].map((group) => {
      const rects = [...group.querySelectorAll('circle')].map((circle) => circle.getBoundingClientRect());
      return { x: rects[0].left + rects[0].width / 2, y: rects[0].top + rects[0].height / 2, r: Math.max(...rects.map((rect) => rect.width / 2)) };
    });
    neurons.forEach((a, i) => {
      neurons.slice(i + 1).forEach((b, j) => {
        const distance = Math.hypot(a.x - b.x, a.y - b.y);
        if (distance < a.r + b.r) problems.push(`${where(svg)}: neurons ${i} and ${i + 1 + j} overlap (${distance.toFixed(1)} px apart, radii ${a.r.toFixed(1)} + ${b.r.toFixed(1)})`);
      });
    });
  }
  return problems;
}

/** The page's layout problems at each width, after its charts have been redrawn for it. */
async function problemsAtEachWidth(name: string): Promise<Record<number, string[]>> {
  const found: Record<number, string[]> = {};
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    // The ResizeObserver's redraw, then the chart's requestAnimationFrame.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0)))));
    found[width] = await page.evaluate(layoutProblems);
    if (width === WIDTHS[0]) await page.screenshot({ path: join(SHOTS, `${name}-${width}px.png`), fullPage: true });
  }
  return found;
}

const clean = Object.fromEntries(WIDTHS.map((width) => [width, []]));

let browser: BrowserSession | undefined;

beforeAll(async () => {
  browser = await openBrowser({ errors });
  ({ context, page } = browser);
});

afterAll(async () => {
  await browser?.close();
});

describe('the pages at phone, tablet and desktop widths', () => {
  it('the MNIST page fits each width, its charts unscaled and their titles inside, its neurons and labels apart', async () => {
    await page.goto(inject('baseURL'));
    await page.waitForSelector('#mnist[data-state="ready"]', { timeout: 30_000 });
    // One step draws the gradients: the XOR net's neurons get their rings, the loss charts a point.
    await page.click('#net-xor .step');
    await page.click('#net-notebook .step');
    await page.waitForSelector('#net-notebook[data-steps="1"]');
    expect(await page.locator('.chart svg, .loss-chart svg').count()).toBe(3);
    expect(await page.locator('#net-xor circle.gradient').count()).toBe(9);
    expect(await problemsAtEachWidth('8-mnist')).toEqual(clean);
    expect(errors).toEqual([]);
  });

  it('the names page fits each width, its chart unscaled and its title inside', async () => {
    await page.goto(new URL('charlm.html', inject('baseURL')).href);
    await page.waitForSelector('#charlm[data-state="ready"]', { timeout: 30_000 });
    expect(await page.locator('.chart svg').count()).toBe(1);
    expect(await problemsAtEachWidth('9-charlm')).toEqual(clean);
    expect(errors).toEqual([]);
  });

  it('either page opened as a file says it needs a server, and the commands that start one', async () => {
    const filePage = await context.newPage(); // its CORS errors are the point: not collected
    try {
      for (const name of ['index.html', 'charlm.html']) {
        await filePage.goto(pathToFileURL(join(inject('siteDir'), name)).href);
        const message = await filePage.locator('.needs-server').textContent();
        expect(message).toContain('This page needs a web server');
        expect(message).toContain('pnpm --filter @backprop/app-playground preview');
        expect(message).toContain(`http://localhost:4173/${name}`);
        expect(message).toContain(`cd '${inject('siteDir')}'\npython3 -m http.server 8000`);
        expect(await filePage.textContent('#status')).toBe('Not loaded: this page needs a web server (see the top of the page).');
      }
    } finally {
      await filePage.close();
    }
  });
});
