import { type Generator, type NDArray, randperm, take } from '@backprop/ndarray';
import type { Dataset } from './dataset';

/** One mini-batch: inputs [B, ...sampleShape], their labels, and which dataset rows they are. */
export interface Batch {
  readonly x: NDArray;
  readonly y: Int32Array;
  readonly indices: Int32Array;
}

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Rows per batch (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Draw a fresh order every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Required when shuffling: the seeded generator each epoch's permutation comes from. */
  rng?: Generator;
  /** Drop the last batch when it is smaller than `batchSize` (default false: keep it). */
  dropLast?: boolean;
  /** Shape of one sample, e.g. `[1, 28, 28]` for a CNN (default: the dataset's row shape). */
  sampleShape?: readonly number[];
}

/**
 * Mini-batches over a {@link Dataset}, as `torch.utils.data.DataLoader`:
 * iterating it once is one epoch. With `shuffle`, each epoch draws a new
 * permutation with `randperm` from the given generator, so the order depends
 * on the seed alone and differs from epoch to epoch; every row appears
 * exactly once per epoch. The last, partial batch is kept unless `dropLast`.
 *
 * @example
 * ```ts
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, rng: new TorchGenerator(1) });
 * for (const { x, y } of loader) { ... }       // one epoch
 * ```
 */
export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly sampleShape: readonly number[];
  private readonly rng?: Generator;

  constructor(dataset: Dataset, options: DataLoaderOptions) {
    const known = ['batchSize', 'shuffle', 'rng', 'dropLast', 'sampleShape'];
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) throw new TypeError(`DataLoader: unknown option '${key}'; expected one of ${known.join(', ')}`);
    }
    const { batchSize, shuffle = false, rng, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`DataLoader: batchSize must be an integer >= 1, got ${batchSize}`);
    }
    if (shuffle && rng === undefined) {
      throw new TypeError('DataLoader: shuffle needs a seeded generator in `rng` (e.g. new TorchGenerator(seed)) so runs are reproducible');
    }
    const n = dataset.labels.length;
    if (dataset.images.shape[0] !== n) {
      throw new RangeError(`DataLoader: the dataset has ${dataset.images.shape[0]} images but ${n} labels`);
    }
    const rowShape = dataset.images.shape.slice(1);
    const sampleShape = options.sampleShape ?? rowShape;
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    if (sampleShape.reduce((a, b) => a * b, 1) !== rowSize) {
      throw new RangeError(
        `DataLoader: sampleShape [${sampleShape.join(', ')}] does not hold a row of ${rowSize} values (row shape [${rowShape.join(', ')}])`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.rng = rng;
    this.sampleShape = [...sampleShape];
  }

  /** Rows in the dataset. */
  get size(): number {
    return this.dataset.labels.length;
  }

  /** Batches per epoch. */
  get length(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** The row order of the next epoch (draws from the generator when shuffling). */
  private order(): Int32Array {
    if (this.shuffle) return randperm(this.size, this.rng);
    const order = new Int32Array(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return order;
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const order = this.order();
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const x = take(this.dataset.images, indices).reshape([indices.length, ...this.sampleShape]);
      const y = new Int32Array(indices.length);
      for (let i = 0; i < indices.length; i++) y[i] = this.dataset.labels[indices[i]];
      yield { x, y, indices };
    }
  }
}
