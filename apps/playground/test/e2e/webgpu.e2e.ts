/**
 * Both pages in Chromium launched with WebGPU on SwiftShader (a GPU in
 * software; see chromium.ts's WEBGPU_FLAGS): each worker offers WebGPU, a
 * few steps on the CPU and then on WebGPU lower the loss on both, the speed
 * of each backend stays on the page beside the other's, and nothing logs an
 * error. SwiftShader runs WGSL on the CPU, far slower than a GPU, so the runs
 * are the app's but stop early (20 MNIST steps, 10 of the transformer). The
 * figures it reads are SwiftShader's on this machine, not a GPU's.
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

/**
 * Waits until `condition` holds in the page, asking every 200 ms with
 * `page.evaluate`. (Playwright's waitForFunction and waitForSelector were
 * seen answering 30 s late while SwiftShader kept the GPU process busy;
 * evaluate answers at once.)
 */
async function until<A>(what: string, condition: (arg: A) => boolean, arg: A, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await page.evaluate(condition as (arg: unknown) => boolean, arg as unknown))) {
    if (Date.now() > deadline) throw new Error(`e2e webgpu: waited ${timeout / 1000} s for ${what}${errors.length > 0 ? `; errors: ${errors.join('; ')}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const stepReached = (n: number) => Number(document.querySelector('#stat-step')?.textContent?.split('/')[0].replace(/,/g, '')) >= n;
const isState = ([section, state, backend]: string[]) =>
  document.querySelector(`${section}[data-state="${state}"]${backend === '' ? '' : `[data-backend="${backend}"]`}`) !== null;

/** Waits for the worker's WebGPU offer; fails with the page's reason when it has none. */
async function webGpuOffered(): Promise<void> {
  await until('the worker to ask for WebGPU', () => !document.querySelector('#backend option[value="webgpu"]')?.textContent?.includes('checking'), undefined, 30_000);
  const option = page.locator('#backend option[value="webgpu"]');
  if (await option.isDisabled()) throw new Error(`Chromium launched with WebGPU on SwiftShader offers none: "${await option.textContent()}"`);
}

/** Trains from where the run is to at least `steps`, then pauses and waits for the pause. */
async function trainTo(section: string, steps: number, timeout: number): Promise<void> {
  await page.click('#train');
  await until(`step ${steps}`, stepReached, steps, timeout);
  await page.click('#train'); // pause
  await until('the pause', isState, [section, 'ready', ''], timeout);
}

/** The chart's train-loss line: its first and last points, [step, loss]. */
async function lossLine(): Promise<{ first: number[]; last: number[] }> {
  const line = page.locator('#chart path[data-series="train loss"]');
  const point = async (end: 'first' | 'last') => ((await line.getAttribute(`data-${end}`)) ?? '').split(',').map(Number);
  return { first: await point('first'), last: await point('last') };
}

/** The last speed of a backend on the page's speed line (0 when it has none). */
const speedOf = async (backend: string) => Number((await page.getAttribute(`#speeds [data-backend="${backend}"]`, 'data-value')) ?? 0);

let browser: BrowserSession | undefined;

beforeAll(async () => {
  browser = await openBrowser({ errors, worker: 'a training worker', webgpu: true });
  ({ page } = browser);
});

afterAll(async () => {
  await browser?.close();
});

describe('the pages in Chromium with WebGPU (SwiftShader)', () => {
  it('MNIST: WebGPU is offered, and 20 steps on it lower the loss, beside the CPU’s speed', async () => {
    await page.goto(inject('baseURL'));
    await until('the digits', isState, ['#mnist', 'ready', 'cpu'], 30_000);
    await webGpuOffered();
    // The CPU first (the default), for its speed.
    await trainTo('#mnist', 20, 30_000);
    const cpu = await lossLine();
    const cpuSpeed = await speedOf('cpu');
    expect(cpuSpeed).toBeGreaterThan(0);

    // WebGPU: a new run, its model on the GPU, tested once on the 2,000 digits there.
    await page.selectOption('#backend', 'webgpu');
    await until('the run on WebGPU', isState, ['#mnist', 'ready', 'webgpu'], 30_000);
    expect(await page.textContent('#stat-backend')).toMatch(/^WebGPU/);
    expect(await page.textContent('#stat-step')).toBe('0 / 625');
    await until('the test accuracy', () => document.querySelector('#stat-test-acc')?.textContent?.endsWith('%') === true, undefined, 30_000);
    await trainTo('#mnist', 20, 60_000);
    const gpu = await lossLine();
    expect(gpu.first[1]).toBeGreaterThan(1); // about ln 10 = 2.3 at the start
    expect(gpu.last[0]).toBeGreaterThanOrEqual(20);
    expect(gpu.last[1]).toBeLessThan(gpu.first[1] / 1.5);
    // The same run as on the CPU, from the same seed: the same mean loss over the same first steps, to float32 rounding.
    if (gpu.first[0] === cpu.first[0]) expect(gpu.first[1]).toBeCloseTo(cpu.first[1], 3);
    expect(await page.textContent('#stat-speed-on')).toBe('WebGPU:');
    const gpuSpeed = await speedOf('webgpu');
    expect(gpuSpeed).toBeGreaterThan(0);
    expect(await textOf('#stat-speed')).toBe(Math.round(gpuSpeed));
    // The CPU's figure is still there, to compare.
    expect(await speedOf('cpu')).toBe(cpuSpeed);
    expect(await page.textContent('#speeds')).toMatch(/^CPU [\d,]+ · WebGPU [\d,]+ digits\/s$/);

    // A drawing read by the model on the GPU.
    await page.locator('#pad').scrollIntoViewIfNeeded();
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 6, box.y + box.height - 40, { steps: 8 });
    await page.mouse.up();
    await until('the probabilities', () => [...document.querySelectorAll('#probs .prob')].some((row) => (row as HTMLElement).dataset.prob !== '0'), undefined, 30_000);
    const probabilities = await page.$$eval('#probs .prob', (rows) => rows.map((row) => Number((row as HTMLElement).dataset.prob)));
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    console.log(
      `e2e webgpu: MNIST loss ${gpu.first[1]} at step ${gpu.first[0]} -> ${gpu.last[1]} at step ${gpu.last[0]} on WebGPU (CPU: ${cpu.first[1]} at step ${cpu.first[0]}); ` +
        `${Math.round(cpuSpeed)} digits/s on the CPU, ${Math.round(gpuSpeed)} on WebGPU (${(await page.textContent('#stat-backend'))?.replace(/^WebGPU \(?|\)$/g, '')}, in software)`,
    );
    await shot('10-webgpu-mnist.png');
    expect(errors).toEqual([]);
  }, 90_000);

  it('names: 10 steps of the transformer on WebGPU lower the loss, beside the CPU’s speed', async () => {
    await page.goto(new URL('charlm.html', inject('baseURL')).href);
    await until('the names', isState, ['#charlm', 'ready', 'cpu'], 30_000);
    // Leaving the MNIST page closed its worker (and the worker's second thread): nothing else may have happened.
    expect(errors.splice(0).filter((error) => error !== 'a training worker closed')).toEqual([]);
    await webGpuOffered();
    await trainTo('#charlm', 10, 30_000);
    const cpuSpeed = await speedOf('cpu');
    expect(cpuSpeed).toBeGreaterThan(0);

    await page.selectOption('#backend', 'webgpu');
    await until('the run on WebGPU', isState, ['#charlm', 'ready', 'webgpu'], 30_000);
    expect(await page.textContent('#stat-backend')).toMatch(/^WebGPU/);
    // Train at once: the validation loss and names of step 0 are still being computed on the GPU, and the steps queue behind them.
    await trainTo('#charlm', 10, 75_000);
    const { first, last } = await lossLine();
    expect(last[0]).toBeGreaterThanOrEqual(10);
    expect(first[1]).toBeGreaterThan(3); // about ln 27 = 3.3 untrained
    expect(last[1]).toBeLessThan(first[1]);
    // Step 0's names, drawn on the GPU (each position's logits read with await toHost()), and its validation loss.
    const history = await page.$$eval('#history li', (items) => items.map((li) => [(li as HTMLElement).dataset.step ?? '', li.textContent ?? '']));
    expect(history).toHaveLength(1);
    const [[step0, line]] = history;
    expect(step0).toBe('0');
    const [, valLoss, names = ''] = line.split(' · ');
    expect(Number(valLoss)).toBeGreaterThan(3);
    expect(names.split(' ')).toHaveLength(10);
    expect(await page.textContent('#stat-speed-on')).toBe('WebGPU:');
    const gpuSpeed = await speedOf('webgpu');
    expect(gpuSpeed).toBeGreaterThan(0);
    expect(await speedOf('cpu')).toBe(cpuSpeed);
    expect(await page.textContent('#speeds')).toMatch(/^CPU [\d,]+ · WebGPU [\d,]+ names\/s$/);
    console.log(
      `e2e webgpu: names loss ${first[1]} at step ${first[0]} -> ${last[1]} at step ${last[0]} on WebGPU; validation loss ${valLoss} at step 0; ` +
        `${Math.round(cpuSpeed)} names/s on the CPU, ${Math.round(gpuSpeed)} on WebGPU (in software)`,
    );
    await shot('11-webgpu-charlm.png');
    expect(errors).toEqual([]);
  }, 90_000);
});
