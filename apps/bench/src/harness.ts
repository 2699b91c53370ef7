import { PerformanceObserver, constants } from 'node:perf_hooks';
import { TorchGenerator, uniform } from '@backprop/ndarray';
import type { BenchConfig } from './config';
import { type BenchData, batchOrder } from './data';
import { checkMatmul, referenceMatmul } from './matmul-reference';
import { forceGc, formatValue, median, now } from './stats';
import type { ContenderName, HeapReport, MatmulCheck, Measurement, TaskName, Unsupported } from './types';

/**
 * One contender's matmul: `prepare` uploads the inputs (untimed), `run`
 * multiplies once and returns C on the host, and `time`, where the products
 * run outside this process, returns the milliseconds of `calls` products back
 * to back as timed where they ran (without it, `run` is timed here).
 */
export interface MatmulImpl {
  dtype: 'float32' | 'float64';
  /** `a` and `b` are of the impl's dtype. */
  prepare(a: Float32Array | Float64Array, b: Float32Array | Float64Array, n: number): PreparedMatmul | Promise<PreparedMatmul>;
}

export interface PreparedMatmul {
  run(): ArrayLike<number> | Promise<ArrayLike<number>>;
  time?(calls: number): Promise<number>;
  dispose(): void | Promise<void>;
}

/** Milliseconds of `calls` products: the impl's own timing, or `run` in a loop timed here. */
async function timeCalls(prepared: PreparedMatmul, calls: number): Promise<number> {
  if (prepared.time) return prepared.time(calls);
  const t = now();
  for (let i = 0; i < calls; i++) prepared.run();
  return now() - t;
}

/** A model being trained: one epoch over the given batches (indices into the train set), then the test accuracy. */
export interface Trainer {
  variant?: string;
  runEpoch(batches: Int32Array[]): void | Promise<void>;
  /** Accuracy on the first `count` test digits. */
  accuracy(count: number): number | Promise<number>;
  dispose(): void;
}

/** Single-sample inference: returns the 10 logits on the host. */
export interface Predictor {
  predict(sample: Float32Array): ArrayLike<number>;
  dispose(): void;
}

/** Collects what one contender measured and logs each line as it comes. */
export class Recorder {
  readonly measurements: Measurement[] = [];
  readonly unsupported: Unsupported[] = [];
  readonly notes: string[] = [];
  constructor(readonly contender: ContenderName) {}

  add(m: Measurement): void {
    this.measurements.push(m);
    const label = m.variant ? `${m.contender} (${m.variant})` : m.contender;
    const extra = [
      m.check ? `max rel. error ${m.check.maxRelError.toExponential(2)} ${m.check.pass ? 'ok' : 'FAIL'}` : '',
      m.accuracy !== undefined ? `test accuracy ${(m.accuracy * 100).toFixed(1)}%` : '',
    ].filter(Boolean);
    log(`${label} ${m.task} ${m.case}: ${formatValue(m.value)} ${m.metric}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }

  skip(task: TaskName, caseName: string, reason: string, variant?: string): void {
    this.unsupported.push({ task, case: caseName, contender: this.contender, variant, reason });
    log(`${this.contender}${variant ? ` (${variant})` : ''} ${task} ${caseName}: not supported: ${reason}`);
  }

  note(text: string): void {
    this.notes.push(text);
    log(`${this.contender}: ${text}`);
  }
}

export function log(line: string): void {
  process.stdout.write(`  ${line}\n`);
}

/**
 * The seeded inputs of the n×n product, uniform in [-1, 1), identical in every
 * process. float64 inputs use all 53 bits: with float32 values every product
 * is exact in float64, and the float64 check would have nothing to catch.
 */
export function matmulInputs(n: number, dtype: 'float32' | 'float64'): { a: Float32Array | Float64Array; b: Float32Array | Float64Array } {
  const rng = new TorchGenerator(1000 + n);
  // A float dtype gives a float typed array (ndarray's TypedArray also covers int32).
  const a = uniform([n, n], -1, 1, { rng, dtype }).data as Float32Array | Float64Array;
  const b = uniform([n, n], -1, 1, { rng, dtype }).data as Float32Array | Float64Array;
  return { a, b };
}

/**
 * GFLOP/s of C = A·B (2n³ flops) for each size: per implementation, one
 * call whose result is checked against the float64 reference, then untimed
 * warm-up calls (1, 2, 4, … at a time) for `minRepeatMs`, which also size a
 * repeat to last about `minRepeatMs`; then up to `repeats` rounds in which
 * every implementation runs one timed repeat in turn, until `capMs` is spent;
 * the median repeat. Interleaving the rounds puts a contender's float32 and
 * float64 (or any two implementations) under the same load, so their ratio is
 * fair on a noisy machine.
 */
export async function runMatmul(config: BenchConfig, rec: Recorder, impls: MatmulImpl[]): Promise<void> {
  const flopsOf = (n: number) => 2 * n ** 3;
  for (const n of config.matmul.sizes) {
    const cases = new Map<string, { a: Float32Array | Float64Array; b: Float32Array | Float64Array; reference: ReturnType<typeof referenceMatmul> }>();
    const runs: { impl: MatmulImpl; prepared: PreparedMatmul; check: MatmulCheck; calls: number; repeats: number[] }[] = [];
    try {
      for (const impl of impls) {
        let inputs = cases.get(impl.dtype);
        if (!inputs) {
          const { a, b } = matmulInputs(n, impl.dtype);
          inputs = { a, b, reference: referenceMatmul(a, b, n) };
          cases.set(impl.dtype, inputs);
        }
        const { a, b, reference } = inputs;
        const prepared = await impl.prepare(a, b, n);
        let check: MatmulCheck;
        try {
          check = checkMatmul(await prepared.run(), reference, n, impl.dtype);
        } catch (error) {
          await prepared.dispose();
          throw error;
        }
        // Warm-up: until the JIT (or the peer) has had `minRepeatMs` to settle; its mean sizes the timed repeats.
        let warmCalls = 0;
        let warmMs = 0;
        for (let chunk = 1; warmCalls === 0 || warmMs < config.matmul.minRepeatMs; chunk *= 2) {
          warmMs += await timeCalls(prepared, chunk);
          warmCalls += chunk;
        }
        const perCallMs = warmMs / warmCalls;
        const calls = Math.max(1, Math.ceil(config.matmul.minRepeatMs / Math.max(perCallMs, 1e-3)));
        runs.push({ impl, prepared, check, calls, repeats: [] });
      }
      const start = now();
      for (let round = 0; round < config.matmul.repeats && (round === 0 || now() - start < config.matmul.capMs); round++) {
        for (const run of runs) {
          const ms = await timeCalls(run.prepared, run.calls);
          run.repeats.push((flopsOf(n) * run.calls) / (ms / 1000) / 1e9);
        }
      }
      for (const { impl, check, calls, repeats } of runs) {
        rec.add({
          task: 'matmul',
          case: `n=${n} ${impl.dtype}`,
          contender: rec.contender,
          metric: 'GFLOP/s',
          better: 'higher',
          value: median(repeats),
          repeats,
          check,
          detail: `${repeats.length} repeats × ${calls} call(s), interleaved with the other dtype`,
        });
      }
    } finally {
      for (const run of runs) await run.prepared.dispose();
    }
  }
}

/** Samples per timed "epoch" for this contender (all of them unless it is a slow one). */
export function samplesPerEpoch(config: BenchConfig, contender: ContenderName): number {
  return Math.min(config.trainSize, config.slow[contender]?.samplesPerEpoch ?? config.trainSize);
}

/** The first `samples` samples' worth of batches of an epoch. */
function truncate(batches: Int32Array[], samples: number): Int32Array[] {
  const out: Int32Array[] = [];
  let count = 0;
  for (const b of batches) {
    if (count >= samples) break;
    out.push(b);
    count += b.length;
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * process.memoryUsage() after a forced GC, twice: V8 frees ArrayBuffer backing
 * stores on a background thread, so one GC alone can still count dead buffers.
 */
async function settledMemory(): Promise<{ gcForced: boolean; heapUsed: number; arrayBuffers: number; external: number }> {
  const gcForced = forceGc();
  await sleep(20);
  forceGc();
  await sleep(20);
  const m = process.memoryUsage();
  return { gcForced, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

/** Counts garbage collections by kind until stopped. */
function watchGc() {
  const gcs = { minor: 0, major: 0, other: 0, pauseMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
      else gcs.other++;
      gcs.pauseMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      // GC entries are delivered asynchronously, a few ticks later: let them arrive before counting.
      await sleep(100);
      observer.disconnect();
      return gcs;
    },
  };
}

/**
 * Typed-array bytes allocated per training step: after one untimed step and a
 * settled GC, the growth of memoryUsage().arrayBuffers over `batches`.
 */
export async function probeAllocation(trainer: Trainer, batches: Int32Array[]): Promise<NonNullable<HeapReport['allocation']>> {
  await trainer.runEpoch(batches.slice(0, 1));
  await settledMemory();
  const watch = watchGc();
  const start = process.memoryUsage().arrayBuffers;
  await trainer.runEpoch(batches.slice(1));
  const end = process.memoryUsage().arrayBuffers;
  const gcs = await watch.stop();
  const steps = batches.length - 1;
  return { bytesPerStep: Math.max(0, end - start) / steps, steps, gcs: gcs.minor + gcs.major + gcs.other };
}

/**
 * Training throughput: `warmupEpochs` untimed epochs, then `timedEpochs`
 * timed ones over the same precomputed batches for every contender; the
 * median samples/s and the test accuracy after them. Heap (after a forced GC)
 * and the GCs that ran are recorded around the timed epochs.
 */
export async function runTraining(
  config: BenchConfig,
  rec: Recorder,
  task: TaskName,
  caseName: string,
  batchSize: number,
  trainer: Trainer,
  plan: { warmupEpochs: number; timedEpochs: number; samplesPerEpoch: number; testSamples?: number; truncated?: boolean },
): Promise<void> {
  const epochs = batchOrder(config.trainSize, batchSize, plan.warmupEpochs + plan.timedEpochs, config.batchSeed).map(
    (e) => truncate(e, plan.samplesPerEpoch),
  );
  for (let e = 0; e < plan.warmupEpochs; e++) await trainer.runEpoch(epochs[e]);
  const { gcForced, ...before } = await settledMemory();
  const watch = watchGc();
  const repeats: number[] = [];
  let steps = 0;
  for (let e = plan.warmupEpochs; e < epochs.length; e++) {
    const samples = epochs[e].reduce((s, b) => s + b.length, 0);
    const t = now();
    await trainer.runEpoch(epochs[e]);
    repeats.push(samples / ((now() - t) / 1000));
    steps += epochs[e].length;
  }
  const gcs = await watch.stop();
  const { gcForced: _, ...after } = await settledMemory();
  const heap: HeapReport = { gcForced, before, after, gcDuringTimed: gcs, steps };
  const accuracy = await trainer.accuracy(Math.min(plan.testSamples ?? config.testSize, config.testSize));
  const perEpoch = epochs[plan.warmupEpochs].length;
  rec.add({
    task,
    case: caseName,
    contender: rec.contender,
    variant: trainer.variant,
    metric: 'samples/s',
    better: 'higher',
    value: median(repeats),
    repeats,
    accuracy,
    trainedSteps: plan.truncated ? epochs.reduce((sum, e) => sum + e.length, 0) : undefined,
    detail: `${plan.warmupEpochs} warm-up + ${plan.timedEpochs} timed epochs of ${perEpoch} steps (${plan.samplesPerEpoch} samples)`,
    heap,
  });
}

/**
 * Single-sample latency: `warmup` untimed calls, then `calls` timed one by
 * one on successive test digits; the repeats are the medians of `blocks`
 * equal blocks, the value their median.
 */
export function runInference(
  rec: Recorder,
  data: BenchData,
  predictor: Predictor,
  plan: { warmup: number; calls: number; blocks: number },
): void {
  const sample = (i: number) => data.testImages.subarray((i % data.testSize) * 784, ((i % data.testSize) + 1) * 784);
  let sink = 0;
  for (let i = 0; i < plan.warmup; i++) sink += predictor.predict(sample(i))[0];
  const perBlock = inferenceBlock(plan);
  const repeats: number[] = [];
  for (let b = 0; b < plan.blocks; b++) {
    const times = new Float64Array(perBlock);
    for (let i = 0; i < perBlock; i++) {
      const x = sample(b * perBlock + i);
      const t = process.hrtime.bigint();
      sink += predictor.predict(x)[0];
      times[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    repeats.push(median(Array.from(times)));
  }
  addInference(rec, repeats, plan, Number.isNaN(sink));
}

/** Calls per block of the inference plan (torch_contender.py computes the same). */
export function inferenceBlock(plan: { calls: number; blocks: number }): number {
  return Math.max(1, Math.floor(plan.calls / plan.blocks));
}

/** Records the inference measurement from its block medians (µs), timed here or by a peer's process. */
export function addInference(rec: Recorder, repeats: number[], plan: { warmup: number; calls: number; blocks: number }, nan: boolean): void {
  if (nan) rec.note('inference produced NaN logits');
  rec.add({
    task: 'infer',
    case: 'MLP, 1 sample',
    contender: rec.contender,
    metric: 'µs',
    better: 'lower',
    value: median(repeats),
    repeats,
    detail: `${plan.warmup} warm-up + ${plan.blocks} × ${inferenceBlock(plan)} timed calls`,
  });
}
