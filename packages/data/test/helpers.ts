import { readFileSync } from 'node:fs';
import { NDArray } from '@backprop/ndarray';
import { TensorDataset } from '../src/index';

/** What tools/torch-fixtures/data.py wrote with PyTorch 1.13. */
export interface TorchDataFixture {
  meta: { generator: string; torch: string };
  randomSplit: {
    n: number;
    lengths: number[];
    seed: number;
    defaultGenerator: boolean;
    subsets: number[][];
  }[];
  /** `epochs`: one `torch.randperm(n, generator=g)` an epoch; the first equals `RandomSampler(generator=g)`'s first epoch. */
  shuffle: { n: number; seed: number; epochs: number[][]; randomSamplerFirstEpoch: number[] }[];
}

export function readFixture(): TorchDataFixture {
  return JSON.parse(readFileSync(new URL('./fixtures/torch-data.json', import.meta.url), 'utf8'));
}

/** n rows of 4 values; row i holds i, and its label is i % 10. */
export function toy(n: number): TensorDataset<Int32Array> {
  const data = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) data.fill(i, i * 4, (i + 1) * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 10;
  return new TensorDataset(new NDArray(data, [n, 4]), labels);
}

/** The same samples as {@link toy}, as a plain object with `get` only (no batched `getItems`). */
export function plainToy(n: number) {
  const rows = toy(n);
  return { length: n, get: (i: number) => rows.get(i) };
}
