/**
 * The character-LM page's worker, built as the MNIST page's (src/worker.ts):
 * it loads the names pack, trains the small transformer a slice at a time
 * (10 steps, or 100 ms if that comes first) and posts progress after every
 * slice; every 50 steps it posts the validation loss and names drawn with the
 * same seeded draws, so the page shows them improving. Between slices it
 * answers pause, reset, and model files to sample from; a bad file is
 * answered with a message, never a crash. The live run trains on the CPU or
 * on the worker's WebGPU backend, as the page chose (a reset builds the model
 * there); a model file is read and sampled on the CPU.
 */
import { TorchGenerator } from '@backprop/ndarray';
import { NamesDataError, sampleNames } from '@backprop/data/names';
import type { BackendChoice } from '../backends';
import { hostBackend, onHost } from '../run-on';
import { webGpu } from '../webgpu';
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
tick.port1.onmessage = () => void slice();

/** Fetches the gzipped names pack and inflates it with the browser's DecompressionStream. */
async function loadNames(url: string): Promise<string[]> {
  const response = await fetch(url);
  if (!response.ok || response.body === null) throw new NamesDataError(`could not load the names from ${url}: HTTP ${response.status}`);
  const inflated = await new Response(response.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  return unpackNames(new Uint8Array(inflated));
}

/** The validation loss and the seeded names of `current`, posted unless a reset has replaced it meanwhile. */
async function postSamples(current: NamesTrainer): Promise<void> {
  const step = current.step;
  const valLoss = await current.valLoss();
  const sampled = await current.samples(SAMPLE_COUNT);
  if (trainer === current) post({ type: 'samples', step, valLoss, names: sampled });
}

/** The backend of a choice: the CPU's, or the worker's WebGPU backend (an error saying why not where there is none). */
async function backendFor(choice: BackendChoice) {
  if (choice === 'cpu') return { backend: hostBackend, adapter: '' };
  const gpu = await webGpu();
  if (gpu.backend === undefined) throw new Error(`WebGPU: ${gpu.offer.available ? 'no backend' : gpu.offer.reason}`);
  return { backend: gpu.backend, adapter: gpu.offer.available ? gpu.offer.adapter : '' };
}

async function build(config: NamesRunConfig, choice: BackendChoice, loadMs: number): Promise<void> {
  running = false;
  trainer = null;
  const { backend, adapter } = await backendFor(choice);
  const next = new NamesTrainer(names!, config, { backend });
  trainer = next;
  post({
    type: 'ready',
    summary: String(next.model),
    parameters: count(next.model),
    choice,
    backend: backend.name,
    adapter,
    names: names!.length,
    trainSize: next.trainSize,
    valSize: next.valSize,
    totalSteps: next.config.steps,
    loadMs,
  });
  // Step 0's loss and names, before any step: a Train meanwhile starts when they are in (on a GPU they take a while).
  busy++;
  try {
    await postSamples(next);
  } finally {
    idle();
  }
  if (trainer === next) post({ type: 'state', running, done: false });
}

/**
 * Work under way that a slice must not overlap (a slice, or step 0's
 * samples), maybe waiting for the GPU; when the last ends, the next slice is
 * scheduled, of this run or of one started since a reset.
 */
let busy = 0;

function idle(): void {
  busy--;
  if (busy === 0 && running && trainer !== null && !trainer.done) tick.port2.postMessage(null);
}

async function slice(): Promise<void> {
  if (!running || trainer === null || busy > 0) return;
  const current = trainer;
  busy++;
  try {
    const stopAt = (Math.floor(current.step / REPORT_EVERY) + 1) * REPORT_EVERY;
    const progress = await current.train(SLICE_MS, stopAt);
    if (trainer !== current) return; // a reset while the GPU worked: this run is gone
    post({ type: 'progress', progress });
    if (current.step % SAMPLES_EVERY === 0 || current.done) await postSamples(current);
    if (current.done && trainer === current) {
      running = false;
      post({ type: 'state', running: false, done: true });
    }
  } catch (error) {
    if (trainer !== current) return;
    running = false;
    post({ type: 'error', message: `${(error as Error).name}: ${(error as Error).message}` });
    post({ type: 'state', running: false, done: false });
  } finally {
    idle();
  }
}

/** Names from the loaded model; a request it cannot answer (a prefix outside its vocabulary) is answered with why. */
function sampleLoaded(request: SampleRequest): void {
  const { model, vocab } = loaded!;
  try {
    post({ type: 'sampled', names: onHost(() => sampleNames(model, vocab, { ...request, rng: new TorchGenerator(request.seed) })) });
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
        // WebGPU is asked for while the names load; the page hears whether it can offer it.
        webGpu().then(({ offer }) => post({ type: 'backends', webgpu: offer }));
        names = await loadNames(message.dataUrl);
        await build(message.config, 'cpu', performance.now() - start);
        break;
      }
      case 'reset':
        if (names) await build(message.config, message.backend, 0);
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
      case 'load': {
        // A file that does not load leaves the model loaded before it, if any.
        try {
          if (message.bytes.byteLength > MAX_MODEL_FILE_BYTES) {
            throw new ModelFileError(`the file is ${message.bytes.byteLength} bytes; a model file may be at most ${MAX_MODEL_FILE_BYTES} bytes`);
          }
          const bytes = new Uint8Array(message.bytes);
          loaded = onHost(() => decodeModel(bytes));
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
