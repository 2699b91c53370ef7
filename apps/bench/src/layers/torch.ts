import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RepeatPlan } from '../stats';
import type { TorchCase } from './cases';
import type { SideTiming } from './ours';

/** torch as torch_layers.py finds it: version, threads, and the BLAS its gemm-bound layers run on. */
export interface TorchInfo {
  torch: string;
  threads: number;
  mkl: boolean;
  /** The BLAS shared libraries mapped into the process (Linux). */
  blasLibraries?: string[];
  /** float32 256×256 matmul, GFLOP/s, on its one thread. */
  matmul256Gflops: number;
}

/** What torch_layers.py says once started. */
export type TorchHello = ({ ready: true } & TorchInfo) | { ready: false; error: string };

/** torch_layers.py's answer for one case. */
export type TorchAnswer = ({ name: string } & SideTiming) | { name: string; error: string };

/**
 * PyTorch's side of the layer bench: `python torch_layers.py` kept running,
 * one JSON line per case each way, so that each case runs in torch right
 * after ours (under the same load) and torch is imported once. While ours is
 * timed, the Python process waits on its stdin and uses no CPU.
 */
export class TorchSide {
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

  /**
   * Starts `python script` and waits for its hello. Returns the reason
   * instead when there is no such Python, or torch does not import.
   */
  static async start(python: string, script: string): Promise<{ side: TorchSide; hello: TorchHello & { ready: true } } | { reason: string }> {
    if (!existsSync(python)) return { reason: `${python} not found` };
    const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const side = new TorchSide(child);
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', resolve);
    });
    if (spawned) return { reason: `${python} did not start: ${spawned.message}` };
    let hello: TorchHello;
    try {
      hello = JSON.parse(await side.#next()) as TorchHello;
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
  async time(c: TorchCase, plan: RepeatPlan): Promise<TorchAnswer> {
    try {
      this.#child.stdin.write(`${JSON.stringify({ case: c, plan })}\n`);
      return JSON.parse(await this.#next()) as TorchAnswer;
    } catch (error) {
      return { name: c.name, error: (error as Error).message };
    }
  }

  close(): void {
    this.#child.stdin.end();
    this.#child.kill();
  }
}
