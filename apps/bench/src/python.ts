import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Debian's Python, where `apt-get install python3-torch` puts torch: every torch peer's default. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** What a torch peer script prints first: `{ ready: true, ... }` once torch is imported, or why not. */
export type PythonHello<Info> = ({ ready: true } & Info) | { ready: false; error: string };

/**
 * A Python script kept running and spoken to in JSON lines, one request and
 * one answer each way, so that torch is imported once and each request runs
 * right after ours (under the same load). While ours is timed, the Python
 * process waits on its stdin and uses no CPU. The torch peers of the layer
 * bench, the charlm bench and the contender bench all talk through this.
 */
export class PythonPeer {
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
   * Starts `python script ...args` and waits for its hello. Returns the reason
   * instead (one line) when there is no such Python, it does not start, or
   * its hello says torch does not import.
   */
  static async start<Info>(
    python: string,
    script: string,
    args: string[] = [],
  ): Promise<{ peer: PythonPeer; hello: { ready: true } & Info } | { reason: string }> {
    if (!existsSync(python)) return { reason: `${python} not found` };
    const child = spawn(python, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new PythonPeer(child);
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', resolve);
    });
    if (spawned) return { reason: `${python} did not start: ${spawned.message}` };
    let hello: PythonHello<Info>;
    try {
      hello = JSON.parse(await peer.#next()) as PythonHello<Info>;
    } catch (error) {
      peer.close();
      return { reason: `${python} ${script}: ${(error as Error).message}` };
    }
    if (!hello.ready) {
      peer.close();
      return { reason: hello.error };
    }
    return { peer, hello };
  }

  async #next(): Promise<string> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error(`the Python process ended${this.#stderr ? `: ${this.#stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
    return value;
  }

  /** Sends one request and parses the answer line; throws when the process has ended. */
  async request(message: unknown): Promise<unknown> {
    this.#child.stdin.write(`${JSON.stringify(message)}\n`);
    return JSON.parse(await this.#next());
  }

  close(): void {
    this.#child.stdin.end();
    this.#child.kill();
  }
}
