import { NDArray, NumpyRandomState, TorchGenerator, ValueError, array } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { DataLoader, TensorDataset } from '../src/index';
import { plainToy, readFixture, toy } from './helpers';

function epochRows(loader: DataLoader): number[][] {
  return [...loader].map((b) => Array.from(b.indices));
}

describe('DataLoader', () => {
  it('visits every row exactly once per epoch, keeping the last partial batch', () => {
    const loader = new DataLoader(toy(103), { batchSize: 10, shuffle: true, rng: new TorchGenerator(1) });
    expect(loader.length).toBe(11);
    expect(loader.size).toBe(103);
    for (let epoch = 0; epoch < 3; epoch++) {
      const batches = epochRows(loader);
      expect(batches.map((b) => b.length)).toEqual([...new Array(10).fill(10), 3]);
      expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    }
  });

  it('yields inputs and labels of the rows it names', () => {
    const loader = new DataLoader(toy(25), { batchSize: 8, shuffle: true, rng: new TorchGenerator(3) });
    for (const { x, y, indices } of loader) {
      expect(x.shape).toEqual([indices.length, 4]);
      expect(x.dtype).toBe('float32');
      indices.forEach((row, k) => {
        expect(Array.from(x.data.subarray(k * 4, k * 4 + 4))).toEqual([row, row, row, row]);
        expect(y[k]).toBe(row % 10);
      });
    }
  });

  it('shuffles each epoch in the order of torch.randperm(n, generator=g), the next permutation every epoch', () => {
    for (const { n, seed, epochs, randomSamplerFirstEpoch } of readFixture().shuffle) {
      const loader = new DataLoader(toy(n), { batchSize: 4, shuffle: true, rng: new TorchGenerator(seed) });
      const orders = epochs.map(() => epochRows(loader).flat());
      expect(orders).toEqual(epochs);
      // The first epoch is also RandomSampler(generator=torch.Generator().manual_seed(seed))'s.
      expect(orders[0]).toEqual(randomSamplerFirstEpoch);
    }
  });

  it('drops the partial batch only when asked', () => {
    const loader = new DataLoader(toy(103), { batchSize: 10, dropLast: true });
    expect(loader.length).toBe(10);
    expect(epochRows(loader).flat()).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const shuffled = new DataLoader(toy(103), { batchSize: 10, dropLast: true, shuffle: true, rng: new TorchGenerator(0) });
    const rows = epochRows(shuffled);
    expect(rows.map((b) => b.length)).toEqual(new Array(10).fill(10));
    expect(new Set(rows.flat()).size).toBe(100);
    // Fewer samples than one batch: nothing with dropLast, one short batch without.
    expect(new DataLoader(toy(3), { batchSize: 4, dropLast: true }).length).toBe(0);
    expect([...new DataLoader(toy(3), { batchSize: 4, dropLast: true })]).toEqual([]);
    expect(epochRows(new DataLoader(toy(3), { batchSize: 4 }))).toEqual([[0, 1, 2]]);
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
    // Any generator of ndarray shuffles; numpy's gives its own order, reproducibly.
    const numpy = () => epochRows(new DataLoader(toy(50), { batchSize: 16, shuffle: true, rng: new NumpyRandomState(7) })).flat();
    expect(numpy()).toEqual(numpy());
    expect(numpy()).not.toEqual(a1);
  });

  it('keeps dataset order without shuffling, one sample a batch by default (batch_size=1, as PyTorch)', () => {
    expect(epochRows(new DataLoader(toy(5), { batchSize: 2 }))).toEqual([[0, 1], [2, 3], [4]]);
    expect(epochRows(new DataLoader(toy(3)))).toEqual([[0], [1], [2]]);
  });

  it('gives the same batches over a dataset with get alone (collated) as over a TensorDataset (getItems)', () => {
    const rows = (dataset: ConstructorParameters<typeof DataLoader>[0]) =>
      [...new DataLoader(dataset, { batchSize: 7, shuffle: true, rng: new TorchGenerator(5) })].map(({ x, y, indices }) => ({
        x: Array.from(x.data),
        shape: x.shape,
        y: Array.from(y as Int32Array),
        indices: Array.from(indices),
      }));
    expect(rows(plainToy(30))).toEqual(rows(toy(30)));
  });

  it('batches NDArray labels as an NDArray', () => {
    const data = new TensorDataset(array([[1], [2], [3]]), array([[0.5, 1], [1.5, 2], [2.5, 3]]));
    const [first, second] = [...new DataLoader(data, { batchSize: 2 })];
    expect(first.y).toBeInstanceOf(NDArray);
    expect(first.y.shape).toEqual([2, 2]);
    expect(Array.from(second.y.data)).toEqual([2.5, 3]);
  });

  it('rejects bad options with a ValueError naming the option, what it got and what it expected', () => {
    const data = toy(5);
    const cases: [unknown, string | RegExp][] = [
      [{ batchSize: 0 }, 'DataLoader: batchSize must be >= 1, got 0'],
      [{ batchSize: 2.5 }, 'DataLoader: batchSize must be an integer, got 2.5'],
      [{ batchSize: Number.NaN }, 'DataLoader: batchSize must be a finite number, got NaN'],
      [{ batchSize: '64' }, "DataLoader: batchSize must be a finite number, got '64'"],
      [{ batchSize: 2, shuffle: 'yes' }, "DataLoader: shuffle must be true or false, got 'yes'"],
      [{ batchSize: 2, dropLast: 1 }, 'DataLoader: dropLast must be true or false, got 1'],
      [{ batchSize: 2, shuffle: true }, /DataLoader: shuffle needs a seeded generator in 'rng' \(e\.g\. new TorchGenerator\(seed\)\)/],
      [{ batchSize: 2, shuffle: true, rng: 42 }, 'DataLoader: rng must be a seeded generator such as new TorchGenerator(seed), got 42'],
      [{ batchSize: 2, seed: 1 }, "DataLoader: unknown option 'seed'; expected one of 'batchSize', 'shuffle', 'rng', 'dropLast'"],
      [{ batchSize: 2, batch_size: 2 }, "DataLoader: unknown option 'batch_size'"],
      [[2], 'DataLoader: options must be an object, got an array of length 1'],
    ];
    for (const [options, message] of cases) {
      let error: unknown;
      try {
        new DataLoader(data, options as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(ValueError);
      if (typeof message === 'string') expect((error as Error).message, JSON.stringify(options)).toContain(message);
      else expect((error as Error).message, JSON.stringify(options)).toMatch(message);
    }
  });

  it('rejects what is not a dataset', () => {
    expect(() => new DataLoader(toy(3).inputs as never)).toThrow(
      /DataLoader: dataset must be a Dataset \(an object with a non-negative integer 'length' and a 'get\(index\)' method\), got an NDArray of shape \[3, 4\]/,
    );
    expect(() => new DataLoader({ length: -1, get: () => null } as never)).toThrow(/DataLoader: dataset must be a Dataset/);
  });
});
