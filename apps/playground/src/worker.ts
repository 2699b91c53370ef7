/**
 * The training worker: loads the digits, trains `pnpm train`'s MLP a slice at a
 * time (10 steps, or 100 ms if that comes first) and posts progress after
 * every slice, so the page never waits on it. Between slices it answers pause, reset and predict. Here
 * ndarray compiles its WebAssembly SIMD gemm synchronously, which browsers
 * allow in a worker for a module of any size.
 */
import { TensorDataset } from '@backprop/data';
// The browser-safe half of the MNIST module: the split and standardization; the file reader is in /mnist/node.
import { type Digits, MnistDataError, PIXELS, TEST_SIZE, TRAIN_SIZE, prepareDigits } from '@backprop/data/mnist';
import { NDArray, getBackend, getNumThreads, setNumThreads } from '@backprop/ndarray';
import { decodeDigits } from './digits-pack';
import type { FromWorker, RunConfig, ToWorker } from './protocol';
import { Trainer } from './trainer';

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
tick.port1.onmessage = () => slice();

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

function build(config: RunConfig, loadMs: number): void {
  running = false;
  trainer = new Trainer(prepareDigits(digits!), config);
  post({
    type: 'ready',
    summary: trainer.summary(),
    backend: getBackend().name,
    threads: getNumThreads(),
    trainSize: TRAIN_SIZE,
    testSize: TEST_SIZE,
    totalSteps: trainer.totalSteps,
    normalization: trainer.normalization,
    loadMs,
  });
  post({ type: 'evaluation', evaluation: trainer.evaluate() });
  post({ type: 'state', running: false, done: false });
}

function slice(): void {
  if (!running || trainer === null) return;
  try {
    const stopAt = (Math.floor(trainer.step / REPORT_EVERY) + 1) * REPORT_EVERY;
    post({ type: 'progress', progress: trainer.train(SLICE_MS, stopAt) });
    if (trainer.step % EVAL_EVERY === 0 || trainer.done) post({ type: 'evaluation', evaluation: trainer.evaluate() });
  } catch (error) {
    running = false;
    post({ type: 'error', message: (error as Error).message });
    post({ type: 'state', running: false, done: false });
    return;
  }
  if (trainer.done) {
    running = false;
    post({ type: 'state', running: false, done: true });
    return;
  }
  tick.port2.postMessage(null);
}

scope.onmessage = async ({ data: message }) => {
  try {
    switch (message.type) {
      case 'init': {
        const start = performance.now();
        await useTwoThreads();
        digits = await loadDigits(message.dataUrl);
        build(message.config, performance.now() - start);
        break;
      }
      case 'reset':
        if (digits) build(message.config, 0);
        break;
      case 'start':
        if (trainer && !trainer.done && !running) {
          running = true;
          post({ type: 'state', running: true, done: false });
          slice();
        }
        break;
      case 'pause':
        if (running) {
          running = false;
          post({ type: 'state', running: false, done: trainer?.done ?? false });
        }
        break;
      case 'predict':
        if (trainer) post({ type: 'prediction', id: message.id, probabilities: trainer.predict(message.pixels) });
        break;
    }
  } catch (error) {
    post({ type: 'error', message: `${(error as Error).name}: ${(error as Error).message}` });
  }
};
