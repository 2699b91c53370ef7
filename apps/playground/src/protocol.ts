/** The messages between the page and the training worker (src/worker.ts). */
import type { BackendChoice, WebGpuOffer } from './backends';

/** How a run trains: apps/mnist's MLP recipe, with the run's length chosen on the page. */
export interface RunConfig {
  epochs: number;
  /** Peak learning rate; a cosine schedule takes it to 0 over the run. */
  lr: number;
  batchSize: number;
  /** Seeds the weights and the shuffling, as `pnpm train --seed`. */
  seed: number;
}

export type ToWorker =
  /** Load the digits from `dataUrl` (the gzipped pack) and build the model. */
  | { type: 'init'; dataUrl: string; config: RunConfig }
  | { type: 'start' }
  | { type: 'pause' }
  /** A fresh model (and optimizer, schedule, shuffling) from `config`, on `backend` (the CPU's at init). */
  | { type: 'reset'; config: RunConfig; backend: BackendChoice }
  /** Class probabilities of one 28×28 image, pixels in [0, 1] (the worker standardizes them as the training digits). */
  | { type: 'predict'; id: number; pixels: Float32Array };

/** One point of the chart and the numbers beside it. */
export interface Progress {
  step: number;
  totalSteps: number;
  epoch: number;
  /** Mean training loss of the batches since the last report. */
  loss: number;
  /** Fraction of those batches' digits classified right. */
  accuracy: number;
  lr: number;
  /** Training throughput so far: digits / seconds spent in forward, backward and step. */
  samplesPerSecond: number;
  /** Seconds spent training so far (evaluation excluded). */
  trainSeconds: number;
}

export interface Evaluation {
  step: number;
  testLoss: number;
  testAccuracy: number;
}

export type FromWorker =
  | {
      type: 'ready';
      /** `summary(model, [batchSize, 784])` from @backprop/layers. */
      summary: string;
      /** The choice the run trains on. */
      choice: BackendChoice;
      /** The ndarray backend it runs on: `wasm` (WebAssembly SIMD), `js`, or `webgpu`. */
      backend: string;
      /** The GPU's adapter, as its info describes it (WebGPU only; may be empty). */
      adapter: string;
      /** Threads the large products run on (`setNumThreads`): 2 on a cross-origin-isolated page, else 1. */
      threads: number;
      trainSize: number;
      testSize: number;
      totalSteps: number;
      normalization: { mean: number; std: number };
      /** Milliseconds to fetch, inflate and decode the digits (0 after a reset). */
      loadMs: number;
    }
  /** Whether WebGPU can be chosen here, sent once the worker has asked for an adapter. */
  | { type: 'backends'; webgpu: WebGpuOffer }
  | { type: 'progress'; progress: Progress }
  | { type: 'evaluation'; evaluation: Evaluation }
  | { type: 'state'; running: boolean; done: boolean }
  | { type: 'prediction'; id: number; probabilities: number[] }
  | { type: 'error'; message: string };
