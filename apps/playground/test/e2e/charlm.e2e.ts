/**
 * The character-LM page (charlm.html) in Chromium, as playground.e2e.ts
 * drives the MNIST page: a few training steps in the worker make new names
 * appear and lower the loss; a model file written under apps/charlm's names
 * (the PyTorch fixture of tools/torch-fixtures/playground_charlm.py) gives
 * PyTorch's greedy names; bad files are refused on the page, with no error
 * anywhere and the worker still answering.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { array, encodeSafetensors } from '@backprop/ndarray';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type BrowserSession, SHOTS, openBrowser } from './chromium';

const MODEL = fileURLToPath(new URL('../fixtures/charlm-tiny.safetensors', import.meta.url));
const fixture = JSON.parse(readFileSync(new URL('../fixtures/charlm-tiny.json', import.meta.url), 'utf8')) as { greedy: Record<string, string> };

let page: Page;
const errors: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, name), fullPage: true });
const listed = (selector: string) => page.$$eval(`${selector} li`, (items) => items.map((li) => li.textContent ?? ''));
const sampledCount = async () => Number((await page.getAttribute('#load', 'data-sampled')) ?? 0);

let browser: BrowserSession | undefined;

beforeAll(async () => {
  browser = await openBrowser({ errors, worker: 'the names worker' });
  ({ page } = browser);
});

afterAll(async () => {
  await browser?.close();
});

describe('the character-LM page in Chromium', () => {
  it('loads the names, trains a few steps in the worker and shows new names and a lower loss', async () => {
    await page.goto(new URL('charlm.html', inject('baseURL')).href);
    await page.waitForSelector('#charlm[data-state="ready"]', { timeout: 30_000 });
    expect(await page.textContent('#status')).toContain('30,294 names loaded');
    expect(await page.textContent('#summary')).toContain('(wte): Embedding(27, 32)');
    await page.waitForSelector('#samples[data-step="0"]');
    const untrained = await listed('#samples');
    expect(untrained).toHaveLength(10);

    await page.click('#train');
    await page.waitForSelector('#samples[data-step="50"]', { timeout: 45_000 });
    await page.click('#train'); // pause
    await page.waitForSelector('#charlm[data-state="ready"]');
    const trained = await listed('#samples');
    expect(trained).toHaveLength(10);
    expect(trained).not.toEqual(untrained);
    expect(trained.every((name) => /^([a-z]+|\(empty\))$/.test(name))).toBe(true);
    // Two lines of history (steps 0 and 50), newest first, each with its validation loss.
    const history = await page.$$eval('#history li', (items) => items.map((li) => [Number((li as HTMLElement).dataset.step), Number(li.textContent?.split('·')[1])]));
    expect(history.slice(-2).map(([step]) => step)).toEqual([50, 0]);
    const [[, val50], [, val0]] = history.slice(-2);
    expect(val0).toBeGreaterThan(3); // about ln 27 = 3.3 untrained
    expect(val50).toBeLessThan(val0 - 0.2);
    const line = page.locator('#chart path[data-series="train loss"]');
    const [first, last] = await Promise.all(['first', 'last'].map(async (end) => Number(((await line.getAttribute(`data-${end}`)) ?? '').split(',')[1])));
    expect(last).toBeLessThan(first);
    console.log(`e2e charlm: validation loss ${val0} -> ${val50} after 50 steps; names at step 50: ${trained.join(' ')}`);
    await shot('5-charlm-trained.png');
    expect(errors).toEqual([]);
  });

  it('samples PyTorch’s greedy names from a model file, and refuses bad files on the page', async () => {
    await page.selectOption('#temperature', '0');
    await page.fill('#prefix', 'ma');
    await page.setInputFiles('#file', MODEL);
    await page.waitForFunction(() => document.querySelector('#load')?.getAttribute('data-sampled') === '1');
    expect(await page.textContent('#load-status')).toContain('transformer, C = 16, 2 heads, 1 blocks');
    expect(await listed('#loaded-samples')).toEqual(new Array(10).fill(fixture.greedy.ma));
    await page.fill('#prefix', 'jo');
    await page.press('#prefix', 'Tab'); // a changed prefix samples again
    await page.waitForFunction(() => document.querySelector('#load')?.getAttribute('data-sampled') === '2');
    expect(await listed('#loaded-samples')).toEqual(new Array(10).fill(fixture.greedy.jo));

    // Not safetensors, and an LSTM of the app: each refused with why; the loaded model stays.
    await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a model at all') });
    await page.waitForSelector('#load[data-state="error"]');
    expect(await page.textContent('#load-status')).toMatch(/notes\.txt is not a model this page can read: not a safetensors file/);
    const lstm = encodeSafetensors(
      { 'wte.weight': array(new Float32Array(27 * 4), { shape: [27, 4] }) },
      { config: JSON.stringify({ model: 'lstm', vocabSize: 27, blockSize: 16, embedDim: 4, hidden: 8, layers: 1 }), vocab: '[]' },
    );
    await page.setInputFiles('#file', { name: 'lstm.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(lstm) });
    await page.waitForFunction(() => document.querySelector('#load-status')?.textContent?.includes('lstm.safetensors'));
    expect(await page.textContent('#load-status')).toContain('samples from transformers only; the file holds a lstm model');
    await shot('6-charlm-bad-file.png');
    const before = await sampledCount();
    await page.click('#sample');
    await page.waitForFunction((n) => Number(document.querySelector('#load')?.getAttribute('data-sampled')) === n + 1, before);
    expect(await listed('#loaded-samples')).toEqual(new Array(10).fill(fixture.greedy.jo));
    await shot('7-charlm-sampled.png');
    expect(errors).toEqual([]);
  });
});
