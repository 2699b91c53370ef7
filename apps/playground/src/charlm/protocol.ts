/** The messages between the character-LM page and its worker (src/charlm/worker.ts). */
import type { BackendChoice, WebGpuOffer } from '../backends';

/** The largest model file the page reads (the app's default transformer is 0.4 MB). */
export const MAX_MODEL_FILE_BYTES = 64 * 1024 * 1024;

/** A live run: the app's transformer recipe with the run's length and seed chosen on the page. */
export interface NamesRunConfig {
  steps: number;
  /** Seeds the weights and the order of the names, as `pnpm charlm --seed`. */
  seed: number;
}

/** How names are drawn from a model. */
export interface SampleRequest {
  count: number;
  /** 0 takes the most likely character each time. */
  temperature: number;
  prefix: string;
  seed: number;
}

export type ToNamesWorker =
  /** Load the names pack from `dataUrl` and build a model from `config`. */
  | { type: 'init'; dataUrl: string; config: NamesRunConfig }
  | { type: 'start' }
  | { type: 'pause' }
  /** A fresh run from `config`, its model on `backend` (the CPU's at init). */
  | { type: 'reset'; config: NamesRunConfig; backend: BackendChoice }
  /** Read a model file written by `pnpm charlm` (safetensors bytes) and sample from it. */
  | { type: 'load'; name: string; bytes: ArrayBuffer; request: SampleRequest }
  /** Sample again from the loaded model. */
  | { type: 'sample'; request: SampleRequest };

export interface NamesProgress {
  step: number;
  totalSteps: number;
  /** Mean training loss of the steps since the last report. */
  loss: number;
  lr: number;
  /** Training names / seconds spent in forward, backward and update. */
  namesPerSecond: number;
}

export type FromNamesWorker =
  | {
      type: 'ready';
      /** The layer table (`summary` from @backprop/layers) of the live model. */
      summary: string;
      parameters: number;
      /** The choice the run trains on. */
      choice: BackendChoice;
      /** The ndarray backend it runs on: `wasm`, `js` or `webgpu`. */
      backend: string;
      /** The GPU's adapter (WebGPU only; may be empty). */
      adapter: string;
      names: number;
      trainSize: number;
      valSize: number;
      totalSteps: number;
      /** Milliseconds to fetch, inflate and decode the names (0 after a reset). */
      loadMs: number;
    }
  /** Whether WebGPU can be chosen here, sent once the worker has asked for an adapter. */
  | { type: 'backends'; webgpu: WebGpuOffer }
  | { type: 'progress'; progress: NamesProgress }
  /** Every few steps: the validation loss and fresh names from the same seeded draws. */
  | { type: 'samples'; step: number; valLoss: number; names: string[] }
  | { type: 'state'; running: boolean; done: boolean }
  /** A model file read: what it holds (names drawn from it follow as 'sampled'). */
  | { type: 'loaded'; name: string; description: string; parameters: number }
  /** A file that is not a transformer written by pnpm charlm: why (the model loaded before, if any, stays). */
  | { type: 'loadError'; name: string; message: string }
  | { type: 'sampled'; names: string[] }
  | { type: 'sampleError'; message: string }
  | { type: 'error'; message: string };
