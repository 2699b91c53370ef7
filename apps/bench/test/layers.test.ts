import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as built from '@backprop/layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/args';
import { layerCases } from '../src/layers/cases';
import { parseLayersCli } from '../src/layers/main';
import { benchIndices } from '../src/layers/ours';
import { type LayerBenchResult, type LayerRow, checkSums, measured, renderLayerTable } from '../src/layers/report';
import { timePerCall } from '../src/stats';
import { APP_DIR, runScript } from './run';

const positive = (v: number) => Number.isFinite(v) && v > 0;

function expectMeasured(row: LayerRow, side: 'ours' | 'torch') {
  const timing = row[side];
  expect(measured(timing), `${row.name} ${side}: ${'skipped' in timing ? timing.skipped : ''}`).toBe(true);
  if (!measured(timing)) return;
  expect(positive(timing.msPerCall), `${row.name} ${side} ${timing.msPerCall}`).toBe(true);
  expect(timing.repeats.length).toBeGreaterThan(0);
  for (const r of timing.repeats) expect(positive(r), `${row.name} ${side} repeat ${r}`).toBe(true);
}

/** The torch side ran (Debian's python3-torch is there) or the run says in one line why not. */
function expectTorch(result: LayerBenchResult, stdout: string) {
  if ('unavailable' in result.torch) {
    expect(stdout).toContain(`torch: unavailable (${result.torch.unavailable})`);
    for (const row of result.rows) expect(row.torch).toEqual({ skipped: 'no torch' });
    return false;
  }
  expect(result.torch.threads).toBe(1);
  for (const row of result.rows) expectMeasured(row, 'torch');
  return true;
}

const names = layerCases(false).map((c) => c.name);

describe('pnpm bench --only layers --quick (the built @backprop/layers), end to end', () => {
  let dir: string;
  let result: LayerBenchResult;
  let stdout: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-layers-'));
    const json = join(dir, 'layers.json');
    const out = await runScript('main.ts', ['--only', 'layers', '--quick', '--json', json]);
    stdout = out.stdout;
    expect(out.status, `${out.stdout}\n${out.stderr}`).toBe(0);
    result = JSON.parse(readFileSync(json, 'utf8')) as LayerBenchResult;
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has a row per layer, in the table too', () => {
    expect(result.quick).toBe(true);
    expect(result.rows.map((r) => r.name)).toEqual(names);
    const table = stdout.slice(stdout.indexOf('| layer'));
    for (const c of layerCases(true)) expect(table).toContain(`| ${c.label} `);
    expect(table).toContain('ours ÷ torch');
  });

  it('times every layer the package exports, and names each one it does not', () => {
    for (const row of result.rows) {
      if (typeof (built as Record<string, unknown>)[row.name] === 'function') expectMeasured(row, 'ours');
      else {
        expect(row.ours).toEqual({ skipped: expect.stringContaining(`does not export ${row.name}`) });
        expect(stdout).toContain(`${row.name}: skipped: @backprop/layers does not export ${row.name}`);
      }
    }
  });

  it('times torch on one thread, or says in one line why it cannot', () => {
    expectTorch(result, stdout);
  });
});

describe('the layer bench --quick --source (every layer of the working tree), end to end', () => {
  let dir: string;
  let result: LayerBenchResult;
  let stdout: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-layers-src-'));
    const json = join(dir, 'layers.json');
    const out = await runScript(join('layers', 'main.ts'), ['--quick', '--source', '--json', json]);
    stdout = out.stdout;
    expect(out.status, `${out.stdout}\n${out.stderr}`).toBe(0);
    result = JSON.parse(readFileSync(json, 'utf8')) as LayerBenchResult;
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('times ours for every layer: finite, positive', () => {
    expect(result.rows.map((r) => r.name)).toEqual(names);
    for (const row of result.rows) expectMeasured(row, 'ours');
  });

  it('with torch: a finite positive ratio, and the same numbers as torch for every layer', () => {
    if (!expectTorch(result, stdout)) return;
    for (const row of result.rows) {
      expect(positive(row.ratio!), `${row.name} ratio ${row.ratio}`).toBe(true);
      expect(row.check?.pass, `${row.name}: ${JSON.stringify(row.check)}`).toBe(true);
    }
  });
});

describe('layer bench pieces', () => {
  it('checkSums passes float32 noise and fails a different computation, a NaN or a missing gradient', () => {
    const torch = { output: [10, 100] as [number, number], inputGrad: [-3, 50] as [number, number], parameterGrads: [1, 20] as [number, number] };
    const noisy = { ...torch, output: [10 + 1e-5, 100 - 1e-5] as [number, number] };
    expect(checkSums(noisy, torch).pass).toBe(true);
    expect(checkSums(torch, torch)).toEqual({ maxRelDiff: 0, pass: true, worst: '' });
    const other = checkSums({ ...torch, inputGrad: [-3, 51] }, torch);
    expect(other).toMatchObject({ pass: false, worst: 'inputGrad' });
    expect(other.maxRelDiff).toBeCloseTo(1 / 50, 12);
    expect(checkSums({ ...torch, parameterGrads: [Number.NaN, 20] }, torch)).toMatchObject({ pass: false, worst: 'parameterGrads' });
    const { inputGrad: _, ...noInputGrad } = torch;
    expect(checkSums(noInputGrad, torch)).toMatchObject({ pass: false, worst: 'inputGrad only in torch' });
    expect(checkSums(noInputGrad, noInputGrad).pass).toBe(true);
  });

  it('timePerCall warms up, sizes the repeats and stops at the cap', () => {
    let calls = 0;
    const busy = () => {
      calls++;
      const t = performance.now();
      while (performance.now() - t < 1);
    };
    // 1 ms calls and 100 ms repeats: several calls a repeat even on a loaded machine.
    const t = timePerCall(busy, { warmupMs: 0, warmupCalls: 3, repeatMs: 100, repeats: 4, minRepeats: 2, capMs: 1e9 });
    expect(t.warmupCalls).toBe(3);
    expect(t.repeats.length).toBe(4);
    expect(t.callsPerRepeat).toBeGreaterThanOrEqual(2);
    expect(calls).toBe(3 + 4 * t.callsPerRepeat);
    expect(t.msPerCall).toBeGreaterThanOrEqual(1);
    // Past minRepeats, a spent cap stops it.
    const capped = timePerCall(busy, { warmupMs: 0, warmupCalls: 1, repeatMs: 0, repeats: 10, minRepeats: 2, capMs: 0 });
    expect(capped.repeats.length).toBe(2);
  });

  it('draws the same indices as torch_layers.py: (31·i + 7) mod high, int32', () => {
    const x = benchIndices([2, 3], 11);
    expect(x.dtype).toBe('int32');
    expect(x.shape).toEqual([2, 3]);
    expect(Array.from(x.data)).toEqual([7, 38 % 11, 69 % 11, 100 % 11, 131 % 11, 162 % 11]);
  });

  it('renders one row per case, skipped sides and a failed check included', () => {
    const timing = { msPerCall: 2, repeats: [2], callsPerRepeat: 1, warmupCalls: 1, sums: { output: [1, 1] as [number, number], parameterGrads: [0, 0] as [number, number] } };
    const table = renderLayerTable([
      { name: 'GELU', label: 'GELU()', input: '[2, 3]', ours: timing, torch: { ...timing, msPerCall: 0.5 }, ratio: 4, check: { maxRelDiff: 2e-7, pass: true, worst: 'output' } },
      { name: 'SiLU', label: 'SiLU()', input: '[2, 3]', ours: { skipped: 'not exported' }, torch: timing },
      { name: 'LSTM', label: 'LSTM(1, 2)', input: '[1, 1, 1]', ours: timing, torch: timing, ratio: 1, check: { maxRelDiff: 0.5, pass: false, worst: 'inputGrad' } },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[2]).toMatch(/\| GELU\(\) +\| \[2, 3\] +\| 2\.00 ms \| 0\.50 ms \| +4\.00× \| ✓ 2e-7/);
    expect(lines[3]).toMatch(/\| SiLU\(\) .*\| skipped \| 2\.00 ms \| +\| +\|/);
    expect(lines[4]).toContain('✗ 5e-1 (inputGrad)');
  });
});

describe('layer bench command line', () => {
  it('rejects an unknown layer, naming it and the choices', () => {
    expect(() => parseLayersCli(['--only', 'LSTM,Transformer'])).toThrow(/--only: unknown layer 'Transformer'; expected some of .*GRU/);
    expect(parseLayersCli(['--only', 'LSTM,GRU', '--quick'])).toMatchObject({ only: ['LSTM', 'GRU'], quick: true, source: false });
  });

  it('pnpm bench --only layers selects the layer bench', () => {
    expect(parseCli(['--only', 'layers', '--quick'])).toMatchObject({ layers: true, quick: true });
    expect(parseCli(['--only', 'mlp']).layers).toBe(false);
  });

  it('pnpm bench runs layers alone', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(APP_DIR, 'src', 'main.ts'), '--only', 'layers,mlp'], {
      cwd: APP_DIR,
      encoding: 'utf8',
    });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("--only: 'layers' runs the layer bench alone; got layers,mlp");
  });

  it('without torch, times ours alone and says so in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-layers-nopy-'));
    try {
      const json = join(dir, 'layers.json');
      const out = await runScript(join('layers', 'main.ts'), ['--quick', '--source', '--only', 'Conv1d', '--python', '/nonexistent/python3', '--json', json]);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout).toContain('torch: unavailable (/nonexistent/python3 not found); timing ours alone');
      const result = JSON.parse(readFileSync(json, 'utf8')) as LayerBenchResult;
      expect(result.rows.map((r) => r.name)).toEqual(['Conv1d']);
      expectMeasured(result.rows[0], 'ours');
      expect(result.rows[0].torch).toEqual({ skipped: 'no torch' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
