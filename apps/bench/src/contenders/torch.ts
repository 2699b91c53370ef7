import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NDArray, maxAbsDiff } from '@backprop/ndarray';
import type { BenchConfig } from '../config';
import { type BenchData, CLASSES, PIXELS, accuracyOf } from '../data';
import { type MatmulImpl, Recorder, type Trainer, addInference, inferenceBlock, runMatmul, runTraining, samplesPerEpoch } from '../harness';
import { type TorchInfo, describeBlas } from '../layers/torch';
import { makeCnn, makeMlp } from '../models';
import { PythonPeer } from '../python';
import type { ContenderReport, TaskName, TorchName } from '../types';

const SCRIPT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'torch_contender.py');

/** One request to torch_contender.py; its `{ error }` answer (or the process's end) throws, naming the request. */
async function ask<T>(peer: PythonPeer, request: { op: string } & Record<string, unknown>): Promise<T> {
  const answer = (await peer.request(request)) as T & { error?: string };
  if (answer.error !== undefined) throw new Error(`torch ${request.op}: ${answer.error}`);
  return answer;
}

function writeRaw(path: string, array: Float32Array | Float64Array | Int32Array): string {
  writeFileSync(path, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return path;
}

/** `a @ b` in torch, timed there; the product comes back through a raw file for the check. */
function torchMatmul(peer: PythonPeer, dir: string, dtype: 'float32' | 'float64'): MatmulImpl {
  return {
    dtype,
    async prepare(a, b, n) {
      const id = `matmul-${n}-${dtype}`;
      await ask(peer, { op: 'matmul-prepare', id, n, dtype, a: writeRaw(join(dir, `${id}-a`), a), b: writeRaw(join(dir, `${id}-b`), b) });
      return {
        async run() {
          const out = join(dir, `${id}-c`);
          await ask(peer, { op: 'matmul-product', id, out });
          const bytes = readFileSync(out);
          const Typed = dtype === 'float32' ? Float32Array : Float64Array;
          return new Typed(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        },
        time: async (calls) => (await ask<{ ms: number }>(peer, { op: 'matmul-time', id, calls })).ms,
        dispose: async () => {
          await ask(peer, { op: 'dispose', id });
        },
      };
    },
  };
}

/**
 * The model in torch (built there after `torch.manual_seed(seed)`), as a
 * Trainer: each epoch is one request with the epoch's batches, the steps run
 * in torch; what the bench times is that request, so one JSON line each way
 * per epoch is counted with torch's steps.
 */
async function torchTrainer(
  peer: PythonPeer,
  config: BenchConfig,
  data: BenchData,
  model: { id: string; kind: 'mlp' | 'cnn'; shape: number[] },
): Promise<Trainer> {
  const { id, shape } = model;
  await buildModel(peer, config, id, model.kind);
  return {
    async runEpoch(batches) {
      await ask(peer, { op: 'epoch', id, shape, batches: batches.map((b) => Array.from(b)) });
    },
    async accuracy(count) {
      return accuracyOf(await torchLogits(peer, id, count, shape), data.testLabels.subarray(0, count));
    },
    dispose() {},
  };
}

async function torchLogits(peer: PythonPeer, id: string, count: number, shape: number[]): Promise<number[]> {
  return (await ask<{ logits: number[] }>(peer, { op: 'logits', id, count, shape })).logits;
}

/** The bench's MLP or CNN, built in torch right after `torch.manual_seed(config.weightSeed)`, with SGD(momentum) as ours. */
async function buildModel(peer: PythonPeer, config: BenchConfig, id: string, kind: 'mlp' | 'cnn'): Promise<void> {
  await ask(peer, { op: 'model', id, kind, hidden: config.mlp.hidden, seed: config.weightSeed, lr: config.mlp.lr, momentum: config.mlp.momentum });
}

/** Max |Δ| between torch's and our initial logits on the first 8 test digits: proves both start from the same weights. */
async function initialAgreement(
  peer: PythonPeer,
  data: BenchData,
  id: string,
  ours: { forward(x: NDArray): NDArray },
  shape: number[],
): Promise<number> {
  const mine = ours.forward(new NDArray(data.testImages.slice(0, 8 * PIXELS), [8, ...shape]));
  const theirs = new NDArray(Float32Array.from(await torchLogits(peer, id, 8, shape)), [8, CLASSES]);
  return maxAbsDiff(mine, theirs);
}

/**
 * PyTorch on one thread (`torch`) or two (`torch-2t`): Debian's
 * `/usr/bin/python3` (or `python`) running torch_contender.py, on the same
 * matmul inputs, digits, initial weights (seeded in torch; the initial logits
 * are checked against ours), batch order and recipe as every contender.
 * Without torch the report says why, in one line, and measures nothing.
 */
export async function runTorch(
  name: TorchName,
  config: BenchConfig,
  data: BenchData,
  tasks: Set<TaskName>,
  python: string,
): Promise<ContenderReport> {
  const t0 = performance.now();
  const threads = name === 'torch-2t' ? 2 : 1;
  const rec = new Recorder(name);
  const started = await PythonPeer.start<TorchInfo>(python, SCRIPT, [String(threads)]);
  const report = (available: boolean, description: string, reason?: string): ContenderReport => ({
    contender: name,
    available,
    reason,
    description,
    measurements: rec.measurements,
    unsupported: rec.unsupported,
    notes: rec.notes,
    seconds: (performance.now() - t0) / 1000,
  });
  if ('reason' in started) return report(false, `PyTorch, ${threads} thread(s)`, started.reason);
  const { peer, hello } = started;
  rec.note(`torch ${hello.torch} on ${hello.threads} thread(s), ${python}; ${describeBlas(hello)}`);
  const dir = mkdtempSync(join(tmpdir(), 'backprop-bench-torch-'));
  try {
    await ask(peer, {
      op: 'load',
      trainImages: writeRaw(join(dir, 'train-images'), data.trainImages),
      trainLabels: writeRaw(join(dir, 'train-labels'), data.trainLabels),
      testImages: writeRaw(join(dir, 'test-images'), data.testImages),
      testLabels: writeRaw(join(dir, 'test-labels'), data.testLabels),
    });

    if (tasks.has('matmul')) await runMatmul(config, rec, [torchMatmul(peer, dir, 'float32'), torchMatmul(peer, dir, 'float64')]);

    if (tasks.has('mlp')) {
      for (const batchSize of config.mlp.batchSizes) {
        const id = `mlp-${batchSize}`;
        const trainer = await torchTrainer(peer, config, data, { id, kind: 'mlp', shape: [PIXELS] });
        const agreement = await initialAgreement(peer, data, id, makeMlp(config.weightSeed, config.mlp.hidden), [PIXELS]);
        if (batchSize === config.mlp.batchSizes[0]) rec.note(`MLP initial logits equal ours to max |Δ| ${agreement.toExponential(1)}`);
        await runTraining(config, rec, 'mlp', `batch ${batchSize}`, batchSize, trainer, {
          warmupEpochs: config.mlp.warmupEpochs,
          timedEpochs: config.mlp.timedEpochs,
          samplesPerEpoch: samplesPerEpoch(config, name),
        });
        await ask(peer, { op: 'dispose', id });
      }
    }

    if (tasks.has('cnn')) {
      const { batchSize, timedRepeats, stepsPerRepeat, testSamples } = config.cnn;
      const shape = [1, 28, 28];
      const trainer = await torchTrainer(peer, config, data, { id: 'cnn', kind: 'cnn', shape });
      const agreement = await initialAgreement(peer, data, 'cnn', makeCnn(config.weightSeed), shape);
      rec.note(`CNN initial logits equal ours to max |Δ| ${agreement.toExponential(1)}`);
      await runTraining(config, rec, 'cnn', `batch ${batchSize}`, batchSize, trainer, {
        warmupEpochs: 1,
        timedEpochs: timedRepeats,
        samplesPerEpoch: stepsPerRepeat * batchSize,
        testSamples,
      });
      await ask(peer, { op: 'dispose', id: 'cnn' });
    }

    if (tasks.has('infer')) {
      // The MLP as initialised (inference does not depend on training), timed call by call in torch.
      await buildModel(peer, config, 'infer', 'mlp');
      const { repeats, nan } = await ask<{ repeats: number[]; nan: boolean }>(peer, {
        op: 'infer',
        id: 'infer',
        ...config.infer,
        perBlock: inferenceBlock(config.infer),
      });
      addInference(rec, repeats, config.infer, nan);
    }
  } finally {
    peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // torch's BLAS is the first note, printed as the contender starts.
  return report(true, `PyTorch ${hello.torch} (${python}), ${hello.threads} thread${hello.threads === 1 ? '' : 's'}, float32; matmul also float64`);
}
