/**
 * The playground in a real browser: Debian's Chromium driven by
 * playwright-core, against the built site served by `vite preview` (see
 * global-setup.ts). One page goes through the states a visitor would, in
 * order, and each leaves a screenshot in test-results/e2e/.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type BrowserSession, SHOTS, openBrowser } from './chromium';


let page: Page;
const errors: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, name), fullPage: true });
const number = (text: string | null) => Number((text ?? '').replace(/[,%]/g, '').split('/')[0]);
const textOf = async (selector: string) => number(await page.textContent(selector));
const probabilities = () => page.$$eval('#probs .prob', (rows) => rows.map((row) => Number((row as HTMLElement).dataset.prob)));
const synapses = (net: string) =>
  page.$$eval(`${net} .synapse`, (groups) =>
    groups.map((g) => ({
      weight: (g as SVGGElement).dataset.weight ?? '',
      grad: (g as SVGGElement).dataset.grad ?? '',
      width: g.querySelector('line')?.getAttribute('stroke-width') ?? '',
    })),
  );

let browser: BrowserSession | undefined;

beforeAll(async () => {
  browser = await openBrowser({ errors, worker: 'the training worker' });
  ({ page } = browser);
});

afterAll(async () => {
  await browser?.close();
});

describe('the playground in Chromium', () => {
  it('loads the digits, shows the model summary and both networks, with no console errors', async () => {
    await page.goto(inject('baseURL'));
    await page.waitForSelector('#mnist[data-state="ready"]', { timeout: 30_000 });
    const summary = await page.textContent('#summary');
    expect(summary).toContain('├─Linear: 1-1                            [64, 128]                 100,480');
    expect(summary).toContain('Total params: 101,770');
    // The preview server sends COOP/COEP, so the worker trains on two threads
    // (Web Worker + SharedArrayBuffer) wherever the machine has two cores.
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await page.textContent('#stat-backend')).toBe(cores >= 2 ? 'WebAssembly SIMD, 2 threads' : 'WebAssembly SIMD');
    // The untrained model has been tested once: about a tenth of the digits right.
    await page.waitForFunction(() => document.querySelector('#stat-test-acc')?.textContent?.endsWith('%'));
    expect(await textOf('#stat-test-acc')).toBeLessThan(30);
    expect(await page.locator('#net-notebook .synapse').count()).toBe(10);
    expect(await page.locator('#net-xor .synapse').count()).toBe(2 * 8 + 8 * 1);
    await shot('1-loaded.png');
    expect(errors).toEqual([]);
  });

  it('training a short run lowers the loss shown on the page', async () => {
    await page.click('#train');
    await page.waitForFunction(() => Number(document.querySelector('#stat-step')?.textContent?.split('/')[0].replace(/,/g, '')) >= 300, undefined, {
      timeout: 45_000,
    });
    await page.click('#train'); // pause
    await page.waitForSelector('#mnist[data-state="ready"]');
    const step = await textOf('#stat-step');
    // The chart's loss line from its first point (the mean of steps 1–10) to its last. The live
    // number alone could be read late on a loaded machine, after the loss has already dropped.
    const line = page.locator('#chart path[data-series="train loss"]');
    const point = async (end: 'first' | 'last') => ((await line.getAttribute(`data-${end}`)) ?? '').split(',').map(Number);
    const [firstStep, first] = await point('first');
    const [, last] = await point('last');
    expect(firstStep).toBeLessThanOrEqual(10); // a slice ends after 10 steps, or sooner after 100 ms
    expect(first).toBeGreaterThan(1); // about ln 10 = 2.3 at the start
    expect(await textOf('#stat-loss')).toBeCloseTo(last, 3); // the number beside the chart is its last point
    // Let the test accuracy of step 300 arrive.
    await page.waitForFunction(() => Number(document.querySelector('#stat-test-acc')?.textContent?.replace('%', '')) > 50);
    const accuracy = await textOf('#stat-test-acc');
    const speed = await textOf('#stat-speed');
    console.log(
      `e2e: loss ${first} at step ${firstStep} -> ${last} at step ${step}; test accuracy ${accuracy}%; ${speed} digits/s in the worker`,
    );
    expect(step).toBeGreaterThanOrEqual(300);
    expect(last).toBeLessThan(first / 3);
    expect(accuracy).toBeGreaterThan(85);
    expect(speed).toBeGreaterThan(0);
    expect(await page.locator('#chart path[data-series="train loss"]').count()).toBe(1);
    await shot('2-trained.png');
    expect(errors).toEqual([]);
  });

  it('drawing a stroke on the canvas updates the probabilities', async () => {
    const before = await probabilities();
    expect(before).toEqual(new Array(10).fill(0));
    await page.locator('#pad').scrollIntoViewIfNeeded();
    const box = (await page.locator('#pad').boundingBox())!;
    // A "1": one vertical stroke down the middle.
    const x = box.x + box.width / 2;
    await page.mouse.move(x, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(x + 6, box.y + box.height - 40, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(() => [...document.querySelectorAll('#probs .prob')].some((row) => (row as HTMLElement).dataset.prob !== '0'));
    const after = await probabilities();
    expect(after.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(after).not.toEqual(before);
    // The trained network reads the stroke as a 1.
    expect(after.indexOf(Math.max(...after))).toBe(1);
    expect(await page.textContent('#guess')).toContain('reads 1');
    await shot('3-drawn.png');
    expect(errors).toEqual([]);
  });

  it('the step button changes the weights drawn and shows the gradient on each synapse', async () => {
    const net = '#net-notebook';
    await page.locator(net).scrollIntoViewIfNeeded();
    const before = await synapses(net);
    expect(before.every((s) => s.grad === '')).toBe(true);
    await page.click(`${net} .step`);
    await page.waitForSelector(`${net}[data-steps="1"]`);
    const after = await synapses(net);
    expect(after).toHaveLength(10);
    // SGD moves every weight by −0.1·∂E/∂w, and every gradient of this network is non-zero.
    after.forEach((s, i) => {
      expect(Number(s.grad)).not.toBe(0);
      expect(Number.isFinite(Number(s.grad))).toBe(true);
      expect(Number(s.weight)).toBeCloseTo(Number(before[i].weight) - 0.1 * Number(s.grad), 6);
    });
    expect(after.some((s, i) => s.width !== before[i].width)).toBe(true);
    expect(await page.locator(`${net} line.gradient`).count()).toBe(10);
    // The notebook's chain rule for ∂E/∂w9 and ∂E/∂w10 agrees with backward().
    expect(await page.locator(`${net} .check .ok`).count()).toBe(2);

    const xor = '#net-xor';
    const xorBefore = await synapses(xor);
    await page.click(`${xor} .run`);
    await page.waitForSelector(`${xor}[data-steps="50"]`, { timeout: 20_000 });
    const xorAfter = await synapses(xor);
    expect(xorAfter.filter((s, i) => s.weight !== xorBefore[i].weight).length).toBeGreaterThan(20);
    expect(Number(await page.getAttribute(xor, 'data-loss'))).toBeLessThan(0.69);
    await shot('4-stepped.png');
    expect(errors).toEqual([]);
  });
});
