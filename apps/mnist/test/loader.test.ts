import { NDArray, TorchGenerator } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data';
import { DataLoader } from '../src/loader';

/** n rows of 4 values; row i holds i, and its label is i % 10. */
function toy(n: number): Dataset {
  const data = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) data.fill(i, i * 4, (i + 1) * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 10;
  return { images: new NDArray(data, [n, 4]), labels };
}

function epochRows(loader: DataLoader): number[][] {
  return [...loader].map((b) => Array.from(b.indices));
}

describe('DataLoader', () => {
  it('visits every row exactly once per epoch, keeping the last partial batch', () => {
    const loader = new DataLoader(toy(103), { batchSize: 10, shuffle: true, rng: new TorchGenerator(1) });
    expect(loader.length).toBe(11);
    for (let epoch = 0; epoch < 3; epoch++) {
      const batches = epochRows(loader);
      expect(batches.map((b) => b.length)).toEqual([...new Array(10).fill(10), 3]);
      expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    }
  });

  it('yields inputs and labels of the rows it names', () => {
    const data = toy(25);
    const loader = new DataLoader(data, { batchSize: 8, shuffle: true, rng: new TorchGenerator(3) });
    for (const { x, y, indices } of loader) {
      expect(x.shape).toEqual([indices.length, 4]);
      expect(x.dtype).toBe('float32');
      indices.forEach((row, k) => {
        expect(Array.from(x.data.subarray(k * 4, k * 4 + 4))).toEqual([row, row, row, row]);
        expect(y[k]).toBe(row % 10);
      });
    }
  });

  it('drops the partial batch only when asked', () => {
    const loader = new DataLoader(toy(103), { batchSize: 10, dropLast: true });
    expect(loader.length).toBe(10);
    expect(epochRows(loader).flat()).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('gives the same order for the same seed, and a new order each epoch', () => {
    const a = new DataLoader(toy(50), { batchSize: 16, shuffle: true, rng: new TorchGenerator(7) });
    const b = new DataLoader(toy(50), { batchSize: 16, shuffle: true, rng: new TorchGenerator(7) });
    const c = new DataLoader(toy(50), { batchSize: 16, shuffle: true, rng: new TorchGenerator(8) });
    const a1 = epochRows(a).flat();
    const a2 = epochRows(a).flat();
    expect(epochRows(b).flat()).toEqual(a1);
    expect(epochRows(b).flat()).toEqual(a2);
    expect(a2).not.toEqual(a1);
    expect(epochRows(c).flat()).not.toEqual(a1);
  });

  it('keeps dataset order without shuffling', () => {
    expect(epochRows(new DataLoader(toy(5), { batchSize: 2 }))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('reshapes each batch to the sample shape (a view, e.g. [B, 1, 28, 28] for a CNN)', () => {
    const loader = new DataLoader(toy(6), { batchSize: 4, sampleShape: [1, 2, 2] });
    expect([...loader].map((batch) => batch.x.shape)).toEqual([[4, 1, 2, 2], [2, 1, 2, 2]]);
  });

  it('rejects bad options', () => {
    const data = toy(5);
    expect(() => new DataLoader(data, { batchSize: 0 })).toThrow('DataLoader: batchSize must be an integer >= 1, got 0');
    expect(() => new DataLoader(data, { batchSize: 2.5 })).toThrow(/batchSize must be an integer >= 1, got 2.5/);
    expect(() => new DataLoader(data, { batchSize: 2, shuffle: true })).toThrow(/shuffle needs a seeded generator/);
    expect(() => new DataLoader(data, { batchSize: 2, sampleShape: [3] })).toThrow(/sampleShape \[3\] does not hold a row of 4 values/);
    expect(() => new DataLoader(data, { batchSize: 2, seed: 1 } as never)).toThrow("DataLoader: unknown option 'seed'");
    expect(() => new DataLoader({ images: data.images, labels: new Int32Array(4) }, { batchSize: 2 })).toThrow(/5 images but 4 labels/);
  });
});
