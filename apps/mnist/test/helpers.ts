import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The PyTorch fixture written by tools/torch-fixtures/mnist.py. */
export interface TorchMlpFixture {
  meta: { generator: string; torch: string };
  normalization: { mean: number; std: number };
  indices: number[];
  labels: number[];
  predictions: number[];
  accuracy: number;
  logits: { shape: number[]; dtype: 'float32'; data: number[] };
}

export function readFixture(): TorchMlpFixture {
  return JSON.parse(readFileSync(new URL('./fixtures/torch-mlp.json', import.meta.url), 'utf8'));
}

export const FIXTURE_MODEL = new URL('./fixtures/torch-mlp.safetensors', import.meta.url);

/** Collects what a reporter or the app writes. */
export class Capture {
  text = '';
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const appDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs the app as a user would (`tsx src/main.ts ...`), from `cwd` (also its
 * INIT_CWD, as pnpm sets it); with `timeout` (ms) a hung run is killed
 * (its `status` is then null).
 */
export function runApp(args: string[], cwd = appDir, { timeout }: { timeout?: number } = {}) {
  return spawnSync(process.execPath, [tsx, fileURLToPath(new URL('../src/main.ts', import.meta.url)), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: cwd },
    timeout,
  });
}

/** A process id no process has (above Linux's largest pid_max, 2^22): stands for a run that was killed. */
export const DEAD_PID = 4_194_305;
