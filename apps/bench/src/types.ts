/** The contenders, in the order they run. */
export const CONTENDERS = ['ours', 'ours-2t', 'ours-js', 'tfjs-cpu', 'tfjs-wasm', 'tfjs-wasm-2t', 'torch', 'torch-2t'] as const;
export type ContenderName = (typeof CONTENDERS)[number];

/**
 * Our contenders: the default (WebAssembly SIMD gemm, one thread), two threads
 * (`setNumThreads(2)`), and the pure-TypeScript fallback (`setBackend(jsBackend)`,
 * what runs where WebAssembly SIMD is missing); every other contender is a peer.
 */
export const OURS = ['ours', 'ours-2t', 'ours-js'] as const;
export type OursName = (typeof OURS)[number];
export const isOurs = (name: string): name is OursName => (OURS as readonly string[]).includes(name);

/**
 * PyTorch (Debian's `/usr/bin/python3` with python3-torch) on one thread
 * (`torch.set_num_threads(1)`) and two: a peer in a Python process of its own,
 * skipped with one line where torch does not import.
 */
export const TORCH = ['torch', 'torch-2t'] as const;
export type TorchName = (typeof TORCH)[number];
export const isTorch = (name: string): name is TorchName => (TORCH as readonly string[]).includes(name);

/** The tasks; `--only` takes these names too. */
export const TASKS = ['matmul', 'mlp', 'cnn', 'infer'] as const;
export type TaskName = (typeof TASKS)[number];

/** A matmul result checked against the float64 reference of the same run. */
export interface MatmulCheck {
  /** max over entries of |C − R| / (|A|·|B|): the error relative to the sum it rounds. */
  maxRelError: number;
  /** The worst-case rounding bound γₙ = n·u / (1 − n·u) for the dtype (plus the reference's own for float64). */
  bound: number;
  pass: boolean;
}

/** Heap of the ours MLP before and after its timed epochs, after a forced GC when available. */
export interface HeapReport {
  gcForced: boolean;
  before: { heapUsed: number; arrayBuffers: number; external: number };
  after: { heapUsed: number; arrayBuffers: number; external: number };
  /** Garbage collections that ran during the timed epochs, by kind. */
  gcDuringTimed: { minor: number; major: number; other: number; pauseMs: number };
  steps: number;
  /**
   * Typed-array bytes a step allocates, from the growth of
   * memoryUsage().arrayBuffers over a few steps of a separate copy of the
   * model (so the timed run is untouched). A GC inside the window frees some:
   * then the figure is a lower bound (`gcs` > 0).
   */
  allocation?: { bytesPerStep: number; steps: number; gcs: number };
}

/** One measured number: a task case for one contender (and variant). */
export interface Measurement {
  task: TaskName;
  /** Which case of the task: `n=512 float32`, `batch 64`, … */
  case: string;
  contender: ContenderName;
  /** `loop` or `fit` for TF.js training; absent elsewhere. */
  variant?: string;
  metric: 'GFLOP/s' | 'samples/s' | 'µs';
  /** `higher` for throughputs, `lower` for latencies. */
  better: 'higher' | 'lower';
  /** The median of `repeats`. */
  value: number;
  repeats: number[];
  check?: MatmulCheck;
  /** Test accuracy after the training that was timed (MLP, CNN). */
  accuracy?: number;
  /** Set where a slow contender ran fewer steps than the others: the training steps it ran in all (warm-up included). */
  trainedSteps?: number;
  /** Steps actually run per timed repeat and the warm-up, for the record. */
  detail?: string;
  heap?: HeapReport;
}

/** A task case a contender cannot run, with the error that proves it. */
export interface Unsupported {
  task: TaskName;
  case: string;
  contender: ContenderName;
  variant?: string;
  reason: string;
}

/** What one contender's child process reports. */
export interface ContenderReport {
  contender: ContenderName;
  available: boolean;
  /** Why the contender could not start at all. */
  reason?: string;
  /** e.g. `tfjs-core 4.22.0, backend wasm, SIMD on, 1 thread`. */
  description: string;
  measurements: Measurement[];
  unsupported: Unsupported[];
  notes: string[];
  seconds: number;
}

/** ours ÷ peer, as a speed ratio (> 1: ours is faster). */
export interface Ratio {
  /** Which of ours: one thread, two, or the TypeScript fallback. */
  ours: OursName;
  task: TaskName;
  case: string;
  peer: string;
  ratio: number;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  os: string;
  node: string;
  v8: string;
  totalMemoryGiB: number;
  loadAverageAtStart: number[];
  /** Set when the run ends: other jobs on the machine show here. */
  loadAverageAtEnd?: number[];
}

/** The JSON the bench writes. */
export interface BenchResult {
  date: string;
  command: string;
  quick: boolean;
  machine: MachineInfo;
  config: unknown;
  contenders: ContenderReport[];
  ratios: Ratio[];
  seconds: number;
}
