import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Vocabulary, blockSizeFor, encodeNames, splitNames } from '@backprop/data/names';
import { loadNames } from '@backprop/data/names/node';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const tsx = createRequire(import.meta.url).resolve('tsx/cli');

/**
 * Runs `tsx src/main.ts args` as `pnpm charlm` would from `cwd`. Asynchronous,
 * so vitest's worker keeps answering its runner while a run trains.
 */
function runApp(args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [tsx, fileURLToPath(new URL('../src/main.ts', import.meta.url)), ...args], {
    cwd,
    env: { ...process.env, INIT_CWD: cwd },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('the app, end to end', () => {
  it('trains briefly, writes its files under --out, and --eval and --sample read the model back', { timeout: 180_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'charlm-main-'));
    const run = await runApp(['--model', 'mlp', '--steps', '30', '--eval-every', '15', '--seed', '2', '--out', 'runs/short'], cwd);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = join(cwd, 'runs', 'short');
    for (const file of ['metrics.json', 'model.safetensors', 'loss.svg']) expect(existsSync(join(out, file)), file).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ model: 'mlp', seed: 2, split: { train: 24236, val: 3029, test: 3029 } });
    expect(metrics.recipe.steps).toBe(30);
    expect(metrics.history.map((p: { step: number }) => p.step)).toEqual([15, 30]);
    expect(metrics.valLoss).toBeLessThan(3.3); // log 27 = 3.30: better than uniform after 30 steps
    expect(metrics.bigram.val).toBeCloseTo(2.4548, 4);
    expect(run.stdout).toMatch(/^Loaded 30,294 names \(24,236 train \/ 3,029 val \/ 3,029 test, fixed split\)/);
    expect(run.stdout).toMatch(/\nstep +15\/30 +train \d\.\d{4} +val \d\.\d{4} /);
    expect(run.stdout).toContain('Wrote runs/short/metrics.json, runs/short/loss.svg, runs/short/model.safetensors');

    const evaluation = await runApp(['--eval', '--load', 'runs/short/model.safetensors'], cwd);
    expect(evaluation.stderr).toBe('');
    expect(evaluation.stdout).toContain(`test loss ${metrics.testLoss.toFixed(4)} nats/char; recorded when trained: test ${metrics.testLoss.toFixed(4)}`);

    const sampled = await runApp(['--sample', '5', '--seed', '1', '--load', 'runs/short/model.safetensors'], cwd);
    expect(sampled.status).toBe(0);
    const names = sampled.stdout.trimEnd().split('\n');
    expect(names).toHaveLength(5);
    for (const name of names) expect(name).toMatch(/^[a-z]{0,15}$/);
    expect((await runApp(['--sample', '5', '--seed', '1', '--load', 'runs/short/model.safetensors'], cwd)).stdout).toBe(sampled.stdout);

    const long = await runApp(['--sample', '1', '--prefix', 'abcdefghijklmno', '--load', 'runs/short/model.safetensors'], cwd);
    expect(long.status).toBe(2);
    expect(long.stderr).toMatch(/^charlm: --prefix 'abcdefghijklmno' is longer than this model's names can start with \(at most 14 letters\)/);
  });

  it('--export-onnx writes model.onnx, whose logits give the validation loss the run printed; a run without it removes a stale one', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'charlm-onnx-'));
    const run = await runApp(['--model', 'bigram', '--export-onnx', '--out', 'runs/b'], cwd);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('runs/b/model.onnx');
    const metrics = JSON.parse(readFileSync(join(cwd, 'runs/b/metrics.json'), 'utf8'));

    const names = loadNames();
    const vocab = Vocabulary.of(names);
    const { val } = splitNames(names);
    const { x, y } = encodeNames(val, vocab, blockSizeFor(names));
    const session = await ort.InferenceSession.create(readFileSync(join(cwd, 'runs/b/model.onnx')));
    const ids = new ort.Tensor('int64', BigInt64Array.from(Array.from(x.data, (v) => BigInt(v))), [...x.shape]);
    const { logits } = await session.run({ ids });
    const V = vocab.size;
    const scores = logits.data as Float32Array;
    let total = 0;
    let count = 0;
    for (let i = 0; i < y.size; i++) {
      const target = y.data[i];
      if (target < 0) continue;
      const row = scores.subarray(i * V, (i + 1) * V);
      const max = Math.max(...row);
      total += max + Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0)) - row[target];
      count++;
    }
    expect(total / count).toBeCloseTo(metrics.valLoss, 5);

    const again = await runApp(['--model', 'bigram', '--out', 'runs/b'], cwd);
    expect(again.status).toBe(0);
    expect(existsSync(join(cwd, 'runs/b/model.onnx'))).toBe(false);
  });

  it('exits 2 on a bad command line and 1 on a missing model, with one clear line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'charlm-main-'));
    const bad = await runApp(['--steps', 'ten'], cwd);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^charlm: --steps must be an integer .*got 'ten'\nRun with --help for usage\.\n$/);
    const unknown = await runApp(['--modle', 'lstm'], cwd);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe('charlm: unknown flag --modle (did you mean --model?)\nRun with --help for usage.\n');
    writeFileSync(join(cwd, 'taken'), 'a file, not a folder');
    const blocked = await runApp(['--model', 'bigram', '--out', 'taken'], cwd);
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toMatch(/^charlm: cannot create the output folder .*taken: EEXIST/);
    expect(blocked.stdout).toBe(''); // refused before loading anything
    const missing = await runApp(['--eval'], cwd);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^charlm: cannot read the model file .*runs\/charlm-transformer\/model\.safetensors: ENOENT.*train one first/);
  });
});
