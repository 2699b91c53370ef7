import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareData } from '@backprop/data/mnist/node';
import { argmax, array } from '@backprop/ndarray';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { MetricsFile } from '../src/report';
import { runApp } from './helpers';

describe('the app, end to end', () => {
  it('trains, writes metrics.json, model.safetensors and training.svg under --out, and --eval reads the model back', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mnist-main-'));
    const run = runApp(['--epochs', '1', '--batch-size', '128', '--seed', '3', '--out', 'runs/one'], cwd);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // --out is relative to the caller's directory (INIT_CWD), not the app's.
    const out = join(cwd, 'runs', 'one');
    for (const file of ['metrics.json', 'model.safetensors', 'training.svg']) expect(existsSync(join(out, file)), file).toBe(true);
    expect(readFileSync(join(out, 'training.svg'), 'utf8').startsWith('<svg')).toBe(true);

    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as MetricsFile;
    expect(metrics.model).toBe('mlp');
    expect(metrics.config).toMatchObject({ epochs: 1, batchSize: 128, seed: 3, optimizer: 'sgd', threads: 1 });
    expect(metrics.epochs).toHaveLength(1);
    expect(metrics.testAccuracy).toBeGreaterThan(0.85);
    expect(metrics.testAccuracy).toBeLessThanOrEqual(1);
    expect(metrics.epochs[0].testAccuracy).toBe(metrics.testAccuracy);
    expect(metrics.confusionMatrix.flat().reduce((a, b) => a + b)).toBe(2000);

    const percent = `${(100 * metrics.testAccuracy).toFixed(2)}%`;
    expect(run.stdout).toMatch(/^Loaded 10,000 MNIST digits \(8,000 train \/ 2,000 test, fixed split\)/);
    // summary()'s table of the model, for one batch of 128.
    expect(run.stdout).toMatch(/\n├─Linear: 1-1 +\[128, 128\] +100,480\n├─ReLU: 1-2 +\[128, 128\] +--\n├─Linear: 1-3 +\[128, 10\] +1,290\n/);
    expect(run.stdout).toContain('\nTotal params: 101,770\n');
    expect(run.stdout).toMatch(/\nepoch 1\/1 {2}train loss \d\.\d{4} {2}test loss \d\.\d{4} {2}test accuracy /);
    expect(run.stdout).toContain('Confusion matrix');
    expect(run.stdout).toContain(`Test accuracy ${percent}`);
    expect(run.stdout).toContain('Wrote runs/one/model.safetensors, runs/one/metrics.json and runs/one/training.svg');

    const evaluation = runApp(['--eval', 'runs/one/model.safetensors'], cwd);
    expect(evaluation.stderr).toBe('');
    expect(evaluation.status).toBe(0);
    expect(evaluation.stdout).toContain(`Test accuracy ${percent} (${Math.round(metrics.testAccuracy * 2000)}/2000)`);
    expect(evaluation.stdout).toContain(`recorded when trained: ${percent}`);

    const missing = runApp(['--eval', 'runs/none.safetensors'], cwd);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^mnist: cannot read model file .*none\.safetensors: ENOENT/);
  });

  it('--export-onnx also writes model.onnx, which ONNX Runtime runs to the same test accuracy', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mnist-onnx-'));
    const run = runApp(['--epochs', '1', '--batch-size', '256', '--export-onnx', '--out', 'runs/onnx'], cwd);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Wrote runs/onnx/model.safetensors, runs/onnx/model.onnx, runs/onnx/metrics.json and runs/onnx/training.svg');
    const metrics = JSON.parse(readFileSync(join(cwd, 'runs/onnx/metrics.json'), 'utf8')) as MetricsFile;

    const { test } = prepareData();
    const session = await ort.InferenceSession.create(readFileSync(join(cwd, 'runs/onnx/model.onnx')));
    const pixels = new ort.Tensor('float32', Float32Array.from(test.inputs.data), [...test.inputs.shape]);
    const { logits } = await session.run({ pixels });
    const predictions = argmax(array(Array.from(logits.data as Float32Array)).reshape([...logits.dims]), 1).data;
    const correct = test.labels.filter((label, i) => predictions[i] === label).length;
    expect(correct).toBe(Math.round(metrics.testAccuracy * 2000));
  });
});
