import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalize, splitDataset } from '@backprop/data/mnist';
import { loadDigits } from '@backprop/data/mnist/node';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/evaluate';
import { loadModel } from '../src/io';
import { main } from '../src/main';
import { Capture } from './helpers';

/** What tools/torch-ddp/roundtrip.py printed and measured (its --report), for the model it wrote. */
interface DdpReport {
  kind: 'mnist';
  from: string;
  backend: string;
  worldSize: number;
  steps: number;
  printed: string;
  accuracy: number;
  correct: number;
  count: number;
  loss: number;
  predictions: number[];
}

const FIXTURES = new URL('../../../tools/torch-ddp/fixtures/', import.meta.url);
const MODEL = fileURLToPath(new URL('cnn-ddp.safetensors', FIXTURES));
const report: DdpReport = JSON.parse(readFileSync(new URL('cnn-ddp.json', FIXTURES), 'utf8'));

describe('a CNN continued in PyTorch with DDP (tools/torch-ddp/roundtrip.py)', () => {
  it('was written by a 2-rank gloo run of the app-trained CNN', () => {
    const { metadata } = loadModel(MODEL);
    expect(metadata.architecture.name).toBe('cnn');
    expect(report).toMatchObject({ kind: 'mnist', backend: 'gloo', worldSize: 2 });
    expect(metadata.training?.ddp).toEqual([expect.objectContaining({ backend: 'gloo', worldSize: 2, steps: report.steps, from: report.from })]);
    expect(metadata.testAccuracy).toBe(report.accuracy);
  });

  it('pnpm train --eval prints the accuracy and loss PyTorch printed', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(['--eval', MODEL], { stdout, stderr, cwd: process.cwd() });
    expect(stderr.text).toBe('');
    expect(code).toBe(0);
    expect(stdout.text).toContain(`${report.printed}; recorded when trained: ${(100 * report.accuracy).toFixed(2)}%`);
    expect(stdout.text).toContain(`(${report.correct}/${report.count})`);
  });

  it("classifies each test digit as PyTorch did, and its mean loss is PyTorch's within float32 rounding", () => {
    const { model, metadata } = loadModel(MODEL);
    const { test } = splitDataset(loadDigits());
    const evaluation = evaluate(model, normalize(test, metadata.normalization), { sampleShape: metadata.architecture.inputShape });
    expect(evaluation.count).toBe(report.count);
    expect(Array.from(evaluation.predictions)).toEqual(report.predictions);
    expect(Math.round(evaluation.accuracy * evaluation.count)).toBe(report.correct);
    // A sum of 2,000 float32 cross-entropies, in another order than PyTorch's.
    expect(Math.abs(evaluation.loss - report.loss) / report.loss).toBeLessThan(1e-5);
  });
});
