import type { Sequential } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { NDArray, jsBackend, matmul, setBackend, setNumThreads } from '@backprop/ndarray';
import { SGD } from '@backprop/optimizers';
import type { BenchConfig } from '../config';
import { type BenchData, CLASSES, PIXELS, accuracyOf, batchOrder, gatherBatch } from '../data';
import {
  type MatmulImpl,
  type Predictor,
  Recorder,
  type Trainer,
  probeAllocation,
  runInference,
  runMatmul,
  runTraining,
  samplesPerEpoch,
} from '../harness';
import { makeCnn, makeMlp } from '../models';
import type { ContenderReport, OursName, TaskName } from '../types';

/** `matmul` from @backprop/ndarray, allocating its result as a user's call does. */
function oursMatmul(dtype: 'float32' | 'float64'): MatmulImpl {
  return {
    dtype,
    prepare(a, b, n) {
      const A = new NDArray(a, [n, n]);
      const B = new NDArray(b, [n, n]);
      return { run: () => matmul(A, B).data, dispose() {} };
    },
  };
}

/**
 * The PyTorch loop with explicit backward: forward, CrossEntropyLoss,
 * backward, SGD(momentum) step, zero grads. The harness's batch buffers are
 * reused; everything the packages allocate per step is theirs.
 */
function oursTrainer(model: Sequential, data: BenchData, config: BenchConfig, inputShape: (b: number) => number[]): Trainer {
  const lossFn = new CrossEntropyLoss();
  const opt = new SGD(model.parameters(), { lr: config.mlp.lr, momentum: config.mlp.momentum });
  const buffers = new Map<number, { x: NDArray; y: Int32Array }>();
  const buffersFor = (b: number) => {
    let entry = buffers.get(b);
    if (!entry) {
      entry = { x: new NDArray(new Float32Array(b * PIXELS), inputShape(b)), y: new Int32Array(b) };
      buffers.set(b, entry);
    }
    return entry;
  };
  return {
    runEpoch(batches) {
      for (const indices of batches) {
        const { x, y } = buffersFor(indices.length);
        gatherBatch(data, indices, x.data as Float32Array, y);
        const logits = model.forward(x);
        lossFn.forward(logits, y);
        model.backward(lossFn.backward(), { inputGrad: false });
        opt.step();
        opt.zeroGrad();
      }
    },
    accuracy(total) {
      model.eval();
      const logits = new Float32Array(total * CLASSES);
      const chunk = 500;
      for (let start = 0; start < total; start += chunk) {
        const count = Math.min(chunk, total - start);
        const x = new NDArray(data.testImages.slice(start * PIXELS, (start + count) * PIXELS), inputShape(count));
        logits.set(model.forward(x).data, start * CLASSES);
      }
      model.train();
      return accuracyOf(logits, data.testLabels.subarray(0, total));
    },
    dispose() {},
  };
}

/**
 * Ours on one thread (`ours`), two (`ours-2t`: `setNumThreads(2)`, which
 * splits large products; single-sample inference has none, so there it shows
 * that small products pay nothing for the threads), or on the pure-TypeScript
 * kernels (`ours-js`: `setBackend(jsBackend)`, the fallback where WebAssembly
 * SIMD is missing).
 */
export async function runOurs(name: OursName, config: BenchConfig, data: BenchData, tasks: Set<TaskName>): Promise<ContenderReport> {
  const threads = name === 'ours-2t' ? 2 : 1;
  await setNumThreads(threads);
  if (name === 'ours-js') setBackend(jsBackend);
  const rec = new Recorder(name);
  const t0 = performance.now();
  if (tasks.has('matmul')) await runMatmul(config, rec, [oursMatmul('float32'), oursMatmul('float64')]);
  if (tasks.has('mlp')) {
    for (const batchSize of config.mlp.batchSizes) {
      const model = makeMlp(config.weightSeed, config.mlp.hidden);
      await runTraining(config, rec, 'mlp', `batch ${batchSize}`, batchSize, oursTrainer(model, data, config, (b) => [b, PIXELS]), {
        warmupEpochs: config.mlp.warmupEpochs,
        timedEpochs: config.mlp.timedEpochs,
        samplesPerEpoch: samplesPerEpoch(config, 'ours'),
      });
      // Bytes per step, on a separate copy so the timed run above stays every contender's.
      const probe = oursTrainer(makeMlp(config.weightSeed, config.mlp.hidden), data, config, (b) => [b, PIXELS]);
      const batches = batchOrder(config.trainSize, batchSize, 1, config.batchSeed)[0].slice(0, 11);
      const measured = rec.measurements[rec.measurements.length - 1];
      if (measured.heap) measured.heap.allocation = await probeAllocation(probe, batches);
    }
  }
  if (tasks.has('cnn')) {
    const model = makeCnn(config.weightSeed);
    const { batchSize, timedRepeats, stepsPerRepeat, testSamples } = config.cnn;
    await runTraining(config, rec, 'cnn', `batch ${batchSize}`, batchSize, oursTrainer(model, data, config, (b) => [b, 1, 28, 28]), {
      warmupEpochs: 1,
      timedEpochs: timedRepeats,
      samplesPerEpoch: stepsPerRepeat * batchSize,
      testSamples,
    });
    const probe = oursTrainer(makeCnn(config.weightSeed), data, config, (b) => [b, 1, 28, 28]);
    const batches = batchOrder(config.trainSize, batchSize, 1, config.batchSeed)[0].slice(0, 11);
    const measured = rec.measurements[rec.measurements.length - 1];
    if (measured.heap) measured.heap.allocation = await probeAllocation(probe, batches);
  }
  if (tasks.has('infer')) {
    const model = makeMlp(config.weightSeed, config.mlp.hidden);
    model.eval();
    const predictor: Predictor = {
      predict: (sample) => model.forward(new NDArray(sample, [1, PIXELS])).data,
      dispose() {},
    };
    runInference(rec, data, predictor, config.infer);
  }
  return {
    contender: name,
    available: true,
    description:
      name === 'ours-js'
        ? '@backprop packages on the pure-TypeScript kernels (setBackend(jsBackend)), float32; matmul also float64'
        : `@backprop packages (TypeScript + WebAssembly SIMD, float32; matmul also float64), ${threads === 1 ? '1 thread' : `${threads} threads`}`,
    measurements: rec.measurements,
    unsupported: rec.unsupported,
    notes: rec.notes,
    seconds: (performance.now() - t0) / 1000,
  };
}
