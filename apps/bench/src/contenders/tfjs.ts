import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NDArray, maxAbsDiff } from '@backprop/ndarray';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BenchConfig } from '../config';
import { type BenchData, CLASSES, PIXELS, accuracyOf, gatherBatch } from '../data';
import {
  type MatmulImpl,
  type Predictor,
  Recorder,
  type Trainer,
  runInference,
  runMatmul,
  runTraining,
  samplesPerEpoch,
} from '../harness';
import { convWeightToHwio, makeCnn, makeMlp, nchwLinearToNhwcKernel, transpose2d, weightsOf } from '../models';
import type { ContenderName, ContenderReport, TaskName } from '../types';

const TFJS_VERSION = tf.version_core;

/**
 * Production mode is TF.js's documented setting for speed; it also silences
 * TF.js's warnings (the "install tfjs-node" banner), so it is set only once
 * the backend has started: a failed start must still say why.
 */
function prodMode(): void {
  tf.enableProdMode();
}

/**
 * Starts TF.js on the contender's backend. `tfjs-wasm` is the SIMD binary on
 * one thread. `tfjs-wasm-2t` asks for the threaded SIMD binary with two
 * XNNPACK threads: TF.js 4.22 reports no thread support under Node
 * (tfjs#3830), so the flag is forced; the result is reported as it is.
 */
async function startBackend(contender: ContenderName): Promise<{ ok: boolean; description: string; reason?: string }> {
  if (contender === 'tfjs-cpu') {
    const ok = await tf.setBackend('cpu');
    prodMode();
    return { ok, description: `TF.js ${TFJS_VERSION}, backend cpu (pure JS), prod mode`, reason: ok ? undefined : 'setBackend("cpu") failed' };
  }
  const dist = `${join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`;
  setWasmPaths(dist);
  const threads = contender === 'tfjs-wasm-2t' ? 2 : 1;
  setThreadsCount(threads);
  if (threads > 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  // TF.js logs a failed backend start with console.warn and returns false: keep the message as the reason.
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    // The first line of each: the message, not emscripten's stack.
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a)).split('\n')[0]).join(' '));
  };
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (error) {
    warnings.push((error as Error).message);
  } finally {
    console.warn = warn;
  }
  if (!ok) {
    return {
      ok,
      description: `TF.js ${TFJS_VERSION}, backend wasm, ${threads} threads`,
      reason: warnings.filter((w) => w.trim()).join('; ') || 'setBackend("wasm") returned false',
    };
  }
  prodMode();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return {
    ok,
    description: `TF.js ${TFJS_VERSION}, backend wasm (XNNPACK), SIMD ${simd ? 'on' : 'off'}, ${getThreadsCount()} thread${getThreadsCount() === 1 ? '' : 's'}, prod mode`,
  };
}

function tfMatmul(): MatmulImpl {
  return {
    dtype: 'float32',
    prepare(a, b, n) {
      const A = tf.tensor2d(a as Float32Array, [n, n]);
      const B = tf.tensor2d(b as Float32Array, [n, n]);
      return {
        // dataSync() is part of what a user pays to read the product, so it is timed.
        run: () => {
          const c = tf.matMul(A, B);
          const values = c.dataSync();
          c.dispose();
          return values;
        },
        dispose() {
          A.dispose();
          B.dispose();
        },
      };
    },
  };
}

/** The MLP's weights as TF.js variables, copied (transposed) from our initial model. */
function mlpVariables(config: BenchConfig) {
  const w = weightsOf(makeMlp(config.weightSeed, config.mlp.hidden));
  const h = config.mlp.hidden;
  return {
    w1: tf.variable(tf.tensor2d(transpose2d(w.get('0.weight')!.data, h, PIXELS), [PIXELS, h])),
    b1: tf.variable(tf.tensor1d(w.get('0.bias')!.data)),
    w2: tf.variable(tf.tensor2d(transpose2d(w.get('2.weight')!.data, CLASSES, h), [h, CLASSES])),
    b2: tf.variable(tf.tensor1d(w.get('2.bias')!.data)),
  };
}

type MlpVariables = ReturnType<typeof mlpVariables>;

function mlpForward(v: MlpVariables, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, v.w1), v.b1)), v.w2), v.b2);
}

/** The CNN's weights as TF.js variables: filters HWIO, the last Linear re-ordered for NHWC flattening. */
function cnnVariables(config: BenchConfig) {
  const w = weightsOf(makeCnn(config.weightSeed));
  const conv = (name: string) => {
    const p = w.get(name)!;
    const [o, i, kh, kw] = p.shape;
    return tf.variable(tf.tensor4d(convWeightToHwio(p.data, p.shape), [kh, kw, i, o]));
  };
  return {
    k1: conv('0.weight'),
    c1: tf.variable(tf.tensor1d(w.get('0.bias')!.data)),
    k2: conv('3.weight'),
    c2: tf.variable(tf.tensor1d(w.get('3.bias')!.data)),
    wd: tf.variable(tf.tensor2d(nchwLinearToNhwcKernel(w.get('7.weight')!.data, CLASSES, 16, 7, 7), [16 * 49, CLASSES])),
    bd: tf.variable(tf.tensor1d(w.get('7.bias')!.data)),
  };
}

type CnnVariables = ReturnType<typeof cnnVariables>;

function cnnForward(v: CnnVariables, x: tf.Tensor4D): tf.Tensor2D {
  const h1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, v.k1, 1, 'same'), v.c1)) as tf.Tensor4D, 2, 2, 'valid');
  const h2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(h1, v.k2, 1, 'same'), v.c2)) as tf.Tensor4D, 2, 2, 'valid');
  return tf.add(tf.matMul(tf.reshape(h2, [x.shape[0], 16 * 49]), v.wd), v.bd);
}

/** Test accuracy of a forward function, in chunks of 500 digits. */
function tfAccuracy(data: BenchData, total: number, forward: (x: Float32Array, count: number) => tf.Tensor): number {
  const logits = new Float32Array(total * CLASSES);
  for (let start = 0; start < total; start += 500) {
    const count = Math.min(500, total - start);
    const out = tf.tidy(() => forward(data.testImages.subarray(start * PIXELS, (start + count) * PIXELS), count));
    logits.set(out.dataSync() as Float32Array, start * CLASSES);
    out.dispose();
  }
  return accuracyOf(logits, data.testLabels.subarray(0, total));
}

/** Max |Δ| between TF.js's and our initial logits on the first 8 test digits: proves the weights were copied. */
function initialAgreement(
  data: BenchData,
  ours: { forward(x: NDArray): NDArray },
  shape: number[],
  forward: (x: Float32Array, count: number) => tf.Tensor,
): number {
  const x = data.testImages.slice(0, 8 * PIXELS);
  const mine = ours.forward(new NDArray(x, [8, ...shape]));
  const out = tf.tidy(() => forward(x, 8));
  const theirs = new NDArray(Float32Array.from(out.dataSync() as Float32Array), [8, CLASSES]);
  out.dispose();
  return maxAbsDiff(mine, theirs);
}

/** A hand-written TF.js loop: tensors + tf.variable + tf.train.momentum + optimizer.minimize. */
function loopTrainer(
  config: BenchConfig,
  data: BenchData,
  vars: tf.Variable[],
  forward: (x: Float32Array, count: number) => tf.Tensor,
): Trainer {
  const opt = tf.train.momentum(config.mlp.lr, config.mlp.momentum);
  const buffers = new Map<number, { x: Float32Array; y: Int32Array }>();
  return {
    variant: 'loop',
    runEpoch(batches) {
      for (const indices of batches) {
        const b = indices.length;
        let buf = buffers.get(b);
        if (!buf) {
          buf = { x: new Float32Array(b * PIXELS), y: new Int32Array(b) };
          buffers.set(b, buf);
        }
        gatherBatch(data, indices, buf.x, buf.y);
        const { x, y } = buf;
        tf.tidy(() => {
          const labels = tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES);
          opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, forward(x, b)) as tf.Scalar, false, vars);
        });
      }
    },
    accuracy: (total) => tfAccuracy(data, total, forward),
    dispose() {
      opt.dispose();
      for (const v of vars) v.dispose();
    },
  };
}

/** The same MLP as a tfjs-layers model trained with model.fit on the same batches (shuffle off). */
function fitTrainer(config: BenchConfig, data: BenchData, batchSize: number): { trainer: Trainer; agreement: number } {
  const h = config.mlp.hidden;
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ inputShape: [PIXELS], units: h, activation: 'relu' }), tfl.layers.dense({ units: CLASSES })],
  });
  const ours = makeMlp(config.weightSeed, config.mlp.hidden);
  const w = weightsOf(ours);
  model.layers[0].setWeights([
    tf.tensor2d(transpose2d(w.get('0.weight')!.data, h, PIXELS), [PIXELS, h]),
    tf.tensor1d(w.get('0.bias')!.data),
  ]);
  model.layers[1].setWeights([
    tf.tensor2d(transpose2d(w.get('2.weight')!.data, CLASSES, h), [h, CLASSES]),
    tf.tensor1d(w.get('2.bias')!.data),
  ]);
  model.compile({
    optimizer: tf.train.momentum(config.mlp.lr, config.mlp.momentum),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
  });
  const forward = (x: Float32Array, count: number) => model.predict(tf.tensor2d(x, [count, PIXELS])) as tf.Tensor;
  const agreement = initialAgreement(data, ours, [PIXELS], forward);
  const trainer: Trainer = {
    variant: 'fit',
    async runEpoch(batches) {
      const n = batches.reduce((s, b) => s + b.length, 0);
      const xs = new Float32Array(n * PIXELS);
      const ys = new Int32Array(n);
      let offset = 0;
      for (const indices of batches) {
        gatherBatch(data, indices, xs.subarray(offset * PIXELS), ys.subarray(offset));
        offset += indices.length;
      }
      const x = tf.tensor2d(xs, [n, PIXELS]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(ys, 'int32'), CLASSES));
      await model.fit(x, y, { batchSize, epochs: 1, shuffle: false, verbose: 0 });
      x.dispose();
      y.dispose();
    },
    accuracy: (total) => tfAccuracy(data, total, forward),
    dispose: () => model.dispose(),
  };
  return { trainer, agreement };
}

export async function runTfjs(
  contender: ContenderName,
  config: BenchConfig,
  data: BenchData,
  tasks: Set<TaskName>,
): Promise<ContenderReport> {
  const t0 = performance.now();
  const rec = new Recorder(contender);
  const backend = await startBackend(contender);
  const report = (): ContenderReport => ({
    contender,
    available: backend.ok,
    reason: backend.reason,
    description: backend.description,
    measurements: rec.measurements,
    unsupported: rec.unsupported,
    notes: rec.notes,
    seconds: (performance.now() - t0) / 1000,
  });
  if (!backend.ok) return report();
  const slow = config.slow[contender];

  if (tasks.has('matmul')) await runMatmul(config, rec, [tfMatmul()]);

  if (tasks.has('mlp')) {
    const plan = {
      warmupEpochs: config.mlp.warmupEpochs,
      timedEpochs: config.mlp.timedEpochs,
      samplesPerEpoch: samplesPerEpoch(config, contender),
      truncated: samplesPerEpoch(config, contender) < config.trainSize,
    };
    for (const batchSize of config.mlp.batchSizes) {
      const v = mlpVariables(config);
      const forward = (x: Float32Array, count: number) => mlpForward(v, tf.tensor2d(x, [count, PIXELS]));
      const agreement = initialAgreement(data, makeMlp(config.weightSeed, config.mlp.hidden), [PIXELS], forward);
      if (batchSize === config.mlp.batchSizes[0]) rec.note(`MLP initial logits equal ours to max |Δ| ${agreement.toExponential(1)}`);
      const loop = loopTrainer(config, data, [v.w1, v.b1, v.w2, v.b2], forward);
      await runTraining(config, rec, 'mlp', `batch ${batchSize}`, batchSize, loop, plan);
      loop.dispose();
      const fit = fitTrainer(config, data, batchSize);
      if (batchSize === config.mlp.batchSizes[0]) rec.note(`MLP (fit) initial logits equal ours to max |Δ| ${fit.agreement.toExponential(1)}`);
      await runTraining(config, rec, 'mlp', `batch ${batchSize}`, batchSize, fit.trainer, plan);
      fit.trainer.dispose();
    }
  }

  if (tasks.has('cnn')) {
    const { batchSize, timedRepeats, testSamples } = config.cnn;
    const steps = slow?.cnnStepsPerRepeat ?? config.cnn.stepsPerRepeat;
    const v = cnnVariables(config);
    const forward = (x: Float32Array, count: number) => cnnForward(v, tf.tensor4d(x, [count, 28, 28, 1]));
    // NCHW with one channel is NHWC with one channel: the images need no re-ordering.
    const agreement = initialAgreement(data, makeCnn(config.weightSeed), [1, 28, 28], forward);
    rec.note(`CNN initial logits equal ours to max |Δ| ${agreement.toExponential(1)}`);
    const trainer = loopTrainer(config, data, [v.k1, v.c1, v.k2, v.c2, v.wd, v.bd], forward);
    try {
      await runTraining(config, rec, 'cnn', `batch ${batchSize}`, batchSize, trainer, {
        warmupEpochs: 1,
        timedEpochs: timedRepeats,
        samplesPerEpoch: steps * batchSize,
        testSamples,
        truncated: steps < config.cnn.stepsPerRepeat,
      });
    } catch (error) {
      rec.skip('cnn', `batch ${batchSize}`, (error as Error).message, 'loop');
    }
    trainer.dispose();
  }

  if (tasks.has('infer')) {
    const v = mlpVariables(config);
    const predictor: Predictor = {
      predict(sample) {
        const out = tf.tidy(() => mlpForward(v, tf.tensor2d(sample, [1, PIXELS])));
        const values = out.dataSync();
        out.dispose();
        return values;
      },
      dispose() {
        for (const x of Object.values(v)) x.dispose();
      },
    };
    runInference(rec, data, predictor, { ...config.infer, calls: slow?.inferCalls ?? config.infer.calls });
    predictor.dispose();
  }
  return report();
}
