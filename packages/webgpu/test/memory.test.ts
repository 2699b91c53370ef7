/**
 * No dispose: over a long run the GPU memory a training loop holds stays
 * flat. Layers reuse their buffers step after step; what a step drops (the
 * uploaded batch, the loss, the loss's gradient) returns to the pool when
 * the garbage collector finds it, and the next steps take it from there.
 * The test collects at chosen steps, so that the figure does not depend on
 * when the engine would have; between collections the pool holds what the
 * steps in between dropped.
 */
import { Linear, ReLU, Sequential } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { DataLoader, TensorDataset } from '@backprop/data';
import { NDArray, TorchGenerator, setBackend, toBackend } from '@backprop/ndarray';
import { SGD } from '@backprop/optimizers';
import { expect, it } from 'vitest';
import { webgpu } from './gpu';

/** Runs a full garbage collection (node --expose-gc), then lets the FinalizationRegistry's callbacks run. */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('memory.test.ts needs node --expose-gc (vitest.config.ts passes it to the test processes)');
  // The registry's callbacks run in a task of their own after the collection: give them two rounds to run.
  for (let round = 0; round < 2; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('holds the same GPU memory at every collection of 600 MLP steps after the first, with nothing disposed', async () => {
  const gpu = await webgpu();
  const rng = new TorchGenerator(3);
  // 512 samples in host memory, as a dataset is: the loader cuts batches of 64 there, toBackend moves each.
  const inputs = new Float32Array(512 * 32);
  rng.normal(inputs, 0, 1);
  const dataset = new TensorDataset(new NDArray(inputs, [512, 32]), Int32Array.from({ length: 512 }, (_, i) => (i * 7) % 10));
  const loader = new DataLoader(dataset, { batchSize: 64 });
  const previous = setBackend(gpu);
  try {
    const model = new Sequential(new Linear(32, 64, { rng }), new ReLU(), new Linear(64, 10, { rng }));
    const optimizer = new SGD(model.parameters(), { lr: 0.05 });
    const lossFn = new CrossEntropyLoss();
    const held: number[] = [];
    const inUse: number[] = [];
    let first = 0;
    let last = 0;
    let step = 0;
    while (step < 600) {
      for (const { x, y } of loader) {
        // y: the batch's labels, an Int32Array the loss uploads with the targets' check.
        const loss = lossFn.compute(model.forward(toBackend(x)), y);
        model.backward(lossFn.backward());
        optimizer.step();
        optimizer.zeroGrad();
        if (step % 50 === 49) {
          const value = await loss.itemAsync();
          if (step === 49) first = value;
          last = value;
          await collect();
          const { bytesInUse, bytesPooled } = gpu.memory();
          held.push(bytesInUse + bytesPooled);
          inUse.push(bytesInUse);
        }
        step++;
      }
    }
    // One line of what the run held, for the README's figure.
    console.log(`GPU bytes every 50 steps, after a collection: held ${held.join(', ')}; in use ${inUse.join(', ')}; loss ${first.toFixed(4)} → ${last.toFixed(4)}`);
    expect(last).toBeLessThan(first);
    // Flat: what a step drops goes back to the pool, and the next steps take it from there.
    expect(new Set(held.slice(1)).size, `held ${held.join(', ')}`).toBe(1);
    expect(new Set(inUse.slice(1)).size, `in use ${inUse.join(', ')}`).toBe(1);
  } finally {
    setBackend(previous);
  }
}, 300_000);
