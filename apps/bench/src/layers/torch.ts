import { type PythonHello, PythonPeer } from '../python';
import { type RepeatPlan, formatValue } from '../stats';
import type { TorchCase } from './cases';
import type { SideTiming } from './ours';

/** torch as torch_layers.py finds it: version, threads, and the BLAS its gemm-bound layers run on. */
export interface TorchInfo {
  torch: string;
  threads: number;
  mkl: boolean;
  /** `BLAS_INFO` of `torch.__config__.show()`: `generic` in Debian's build (whatever libblas.so.3 is installed), `mkl` in pip's. */
  blasInfo?: string;
  /** The BLAS shared libraries mapped into the process (Linux). */
  blasLibraries?: string[];
  /** float32 256×256 matmul, GFLOP/s, on its one thread. */
  matmul256Gflops: number;
}

/** What torch_layers.py says once started. */
export type TorchHello = PythonHello<TorchInfo>;

/** torch_layers.py's answer for one case. */
export type TorchAnswer = ({ name: string } & SideTiming) | { name: string; error: string };

/**
 * PyTorch's side of the layer bench: `python torch_layers.py` kept running
 * (a {@link PythonPeer}), one JSON line per case each way, so that each case
 * runs in torch right after ours.
 */
export class TorchSide {
  private constructor(readonly peer: PythonPeer) {}

  /** Starts `python script` and waits for its hello; returns the reason instead when there is no such Python, or torch does not import. */
  static async start(python: string, script: string): Promise<{ side: TorchSide; hello: TorchHello & { ready: true } } | { reason: string }> {
    const started = await PythonPeer.start<TorchInfo>(python, script);
    if ('reason' in started) return started;
    return { side: new TorchSide(started.peer), hello: started.hello };
  }

  /** Times one case in torch; an error of that case (or of the process) comes back as `{ error }`. */
  async time(c: TorchCase, plan: RepeatPlan): Promise<TorchAnswer> {
    try {
      return (await this.peer.request({ case: c, plan })) as TorchAnswer;
    } catch (error) {
      return { name: c.name, error: (error as Error).message };
    }
  }

  close(): void {
    this.peer.close();
  }
}

/** The BLAS line of torch: what it was built with, MKL or not, the library mapped, its matmul speed. */
export function describeBlas(info: TorchInfo): string {
  const libs = info.blasLibraries?.length ? info.blasLibraries.join(', ') : 'no BLAS library found mapped';
  const built = info.blasInfo ? `BLAS_INFO=${info.blasInfo}, ` : '';
  return `${built}${info.mkl ? 'MKL' : 'no MKL'}, BLAS ${libs}; float32 256×256 matmul ${formatValue(info.matmul256Gflops)} GFLOP/s`;
}
