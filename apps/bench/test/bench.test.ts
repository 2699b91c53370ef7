import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchResult, CONTENDERS, OURS, TASKS, isOurs } from '../src/types';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(APP_DIR, 'src', 'main.ts');

function bench(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: APP_DIR, encoding: 'utf8' });
}

/**
 * The same, without blocking this process: the quick run takes about a minute
 * under CI's load, longer than vitest waits for a blocked worker to answer.
 */
function benchAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: APP_DIR });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

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
        // Only threaded wasm may be missing (TF.js cannot start it under Node), and it must say why.
        expect(c.contender).toBe('tfjs-wasm-2t');
        expect(c.reason).toBeTruthy();
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
    // ours and ours-2t × 2 batch sizes, and loop + fit × 2 batch sizes for each TF.js backend that started.
    const tfjs = result.contenders.filter((c) => c.available && !isOurs(c.contender)).length;
    expect(tfjs).toBeGreaterThanOrEqual(2);
    expect(mlps.length).toBe(OURS.length * 2 + tfjs * 2 * 2);
    for (const m of mlps) expect(m.accuracy!, `${m.contender} ${m.variant ?? ''} ${m.case}`).toBeGreaterThan(0.5);
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

  it('rejects an unknown flag', () => {
    const run = bench(['--fast']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--fast');
  });
});
