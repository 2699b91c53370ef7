import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchResult, CONTENDERS, OURS, TASKS, TORCH, isOurs, isTorch } from '../src/types';
import { APP_DIR, runScript } from './run';

const MAIN = join(APP_DIR, 'src', 'main.ts');

function bench(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: APP_DIR, encoding: 'utf8' });
}

/** The same, without blocking this process: the quick run takes about a minute under CI's load. */
const benchAsync = (args: string[]) => runScript('main.ts', args, { exposeGc: false });

describe('pnpm bench --quick, end to end', () => {
  let dir: string;
  let result: BenchResult;
  let stdout: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    const json = join(dir, 'quick.json');
    const run = await benchAsync(['--quick', '--json', json]);
    stdout = run.stdout;
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    result = JSON.parse(readFileSync(json, 'utf8')) as BenchResult;
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the machine and the run', () => {
    expect(result.quick).toBe(true);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.cpu.length).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
  });

  it('has every contender, and every available one ran every task', () => {
    expect(result.contenders.map((c) => c.contender)).toEqual([...CONTENDERS]);
    for (const name of [...OURS, 'tfjs-cpu', 'tfjs-wasm']) {
      const c = result.contenders.find((r) => r.contender === name)!;
      expect(c.available, `${name}: ${c.reason}`).toBe(true);
    }
    for (const c of result.contenders) {
      if (!c.available) {
        // Only threaded wasm (TF.js cannot start it under Node) and torch (where Python has none) may be missing, saying why in one line.
        expect(['tfjs-wasm-2t', ...TORCH]).toContain(c.contender);
        expect(c.reason).toBeTruthy();
        expect(c.reason).not.toContain('\n');
        expect(stdout).toContain(`  unavailable: ${c.reason}`);
        continue;
      }
      for (const task of TASKS) {
        const done = c.measurements.some((m) => m.task === task) || c.unsupported.some((u) => u.task === task);
        expect(done, `${c.contender} ${task}`).toBe(true);
      }
      // Measured values are finite and positive, repeats included.
      for (const m of c.measurements) {
        expect(Number.isFinite(m.value) && m.value > 0, `${c.contender} ${m.task} ${m.case}`).toBe(true);
        expect(m.repeats.length).toBeGreaterThan(0);
      }
    }
    // Ours runs everything, nothing unsupported.
    const ours = result.contenders.find((r) => r.contender === 'ours')!;
    expect(ours.unsupported).toEqual([]);
  });

  it('gives a finite positive ratio for every peer measurement', () => {
    const all = result.contenders.flatMap((c) => c.measurements);
    const peers = all.filter((m) => !isOurs(m.contender));
    // Each peer measurement once per ours series that ran its case (ours-2t skips inference).
    const expected = OURS.reduce(
      (count, series) => count + peers.filter((p) => all.some((o) => o.contender === series && o.task === p.task && o.case === p.case)).length,
      0,
    );
    expect(expected).toBeGreaterThan(peers.length);
    expect(result.ratios.length).toBe(expected);
    for (const r of result.ratios) expect(Number.isFinite(r.ratio) && r.ratio > 0, `${r.task} ${r.case} ${r.peer}`).toBe(true);
  });

  it('checks every matmul against the float64 reference, and each passes', () => {
    const matmuls = result.contenders.flatMap((c) => c.measurements).filter((m) => m.task === 'matmul');
    expect(matmuls.some((m) => m.case.endsWith('float64'))).toBe(true);
    for (const m of matmuls) {
      expect(m.check, `${m.contender} ${m.case}`).toBeDefined();
      expect(m.check!.pass, `${m.contender} ${m.case}: ${m.check!.maxRelError} > ${m.check!.bound}`).toBe(true);
    }
  });

  it('trains every MLP contender past 50% test accuracy, loop and fit', () => {
    const mlps = result.contenders.flatMap((c) => c.measurements).filter((m) => m.task === 'mlp');
    // Each of ours × 2 batch sizes, loop + fit × 2 batch sizes for each TF.js backend that started, and each torch that did × 2.
    const tfjs = result.contenders.filter((c) => c.available && !isOurs(c.contender) && !isTorch(c.contender)).length;
    const torch = result.contenders.filter((c) => c.available && isTorch(c.contender)).length;
    expect(tfjs).toBeGreaterThanOrEqual(2);
    expect(mlps.length).toBe(OURS.length * 2 + tfjs * 2 * 2 + torch * 2);
    for (const m of mlps) expect(m.accuracy!, `${m.contender} ${m.variant ?? ''} ${m.case}`).toBeGreaterThan(0.5);
  });

  it('with torch: the same initial weights, the BLAS line, and the same test accuracy as ours (same weights, batches, recipe)', () => {
    for (const name of TORCH) {
      const c = result.contenders.find((r) => r.contender === name)!;
      if (!c.available) continue;
      expect(c.notes.join('\n')).toMatch(/BLAS_INFO=\w+, (no )?MKL, BLAS /);
      for (const model of ['MLP', 'CNN']) {
        const note = c.notes.find((n) => n.startsWith(`${model} initial logits equal ours`));
        expect(note, `${name} ${model}`).toBeDefined();
        expect(Number(/max \|Δ\| (\S+)/.exec(note!)![1]), `${name} ${model}`).toBeLessThan(1e-5);
      }
      for (const m of c.measurements.filter((x) => x.accuracy !== undefined)) {
        const ours = result.contenders[0].measurements.find((o) => o.task === m.task && o.case === m.case)!;
        // float32 sums in a different order: the same predictions but for a digit or two.
        expect(Math.abs(m.accuracy! - ours.accuracy!), `${name} ${m.task} ${m.case}`).toBeLessThanOrEqual(0.02);
      }
    }
  });

  it('reports heap before and after the timed epochs of ours, after a forced GC, and the bytes a step allocates', () => {
    const ours = result.contenders.find((r) => r.contender === 'ours')!;
    for (const m of ours.measurements.filter((x) => x.task === 'mlp')) {
      expect(m.heap?.gcForced).toBe(true);
      expect(m.heap!.before.heapUsed).toBeGreaterThan(0);
      expect(m.heap!.after.heapUsed).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/ours MLP batch 64: heap used [\d.]+ MB → [\d.]+ MB/);
    // Bytes per step, probed on a copy of each model: the MLP's and the CNN's.
    for (const task of ['mlp', 'cnn']) {
      const m = ours.measurements.find((x) => x.task === task);
      expect(m?.heap?.allocation?.steps, task).toBe(10);
    }
    expect(stdout).toMatch(/ours CNN batch \d+: heap used .* allocates (≥ )?\d+ KB of typed arrays per step/);
  });

  it('prints the table with ours ÷ peer', () => {
    expect(stdout).toContain('| task');
    expect(stdout).toContain('ours ÷ peer');
    expect(stdout).toMatch(/\| mlp +\| batch 64 +\| tfjs-wasm \(loop\)/);
    // The ratios alone, each peer on ours' threads: ours ÷ torch beside ours ÷ tfjs-wasm where torch ran.
    const torchRan = result.contenders.some((c) => c.contender === 'torch' && c.available);
    expect(stdout).toMatch(torchRan ? /\| task +\| case +\| ours ÷ tfjs-cpu \| ours ÷ tfjs-wasm \| ours ÷ torch \| ours-2t ÷ torch-2t \|/ : /\| ours ÷ tfjs-wasm \|/);
  });
});

describe('command line', () => {
  it('--help prints the usage and exits 0', () => {
    const run = bench(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--only NAMES');
  });

  it('rejects an unknown --only name, naming it and the choices', () => {
    const run = bench(['--only', 'pytorch']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--only: unknown name 'pytorch'");
    expect(run.stderr).toContain('tfjs-wasm');
  });

  it('without torch, skips torch and torch-2t with one line each and runs the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    try {
      const json = join(dir, 'no-torch.json');
      const run = bench(['--quick', '--only', 'ours,torch,torch-2t,infer', '--python', '/nonexistent/python3', '--json', json]);
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout.match(/ {2}unavailable: \/nonexistent\/python3 not found\n/g)).toHaveLength(2);
      const result = JSON.parse(readFileSync(json, 'utf8')) as BenchResult;
      expect(result.contenders.map((c) => [c.contender, c.available])).toEqual([
        ['ours', true],
        ['torch', false],
        ['torch-2t', false],
      ]);
      expect(result.contenders[0].measurements.map((m) => m.task)).toEqual(['infer']);
      expect(result.ratios).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('rejects an unknown flag', () => {
    const run = bench(['--fast']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--fast');
  });
});
