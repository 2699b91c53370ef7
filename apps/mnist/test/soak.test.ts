import { Dropout, Linear, ReLU, Sequential } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { TorchGenerator, randn, take } from '@backprop/ndarray';
import { CosineAnnealingLR, SGD } from '@backprop/optimizers';
import { describe, expect, it } from 'vitest';

/** Heap and typed-array memory after a full collection (typed arrays live outside the JS heap). */
function settledMemory(): { heap: number; buffers: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (vitest.config.ts passes it)');
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, buffers: arrayBuffers };
}

describe('a long training run', () => {
  it('keeps memory flat over 6,000 steps after warm-up', () => {
    const rng = new TorchGenerator(0);
    const model = new Sequential(new Linear(64, 48, { rng }), new ReLU(), new Dropout(0.1, { rng }), new Linear(48, 10, { rng }));
    const lossFn = new CrossEntropyLoss({ labelSmoothing: 0.05 });
    const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    const schedule = new CosineAnnealingLR(opt, { tMax: 1000 });
    const x = randn([512, 64], { rng });
    const y = Int32Array.from({ length: 512 }, (_, i) => i % 10);

    const losses: number[] = [];
    const samples: { step: number; heap: number; buffers: number }[] = [];
    for (let step = 1; step <= 6000; step++) {
      const batch = Int32Array.from({ length: 16 }, () => rng.randint(512));
      const out = model.forward(take(x, batch));
      const loss = lossFn.forward(out, Array.from(batch, (i) => y[i]));
      model.backward(lossFn.backward());
      opt.step();
      opt.zeroGrad();
      schedule.step();
      losses.push(loss);
      if (step % 1000 === 0) samples.push({ step, ...settledMemory() });
    }

    expect(losses.every(Number.isFinite)).toBe(true);
    // Measure from step 1000 (warm-up done: every lazily created buffer exists) to step 6000.
    const start = samples[0];
    const end = samples[samples.length - 1];
    const perStep = (key: 'heap' | 'buffers') => (end[key] - start[key]) / (end.step - start.step);
    console.log(
      `soak: heap ${(start.heap / 2 ** 20).toFixed(1)} → ${(end.heap / 2 ** 20).toFixed(1)} MiB, ` +
        `typed arrays ${(start.buffers / 2 ** 20).toFixed(2)} → ${(end.buffers / 2 ** 20).toFixed(2)} MiB over ${end.step - start.step} steps ` +
        `(${perStep('heap').toFixed(1)} and ${perStep('buffers').toFixed(1)} bytes/step)`,
    );
    // A leak of even one 16×48 float32 activation per step would add 3 KB/step; allow 100 bytes/step of noise.
    expect(perStep('heap')).toBeLessThan(100);
    expect(perStep('buffers')).toBeLessThan(100);
  });
});
