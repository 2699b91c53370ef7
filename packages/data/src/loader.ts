import { type Generator, type NDArray, ValueError, checkBoolean, checkNumber, checkOptions, randperm } from '@backprop/ndarray';
import { type Dataset, type Labels, checkDataset, gather } from './dataset';
import { checkGenerator } from './generator';

/** One mini-batch: inputs `[B, ...sampleShape]`, their labels, and which dataset samples they are. */
export interface Batch<Y extends Labels = Labels> {
  readonly x: NDArray;
  readonly y: Y;
  /** The dataset index of each sample of the batch, in batch order. */
  readonly indices: Int32Array;
}

/** Options of {@link DataLoader}, PyTorch's camelCased. */
export interface DataLoaderOptions {
  /** Samples per batch (default 1, as PyTorch); the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Draw a new order every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Required when shuffling: the seeded generator each epoch's permutation comes from (PyTorch's `generator`). */
  rng?: Generator;
  /** Drop the last batch when it is smaller than `batchSize` (default false: keep it). */
  dropLast?: boolean;
}

const OPTIONS = ['batchSize', 'shuffle', 'rng', 'dropLast'];

/**
 * Mini-batches over a {@link Dataset}, as `torch.utils.data.DataLoader`:
 * iterating it once is one epoch. Each batch is read with the dataset's
 * `getItems` (a {@link TensorDataset} gathers its rows with ndarray's `take`),
 * or sample by sample with `get` and {@link defaultCollate}.
 *
 * With `shuffle`, every epoch draws one `randperm(dataset.length, rng)` and
 * nothing else from the generator: epoch k visits the samples in the order of
 * the k-th `torch.randperm(n, generator=g)` (bit for bit with a
 * `TorchGenerator`), the order depends on the seed alone, differs from epoch
 * to epoch, and holds every sample exactly once. The first epoch is also
 * `RandomSampler(dataset, generator=g)`'s. PyTorch's own `DataLoader` draws
 * more from `g` (a 64-bit seed for its worker processes before each epoch,
 * and, in RandomSampler, a second, unused permutation after each), so given
 * the same generator it visits the samples in other orders. The last,
 * partial batch is kept unless `dropLast`.
 *
 * @example
 * ```ts
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, rng: new TorchGenerator(1) });
 * for (const { x, y } of loader) { ... }       // one epoch
 * ```
 */
export class DataLoader<Y extends Labels = Labels> implements Iterable<Batch<Y>> {
  readonly dataset: Dataset<Y>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** The generator each epoch's permutation is drawn from (undefined without `shuffle`). */
  readonly rng: Generator | undefined;

  constructor(dataset: Dataset<Y>, options: DataLoaderOptions = {}) {
    const op = 'DataLoader';
    checkDataset(op, dataset);
    checkOptions(op, options, OPTIONS);
    const { batchSize = 1, shuffle = false, rng, dropLast = false } = options;
    this.batchSize = checkNumber(op, 'batchSize', batchSize, { integer: true, min: 1 });
    this.shuffle = checkBoolean(op, 'shuffle', shuffle);
    this.dropLast = checkBoolean(op, 'dropLast', dropLast);
    if (rng !== undefined) checkGenerator(op, rng);
    if (shuffle && rng === undefined) {
      throw new ValueError(
        `${op}: shuffle needs a seeded generator in 'rng' (e.g. new TorchGenerator(seed)) so runs are reproducible, got none`,
      );
    }
    this.dataset = dataset;
    this.rng = shuffle ? rng : undefined;
  }

  /** Samples in the dataset. */
  get size(): number {
    return this.dataset.length;
  }

  /** Batches per epoch, as `len(loader)`. */
  get length(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** The sample order of the next epoch (draws from the generator when shuffling). */
  private order(): Int32Array {
    if (this.shuffle) return randperm(this.size, this.rng);
    const order = new Int32Array(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return order;
  }

  *[Symbol.iterator](): Iterator<Batch<Y>> {
    const order = this.order();
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const { x, y } = gather(this.dataset, indices);
      yield { x, y, indices };
    }
  }
}
