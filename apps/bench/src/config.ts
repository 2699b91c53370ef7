import type { ContenderName } from './types';

/** Everything a run's size depends on; `--quick` shrinks it to seconds. */
export interface BenchConfig {
  quick: boolean;
  /** Seed of the `TorchGenerator` that initialises every model (ours, then copied into TF.js). */
  weightSeed: number;
  /** Seed of the generator the batch order is drawn from. */
  batchSeed: number;
  /** Seed of the 10,000-digit split (as apps/mnist). */
  splitSeed: number;
  trainSize: number;
  testSize: number;
  matmul: {
    sizes: number[];
    /** Timed repeats per size and contender (fewer when the cap is reached). */
    repeats: number;
    /** Each repeat runs enough products to last at least this long. */
    minRepeatMs: number;
    /** No new repeat starts once a size has used this much time (after its warm-up call). */
    capMs: number;
  };
  mlp: {
    hidden: number;
    lr: number;
    momentum: number;
    batchSizes: number[];
    warmupEpochs: number;
    timedEpochs: number;
  };
  cnn: {
    batchSize: number;
    /** One untimed chunk of `stepsPerRepeat` steps, then `timedRepeats` timed chunks. */
    timedRepeats: number;
    stepsPerRepeat: number;
    /** The CNN's accuracy is measured on the first `testSamples` test digits (TF.js cpu's forward is slow). */
    testSamples: number;
  };
  infer: {
    warmup: number;
    /** Timed single-sample calls, split into `blocks` blocks whose medians are the repeats. */
    calls: number;
    blocks: number;
  };
  /**
   * TF.js's pure-JS cpu backend is 5–10× slower than the rest: it trains each
   * MLP "epoch" on only the first `samplesPerEpoch` samples of the same batch
   * order, and runs fewer CNN steps and inference calls.
   */
  slow: Partial<Record<ContenderName, { samplesPerEpoch: number; cnnStepsPerRepeat: number; inferCalls: number }>>;
}

export function makeConfig(quick: boolean): BenchConfig {
  if (quick) {
    return {
      quick,
      weightSeed: 0,
      batchSeed: 1,
      splitSeed: 0,
      trainSize: 1_000,
      testSize: 300,
      matmul: { sizes: [32, 64], repeats: 3, minRepeatMs: 5, capMs: 200 },
      mlp: { hidden: 128, lr: 0.05, momentum: 0.9, batchSizes: [64, 256], warmupEpochs: 1, timedEpochs: 2 },
      cnn: { batchSize: 16, timedRepeats: 2, stepsPerRepeat: 2, testSamples: 100 },
      infer: { warmup: 20, calls: 100, blocks: 5 },
      slow: { 'tfjs-cpu': { samplesPerEpoch: 500, cnnStepsPerRepeat: 1, inferCalls: 50 } },
    };
  }
  return {
    quick,
    weightSeed: 0,
    batchSeed: 1,
    splitSeed: 0,
    trainSize: 8_000,
    testSize: 2_000,
    matmul: { sizes: [64, 128, 256, 512, 1024], repeats: 5, minRepeatMs: 100, capMs: 4_000 },
    mlp: { hidden: 128, lr: 0.05, momentum: 0.9, batchSizes: [64, 256], warmupEpochs: 1, timedEpochs: 3 },
    cnn: { batchSize: 64, timedRepeats: 3, stepsPerRepeat: 20, testSamples: 500 },
    infer: { warmup: 500, calls: 5_000, blocks: 5 },
    slow: { 'tfjs-cpu': { samplesPerEpoch: 2_048, cnnStepsPerRepeat: 1, inferCalls: 1_000 } },
  };
}
