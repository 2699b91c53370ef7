import { type PythonHello, PythonPeer } from '../python';
import type { TorchInfo } from '../layers/torch';
import type { CharlmBatch, CharlmConfig } from './model';
import type { StepPlan, StepTiming } from './timing';

/** What torch_charlm.py says once started (torch's BLAS as torch_layers.py probes it). */
export type CharlmTorchHello = PythonHello<Omit<TorchInfo, 'threads'>>;

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
 * PyTorch's side: `python torch_charlm.py` kept running (a {@link PythonPeer}),
 * one JSON line per case each way, so that each case runs in torch right
 * after ours.
 */
export class CharlmTorch {
  private constructor(readonly peer: PythonPeer) {}

  /** Starts `python script` and waits for its hello; returns the reason instead when there is no such Python, or torch does not import. */
  static async start(
    python: string,
    script: string,
  ): Promise<{ side: CharlmTorch; hello: CharlmTorchHello & { ready: true } } | { reason: string }> {
    const started = await PythonPeer.start<Omit<TorchInfo, 'threads'>>(python, script);
    if ('reason' in started) return started;
    return { side: new CharlmTorch(started.peer), hello: started.hello };
  }

  /** Times one case in torch; an error of that case (or of the process) comes back as `{ error }`. */
  async time(request: CharlmTorchRequest): Promise<CharlmTorchAnswer> {
    try {
      return (await this.peer.request(request)) as CharlmTorchAnswer;
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  close(): void {
    this.peer.close();
  }
}
