import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchGenerator } from '@backprop/ndarray';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/args';
import { parseCharlmCli } from '../src/charlm/main';
import { CharTransformer, charlmBatches, charlmConfig, IGNORE, makeOursStep } from '../src/charlm/model';
import { type CharlmBenchResult, type CharlmRow, checkLosses, LOSS_TOLERANCE, measuredSide, renderCharlmTable } from '../src/charlm/report';
import { stepPlan, timeSteps } from '../src/charlm/timing';
import { APP_DIR, runScript } from './run';

const positive = (v: number) => Number.isFinite(v) && v > 0;

function expectMeasured(row: CharlmRow, side: 'ours' | 'torch') {
  const timing = row[side];
  const what = `${row.dtype} ${row.threads} ${side}`;
  expect(measuredSide(timing), `${what}: ${'skipped' in timing ? timing.skipped : ''}`).toBe(true);
  if (!measuredSide(timing)) return;
  expect(positive(timing.msPerStep), `${what} ${timing.msPerStep}`).toBe(true);
  expect(timing.repeats).toHaveLength(stepPlan(true).repeats);
  for (const r of timing.repeats) expect(positive(r), `${what} repeat ${r}`).toBe(true);
  expect(timing.losses).toHaveLength(stepPlan(true).checkSteps);
  for (const loss of [...timing.losses, timing.lastLoss]) expect(positive(loss), `${what} loss ${loss}`).toBe(true);
}

describe('pnpm bench --only charlm --quick, end to end', () => {
  let dir: string;
  let result: CharlmBenchResult;
  let stdout: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-charlm-'));
    const json = join(dir, 'charlm.json');
    const out = await runScript('main.ts', ['--only', 'charlm', '--quick', '--json', json]);
    stdout = out.stdout;
    expect(out.status, `${out.stdout}\n${out.stderr}`).toBe(0);
    result = JSON.parse(readFileSync(json, 'utf8')) as CharlmBenchResult;
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has a row per dtype and thread count, in the table too, and ours timed in each', () => {
    expect(result.quick).toBe(true);
    expect(result.config).toEqual(charlmConfig(true));
    expect(result.plan).toEqual(stepPlan(true));
    expect(result.rows.map((r) => `${r.dtype} ${r.threads}`)).toEqual(['float32 1', 'float32 2', 'float64 1', 'float64 2']);
    const table = stdout.slice(stdout.indexOf('| dtype'));
    expect(table.split('\n')[0]).toMatch(/\| dtype +\| threads \| ours ms\/step \| ours steps\/s \| torch ms\/step \| torch steps\/s \| ours ÷ torch \| same losses \|/);
    for (const r of result.rows) {
      expect(table).toMatch(new RegExp(`\\| ${r.dtype} +\\| +${r.threads} \\|`));
      expectMeasured(r, 'ours');
    }
  });

  it('times torch on the same threads with the same losses, or says in one line why it cannot', () => {
    if ('unavailable' in result.torch) {
      expect(stdout).toContain(`torch: unavailable (${result.torch.unavailable}); timing ours alone`);
      for (const row of result.rows) expect(row.torch).toEqual({ skipped: 'no torch' });
      return;
    }
    expect(result.torch.torch).toMatch(/^1\.13/);
    for (const row of result.rows) {
      expectMeasured(row, 'torch');
      expect(positive(row.ratio!), `${row.dtype} ${row.threads} ratio ${row.ratio}`).toBe(true);
      expect(row.check, `${row.dtype} ${row.threads}`).toMatchObject({ pass: true, tolerance: LOSS_TOLERANCE[row.dtype] });
      expect(row.check!.maxRelDiff).toBeLessThanOrEqual(LOSS_TOLERANCE[row.dtype]);
    }
    expect(stdout).toMatch(/\| float32 +\| +1 \| .* \| ✓ \de-\d+ +\|/);
  });
});

describe('the charlm bench without torch', () => {
  it('times ours alone and says so in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-charlm-nopy-'));
    try {
      const json = join(dir, 'charlm.json');
      const out = await runScript(join('charlm', 'main.ts'), ['--quick', '--no-float64', '--python', '/nonexistent/python3', '--json', json]);
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout).toContain('torch: unavailable (/nonexistent/python3 not found); timing ours alone');
      const result = JSON.parse(readFileSync(json, 'utf8')) as CharlmBenchResult;
      expect(result.torch).toEqual({ unavailable: '/nonexistent/python3 not found' });
      expect(result.rows.map((r) => `${r.dtype} ${r.threads}`)).toEqual(['float32 1', 'float32 2']);
      for (const row of result.rows) {
        expectMeasured(row, 'ours');
        expect(row.torch).toEqual({ skipped: 'no torch' });
        expect(row.check).toBeUndefined();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('charlm bench pieces', () => {
  it('builds the batches as apps/charlm encodes names: boundary 0, letters, end 0, then ignored targets', () => {
    const config = charlmConfig(true);
    const { batchSize: B, blockSize: T } = config;
    const batches = charlmBatches(config, 3, 1);
    expect(batches).toHaveLength(3);
    expect(charlmBatches(config, 3, 1)).toEqual(batches);
    expect(charlmBatches(config, 3, 2)).not.toEqual(batches);
    for (const { x, y } of batches) {
      expect(x).toHaveLength(B * T);
      expect(y).toHaveLength(B * T);
      for (let b = 0; b < B; b++) {
        const xs = x.slice(b * T, (b + 1) * T);
        const ys = y.slice(b * T, (b + 1) * T);
        const length = ys.indexOf(0);
        expect(length).toBeGreaterThanOrEqual(3);
        expect(length).toBeLessThanOrEqual(T - 2);
        expect(xs[0]).toBe(0);
        // The target is the input shifted by one, up to the end token; the rest is ignored.
        for (let t = 0; t < length; t++) {
          expect(ys[t]).toBe(xs[t + 1]);
          expect(ys[t]).toBeGreaterThanOrEqual(1);
          expect(ys[t]).toBeLessThan(config.vocabSize);
        }
        for (let t = length + 1; t < T; t++) expect(ys[t]).toBe(IGNORE);
      }
    }
  });

  it('names its parameters as torch does', () => {
    const model = new CharTransformer(charlmConfig(true), { dtype: 'float32', rng: new TorchGenerator(0) });
    const names = Object.keys(model.stateDict());
    expect(names.slice(0, 4)).toEqual(['wte.weight', 'wpe.weight', 'encoder.layers.0.self_attn.in_proj_weight', 'encoder.layers.0.self_attn.in_proj_bias']);
    expect(names).toContain('encoder.norm.weight');
    expect(names.slice(-2)).toEqual(['head.weight', 'head.bias']);
  });

  it('trains: the same seed gives the same losses, and the loss falls on a repeated batch', () => {
    const config = charlmConfig(true);
    const batches = charlmBatches(config, 1, 1);
    const plan = { warmupSteps: 4, checkSteps: 4, stepsPerRepeat: 3, repeats: 2 };
    const a = timeSteps(makeOursStep(config, 'float64', 0, batches), plan);
    const b = timeSteps(makeOursStep(config, 'float64', 0, batches), plan);
    expect(b.losses).toEqual(a.losses);
    expect(a.losses).toHaveLength(4);
    expect(a.repeats).toHaveLength(2);
    expect(a.lastLoss).toBeLessThan(a.losses[0]);
    const other = timeSteps(makeOursStep(config, 'float64', 1, batches), plan);
    expect(other.losses[0]).not.toBe(a.losses[0]);
  });

  it('timeSteps runs warm-up then repeats, numbering the steps on', () => {
    const seen: number[] = [];
    const t = timeSteps(
      (i) => {
        seen.push(i);
        return 10 - i;
      },
      { warmupSteps: 3, checkSteps: 2, stepsPerRepeat: 2, repeats: 3 },
    );
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(t.losses).toEqual([10, 9]);
    expect(t.lastLoss).toBe(2);
    expect(t.repeats).toHaveLength(3);
    expect(() => timeSteps(() => 0, { warmupSteps: 1, checkSteps: 2, stepsPerRepeat: 1, repeats: 1 })).toThrow(/checkSteps \(2\) must not exceed warmupSteps \(1\)/);
  });

  it('checkLosses passes float32 noise and fails a different loss, a NaN or a missing step', () => {
    const torch = [3.45, 3.43, 3.4];
    expect(checkLosses([3.45 * (1 + 1e-7), 3.43, 3.4], torch, LOSS_TOLERANCE.float32).pass).toBe(true);
    const off = checkLosses([3.45, 3.43 * (1 + 1e-3), 3.4], torch, LOSS_TOLERANCE.float32);
    expect(off.pass).toBe(false);
    expect(off.maxRelDiff).toBeCloseTo(1e-3, 9);
    expect(checkLosses([3.45 * (1 + 1e-7), 3.43, 3.4], torch, LOSS_TOLERANCE.float64).pass).toBe(false);
    expect(checkLosses([Number.NaN, 3.43, 3.4], torch, LOSS_TOLERANCE.float32)).toMatchObject({ pass: false, maxRelDiff: Number.POSITIVE_INFINITY });
    expect(checkLosses([3.45, 3.43], torch, LOSS_TOLERANCE.float32).pass).toBe(false);
  });

  it('renders one row per case, a skipped side and a failed check included', () => {
    const timing = { msPerStep: 20, repeats: [20], losses: [3.4], lastLoss: 3 };
    const table = renderCharlmTable([
      { dtype: 'float32', threads: 1, ours: timing, torch: { ...timing, msPerStep: 10 }, ratio: 2, check: { maxRelDiff: 3e-8, tolerance: 1e-4, pass: true } },
      { dtype: 'float32', threads: 2, ours: timing, torch: { skipped: 'no torch' } },
      { dtype: 'float64', threads: 1, ours: timing, torch: timing, ratio: 1, check: { maxRelDiff: 0.5, tolerance: 1e-10, pass: false } },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[2]).toMatch(/\| float32 \| +1 \| +20\.0 ms \| +50\.0 \| +10\.0 ms \| +100 \| +2\.00× \| ✓ 3e-8 +\|/);
    expect(lines[3]).toMatch(/\| float32 \| +2 \| +20\.0 ms \| +50\.0 \| +skipped \| +\| +\| +\|/);
    expect(lines[4]).toContain('✗ 5e-1');
  });
});

describe('charlm bench command line', () => {
  it('pnpm bench --only charlm selects the charlm bench, alone', () => {
    expect(parseCli(['--only', 'charlm', '--quick'])).toMatchObject({ charlm: true, layers: false, quick: true });
    expect(parseCli(['--only', 'mlp']).charlm).toBe(false);
    expect(() => parseCli(['--only', 'charlm,layers'])).toThrow("--only: 'layers' runs the layer bench alone; got charlm,layers");
    expect(() => parseCli(['--only', 'charlm,mlp'])).toThrow("--only: 'charlm' runs the charlm step bench alone; got charlm,mlp");
  });

  it('parses its own flags and rejects an unknown one', () => {
    expect(parseCharlmCli(['--quick', '--no-float64'])).toMatchObject({ quick: true, float64: false, python: '/usr/bin/python3' });
    expect(parseCharlmCli([])).toMatchObject({ quick: false, float64: true });
    expect(() => parseCharlmCli(['--threads', '4'])).toThrow(/--threads/);
  });

  it('pnpm bench --only charlm,mlp exits 2 naming the clash', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(APP_DIR, 'src', 'main.ts'), '--only', 'charlm,mlp'], {
      cwd: APP_DIR,
      encoding: 'utf8',
    });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain("--only: 'charlm' runs the charlm step bench alone; got charlm,mlp");
  });
});
