/**
 * The character-LM page's worker, built as the MNIST page's (src/worker.ts):
 * it loads the names pack, trains the small transformer a slice at a time
 * (10 steps, or 100 ms if that comes first) and posts progress after every
 * slice; every 50 steps it posts the validation loss and names drawn with the
 * same seeded draws, so the page shows them improving. Between slices it
 * answers pause, reset, and model files to sample from; a bad file is
 * answered with a message, never a crash.
 */
import { TorchGenerator, getBackend } from '@backprop/ndarray';
import { NamesDataError, sampleNames } from '@backprop/data/names';
import { unpackNames } from './names-pack';
import { type LoadedModel, ModelFileError, type TransformerModel, decodeModel } from './model';
import { type FromNamesWorker, MAX_MODEL_FILE_BYTES, type NamesRunConfig, type SampleRequest, type ToNamesWorker } from './protocol';
import { NamesTrainer } from './trainer';

const REPORT_EVERY = 10;
const SLICE_MS = 100;
/** Post the validation loss and fresh samples every this many steps (a multiple of REPORT_EVERY) and at the end. */
export const SAMPLES_EVERY = 50;
const SAMPLE_COUNT = 10;

const scope = self as unknown as {
  postMessage(message: FromNamesWorker): void;
  onmessage: ((event: MessageEvent<ToNamesWorker>) => void) | null;
};
const post = (message: FromNamesWorker) => scope.postMessage(message);

let names: string[] | null = null;
let trainer: NamesTrainer | null = null;
let loaded: LoadedModel | null = null;
let running = false;
const tick = new MessageChannel();
tick.port1.onmessage = () => slice();

/** Fetches the gzipped names pack and inflates it with the browser's DecompressionStream. */
async function loadNames(url: string): Promise<string[]> {
  const response = await fetch(url);
  if (!response.ok || response.body === null) throw new NamesDataError(`could not load the names from ${url}: HTTP ${response.status}`);
  const inflated = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  return unpackNames(new Uint8Array(inflated));
}

function postSamples(): void {
  if (trainer === null) return;
  post({ type: 'samples', step: trainer.step, valLoss: trainer.valLoss(), names: trainer.samples(SAMPLE_COUNT) });
}

function build(config: NamesRunConfig, loadMs: number): void {
  running = false;
  trainer = new NamesTrainer(names!, config);
  post({
    type: 'ready',
    summary: String(trainer.model),
    parameters: count(trainer.model),
    backend: getBackend().name,
    names: names!.length,
    trainSize: trainer.trainSize,
    valSize: trainer.valSize,
    totalSteps: trainer.config.steps,
    loadMs,
  });
  postSamples();
  post({ type: 'state', running: false, done: false });
}

function slice(): void {
  if (!running || trainer === null) return;
  try {
    const stopAt = (Math.floor(trainer.step / REPORT_EVERY) + 1) * REPORT_EVERY;
    post({ type: 'progress', progress: trainer.train(SLICE_MS, stopAt) });
    if (trainer.step % SAMPLES_EVERY === 0 || trainer.done) postSamples();
  } catch (error) {
    running = false;
    post({ type: 'error', message: `${(error as Error).name}: ${(error as Error).message}` });
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

/** Names from the loaded model; a request it cannot answer (a prefix outside its vocabulary) is answered with why. */
function sampleLoaded(request: SampleRequest): void {
  const { model, vocab } = loaded!;
  try {
    post({ type: 'sampled', names: sampleNames(model, vocab, { ...request, rng: new TorchGenerator(request.seed) }) });
  } catch (error) {
    post({ type: 'sampleError', message: (error as Error).message });
  }
}

const count = (model: TransformerModel) => model.parameters().reduce((n, p) => n + p.value.size, 0);

function describe({ model }: LoadedModel): string {
  const { embedDim, heads, layers, blockSize, vocabSize } = model.config;
  const dtype = model.parameters()[0].value.dtype;
  return `transformer, C = ${embedDim}, ${heads} heads, ${layers} blocks, block ${blockSize}, ${vocabSize} characters, ${dtype}`;
}

scope.onmessage = async ({ data: message }) => {
  try {
    switch (message.type) {
      case 'init': {
        const start = performance.now();
        names = await loadNames(message.dataUrl);
        build(message.config, performance.now() - start);
        break;
      }
      case 'reset':
        if (names) build(message.config, 0);
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
      case 'load': {
        // A file that does not load leaves the model loaded before it, if any.
        try {
          if (message.bytes.byteLength > MAX_MODEL_FILE_BYTES) {
            throw new ModelFileError(`the file is ${message.bytes.byteLength} bytes; a model file may be at most ${MAX_MODEL_FILE_BYTES} bytes`);
          }
          loaded = decodeModel(new Uint8Array(message.bytes));
        } catch (error) {
          post({ type: 'loadError', name: message.name, message: (error as Error).message });
          break;
        }
        post({ type: 'loaded', name: message.name, description: describe(loaded), parameters: count(loaded.model) });
        sampleLoaded(message.request);
        break;
      }
      case 'sample':
        if (loaded) sampleLoaded(message.request);
        break;
    }
  } catch (error) {
    post({ type: 'error', message: `${(error as Error).name}: ${(error as Error).message}` });
  }
};
