/**
 * The training worker: loads the digits, trains `pnpm train`'s MLP a slice at a
 * time (10 steps, or 100 ms if that comes first) and posts progress after
 * every slice, so the page never waits on it. Between slices it answers pause, reset and predict. Here
 * ndarray compiles its WebAssembly SIMD gemm synchronously, which browsers
 * allow in a worker for a module of any size. It also asks once for a WebGPU
 * backend (`createWebGpuBackend()` of @backprop/webgpu, from the worker's
 * `navigator.gpu`) and tells the page whether it can be chosen; a reset
 * builds the next run on the backend the page chose. A slice on the GPU waits
 * for the device at its end (one read of its losses), and the worker answers
 * messages while it waits.
 */
import { TensorDataset } from '@backprop/data';
// The browser-safe half of the MNIST module: the split and standardization; the file reader is in /mnist/node.
import { type Digits, MnistDataError, PIXELS, TEST_SIZE, TRAIN_SIZE, prepareDigits } from '@backprop/data/mnist';
import { NDArray, getNumThreads, setNumThreads } from '@backprop/ndarray';
import type { BackendChoice } from './backends';
import { decodeDigits } from './digits-pack';
import type { FromWorker, RunConfig, ToWorker } from './protocol';
import { hostBackend } from './run-on';
import { Trainer } from './trainer';
import { webGpu } from './webgpu';

/** A slice ends after this many steps (a point of the chart) or this many milliseconds, whichever comes first. */
const REPORT_EVERY = 10;
const SLICE_MS = 100;
/** Evaluate on the test digits every this many steps (a multiple of REPORT_EVERY) and at the end. */
const EVAL_EVERY = 50;

// The worker's global scope, typed by hand: the page's tsconfig has the DOM's
// lib, whose `self` is a Window.
const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

let digits: Digits | null = null;
let trainer: Trainer | null = null;
let running = false;
// A zero-delay yield between slices: setTimeout(0) is clamped to 4 ms after a few nestings.
const tick = new MessageChannel();
tick.port1.onmessage = () => void slice();

const post = (message: FromWorker) => scope.postMessage(message);

/** Fetches the gzipped digits pack and inflates it with the browser's DecompressionStream. */
async function loadDigits(url: string): Promise<Digits> {
  const response = await fetch(url);
  if (!response.ok || response.body === null) {
    throw new MnistDataError(`could not load the digits from ${url}: HTTP ${response.status}`);
  }
  const inflated = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  const pack = decodeDigits(new Uint8Array(inflated));
  if (pack.pixelsPerDigit !== PIXELS) {
    throw new MnistDataError(`the digits pack holds ${pack.pixelsPerDigit} pixels per digit; expected ${PIXELS}`);
  }
  return new TensorDataset(new NDArray(pack.pixels, [pack.count, PIXELS]), pack.labels);
}

/**
 * Two threads for the large products when the page is cross-origin isolated
 * (the dev and preview servers send COOP/COEP; SharedArrayBuffer needs it)
 * and the machine has a second core; one otherwise. The results are the same
 * bit for bit either way.
 */
async function useTwoThreads(): Promise<void> {
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (!isolated || navigator.hardwareConcurrency < 2) return;
  try {
    await setNumThreads(2);
  } catch (error) {
    console.warn(`playground: training on one thread: ${(error as Error).message}`);
  }
}

/** The backend of a choice: the CPU's, or the worker's WebGPU backend (an error saying why not where there is none). */
async function backendFor(choice: BackendChoice) {
  if (choice === 'cpu') return { backend: hostBackend, adapter: '' };
  const gpu = await webGpu();
  if (gpu.backend === undefined) throw new Error(`WebGPU: ${gpu.offer.available ? 'no backend' : gpu.offer.reason}`);
  return { backend: gpu.backend, adapter: gpu.offer.available ? gpu.offer.adapter : '' };
}

async function build(config: RunConfig, choice: BackendChoice, loadMs: number): Promise<void> {
  running = false;
  trainer = null;
  const { backend, adapter } = await backendFor(choice);
  const next = new Trainer(prepareDigits(digits!), config, { backend });
  trainer = next;
  post({
    type: 'ready',
    summary: next.summary(),
    choice,
    backend: backend.name,
    adapter,
    threads: getNumThreads(),
    trainSize: TRAIN_SIZE,
    testSize: TEST_SIZE,
    totalSteps: next.totalSteps,
    normalization: next.normalization,
    loadMs,
  });
  const evaluation = await next.evaluate();
  if (trainer !== next) return; // reset meanwhile
  post({ type: 'evaluation', evaluation });
  post({ type: 'state', running, done: false });
}

/** Whether a slice is under way (it may be waiting for the GPU): the next is scheduled when it ends. */
let slicing = false;

async function slice(): Promise<void> {
  if (!running || trainer === null || slicing) return;
  const current = trainer;
  slicing = true;
  try {
    const stopAt = (Math.floor(current.step / REPORT_EVERY) + 1) * REPORT_EVERY;
    const progress = await current.train(SLICE_MS, stopAt);
    if (trainer !== current) return; // a reset while the GPU worked: this run is gone
    post({ type: 'progress', progress });
    if (current.step % EVAL_EVERY === 0 || current.done) {
      const evaluation = await current.evaluate();
      if (trainer !== current) return;
      post({ type: 'evaluation', evaluation });
    }
    if (current.done) {
      running = false;
      post({ type: 'state', running: false, done: true });
    }
  } catch (error) {
    if (trainer !== current) return;
    running = false;
    post({ type: 'error', message: (error as Error).message });
    post({ type: 'state', running: false, done: false });
  } finally {
    slicing = false;
    // The next slice, of this run or of one started since a reset.
    if (running && trainer !== null && !trainer.done) tick.port2.postMessage(null);
  }
}

async function predict(id: number, pixels: Float32Array): Promise<void> {
  const current = trainer;
  if (current === null) return;
  const probabilities = await current.predict(pixels);
  if (trainer === current) post({ type: 'prediction', id, probabilities });
}

scope.onmessage = async ({ data: message }) => {
  try {
    switch (message.type) {
      case 'init': {
        const start = performance.now();
        // WebGPU is asked for while the digits load; the page hears whether it can offer it.
        webGpu().then(({ offer }) => post({ type: 'backends', webgpu: offer }));
        await useTwoThreads();
        digits = await loadDigits(message.dataUrl);
        await build(message.config, 'cpu', performance.now() - start);
        break;
      }
      case 'reset':
        if (digits) await build(message.config, message.backend, 0);
        break;
      case 'start':
        if (trainer && !trainer.done && !running) {
          running = true;
          post({ type: 'state', running: true, done: false });
          void slice();
        }
        break;
      case 'pause':
        if (running) {
          running = false;
          post({ type: 'state', running: false, done: trainer?.done ?? false });
        }
        break;
      case 'predict':
        await predict(message.id, message.pixels);
        break;
    }
  } catch (error) {
    post({ type: 'error', message: `${(error as Error).name}: ${(error as Error).message}` });
  }
};
