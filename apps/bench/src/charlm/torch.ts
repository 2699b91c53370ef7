import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TorchInfo } from '../layers/torch';
import type { CharlmBatch, CharlmConfig } from './model';
import type { StepPlan, StepTiming } from './timing';

/** What torch_charlm.py says once started (torch's BLAS as torch_layers.py probes it). */
export type CharlmTorchHello = ({ ready: true } & Omit<TorchInfo, 'threads'>) | { ready: false; error: string };

/** One case as torch_charlm.py receives it. */
export interface CharlmTorchRequest {
  config: CharlmConfig;
  dtype: 'float32' | 'float64';
  threads: number;
  seed: number;
  batches: CharlmBatch[];
  plan: StepPlan;
}

/** torch_charlm.py's answer: the timing and the threads torch ran on, or the error. */
export type CharlmTorchAnswer = (StepTiming & { threads: number }) | { error: string };

/**
 * PyTorch's side: `python torch_charlm.py` kept running, one JSON line per
 * case each way, so that each case runs in torch right after ours (under the
 * same load) and torch is imported once. While ours is timed, the Python
 * process waits on its stdin and uses no CPU.
 */
export class CharlmTorch {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  #stderr = '';

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    // A write after the process died fails here; the next read reports that it ended.
    child.stdin.on('error', () => {});
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-2_000);
    });
    this.#lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts `python script` and waits for its hello; returns the reason instead when there is no such Python, or torch does not import. */
  static async start(
    python: string,
    script: string,
  ): Promise<{ side: CharlmTorch; hello: CharlmTorchHello & { ready: true } } | { reason: string }> {
    if (!existsSync(python)) return { reason: `${python} not found` };
    const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const side = new CharlmTorch(child);
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', resolve);
    });
    if (spawned) return { reason: `${python} did not start: ${spawned.message}` };
    let hello: CharlmTorchHello;
    try {
      hello = JSON.parse(await side.#next()) as CharlmTorchHello;
    } catch (error) {
      side.close();
      return { reason: `${python} ${script}: ${(error as Error).message}` };
    }
    if (!hello.ready) {
      side.close();
      return { reason: hello.error };
    }
    return { side, hello };
  }

  async #next(): Promise<string> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error(`the Python process ended${this.#stderr ? `: ${this.#stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
    return value;
  }

  /** Times one case in torch; an error of that case (or of the process) comes back as `{ error }`. */
  async time(request: CharlmTorchRequest): Promise<CharlmTorchAnswer> {
    try {
      this.#child.stdin.write(`${JSON.stringify(request)}\n`);
      return JSON.parse(await this.#next()) as CharlmTorchAnswer;
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  close(): void {
    this.#child.stdin.end();
    this.#child.kill();
  }
}
