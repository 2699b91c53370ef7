import { NDArray, ShapeError, ValueError, describe, formatShape, stack, take } from '@backprop/ndarray';

/**
 * The labels of a dataset, one per sample: class indices as an `Int32Array`
 * (what `CrossEntropyLoss` takes), or an `NDArray` whose first axis is the
 * sample (regression targets, one-hot rows, anything a loss takes).
 */
export type Labels = Int32Array | NDArray;

/** One sample's label: a number for `Int32Array` labels, an `NDArray` row otherwise. */
export type LabelOf<Y extends Labels> = Y extends Int32Array ? number : NDArray;

/** One sample: its input and its label (`dataset[i]`, which PyTorch returns as a tuple `(x, y)`). */
export interface Sample<L = number | NDArray> {
  readonly x: NDArray;
  readonly y: L;
}

/** Several samples as one batch: inputs stacked on a new first axis, labels gathered. */
export interface Collated<Y extends Labels = Labels> {
  /** Inputs, `[B, ...sampleShape]`. */
  readonly x: NDArray;
  /** Labels: an `Int32Array` of B class indices, or an `NDArray` `[B, ...labelShape]`. */
  readonly y: Y;
}

/**
 * A map-style dataset, as `torch.utils.data.Dataset`: `length` samples, each
 * read with `get(index)`. Any object of this shape works with
 * {@link DataLoader}, {@link Subset} and {@link randomSplit}.
 *
 * `getItems(indices)` is optional, as torch's `__getitems__`: a dataset that
 * can read a whole batch at once (a {@link TensorDataset} gathers rows with
 * one `take`) returns it already collated, and the loader then never calls
 * `get` one sample at a time.
 */
export interface Dataset<Y extends Labels = Labels> {
  readonly length: number;
  get(index: number): Sample<LabelOf<Y>>;
  getItems?(indices: ArrayLike<number>): Collated<Y>;
}

/** Throws unless `dataset` has a non-negative integer `length` and a `get` method. */
export function checkDataset(op: string, dataset: unknown): Dataset {
  const d = dataset as Dataset | null | undefined;
  if (
    d === null ||
    typeof d !== 'object' ||
    typeof d.get !== 'function' ||
    typeof d.length !== 'number' ||
    !Number.isInteger(d.length) ||
    d.length < 0
  ) {
    throw new ValueError(
      `${op}: dataset must be a Dataset (an object with a non-negative integer 'length' and a 'get(index)' method), got ${describe(dataset)}`,
    );
  }
  return d;
}

/** `index` as a position in [0, n): integers in [-n, n) are accepted, negative ones counting from the end, as PyTorch indexes. */
export function checkIndex(op: string, index: unknown, n: number, what = 'index'): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < -n || index >= n) {
    throw new ValueError(`${op}: ${what} ${describe(index)} is out of range for a dataset of ${n} samples (expected an integer in [${-n}, ${n}))`);
  }
  return index < 0 ? index + n : index;
}

/**
 * Stacks samples into a batch, as `torch.utils.data.default_collate`: the
 * inputs with `stack` (every sample the same shape), the labels into an
 * `Int32Array` when they are numbers (class indices: integers in the int32
 * range) or with `stack` when they are arrays. The loader uses it for a
 * dataset without `getItems`.
 */
export function defaultCollate(samples: readonly Sample[]): Collated {
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new ValueError(`defaultCollate: expected a non-empty array of samples { x, y }, got ${describe(samples)}`);
  }
  const inputs: NDArray[] = [];
  for (const [i, sample] of samples.entries()) {
    if (sample === null || typeof sample !== 'object' || !(sample.x instanceof NDArray)) {
      throw new ValueError(`defaultCollate: sample ${i} must be { x: NDArray, y }, got ${describe(sample)}`);
    }
    inputs.push(sample.x);
  }
  const x = stack(inputs);
  const first = samples[0].y;
  if (typeof first === 'number') {
    const y = new Int32Array(samples.length);
    for (const [i, { y: label }] of samples.entries()) {
      if (typeof label !== 'number' || !Number.isInteger(label) || label < -(2 ** 31) || label >= 2 ** 31) {
        throw new ValueError(
          `defaultCollate: sample ${i} has label ${describe(label)}; a number label is a class index (an integer in the int32 range), as sample 0's is. Give regression targets as NDArrays`,
        );
      }
      y[i] = label;
    }
    return { x, y };
  }
  const labels: NDArray[] = [];
  for (const [i, { y: label }] of samples.entries()) {
    if (!(label instanceof NDArray)) {
      throw new ValueError(`defaultCollate: sample ${i} has label ${describe(label)}; expected an NDArray, as sample 0's is`);
    }
    labels.push(label);
  }
  return { x, y: stack(labels) };
}

/** Reads a batch from any dataset: `getItems` when it has one, else `get` per index and {@link defaultCollate}. */
export function gather<Y extends Labels>(dataset: Dataset<Y>, indices: ArrayLike<number>): Collated<Y> {
  if (typeof dataset.getItems === 'function') return dataset.getItems(indices);
  const samples: Sample<LabelOf<Y>>[] = new Array(indices.length);
  for (let k = 0; k < indices.length; k++) samples[k] = dataset.get(indices[k]);
  return defaultCollate(samples) as Collated<Y>;
}

/**
 * Samples held as arrays, one row each, as `torch.utils.data.TensorDataset(inputs, labels)`:
 * sample `i` is row `i` of `inputs` and label `i`.
 *
 * @example
 * ```ts
 * const data = new TensorDataset(images, labels);   // images [N, 784], labels Int32Array(N)
 * data.length;                                       // N
 * const { x, y } = data.get(0);                      // x [784], y a number
 * ```
 */
export class TensorDataset<Y extends Labels = Labels> implements Dataset<Y> {
  /** `[N, ...sampleShape]`: row `i` is sample `i`'s input. */
  readonly inputs: NDArray;
  /** N labels: class indices, or an `NDArray` `[N, ...labelShape]`. */
  readonly labels: Y;

  constructor(inputs: NDArray, labels: Y) {
    if (!(inputs instanceof NDArray)) {
      throw new ValueError(`TensorDataset: inputs must be an NDArray [N, ...sampleShape], got ${describe(inputs)}`);
    }
    if (inputs.ndim === 0) throw new ShapeError('TensorDataset: inputs must have a first axis (one row per sample), got a 0-d array');
    const n = inputs.shape[0];
    if (labels instanceof Int32Array) {
      if (labels.length !== n) {
        throw new ShapeError(
          `TensorDataset: inputs of shape ${formatShape(inputs.shape)} hold ${n} samples but there are ${labels.length} labels; expected one label per row`,
        );
      }
    } else if (labels instanceof NDArray) {
      if (labels.ndim === 0 || labels.shape[0] !== n) {
        throw new ShapeError(
          `TensorDataset: inputs of shape ${formatShape(inputs.shape)} hold ${n} samples but labels have shape ${formatShape(labels.shape)}; expected [${n}, ...]`,
        );
      }
    } else {
      throw new ValueError(`TensorDataset: labels must be an Int32Array of class indices or an NDArray, got ${describe(labels)}`);
    }
    this.inputs = inputs;
    this.labels = labels;
  }

  get length(): number {
    return this.inputs.shape[0];
  }

  /** Sample `index` (negative counts from the end): its input row (a copy) and its label. */
  get(index: number): Sample<LabelOf<Y>> {
    const i = checkIndex('TensorDataset.get', index, this.length);
    const x = take(this.inputs, [i]).reshape(this.inputs.shape.slice(1));
    const labels = this.labels;
    const y = labels instanceof Int32Array ? labels[i] : take(labels, [i]).reshape(labels.shape.slice(1));
    return { x, y: y as LabelOf<Y> };
  }

  /** The samples at `indices` as one batch, gathered with `take` (a copy). */
  getItems(indices: ArrayLike<number>): Collated<Y> {
    const x = take(this.inputs, indices);
    const labels = this.labels;
    if (!(labels instanceof Int32Array)) return { x, y: take(labels, indices) as Y };
    // take has checked every index against the inputs' first axis, which the labels share.
    const n = labels.length;
    const y = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      y[k] = labels[i < 0 ? i + n : i];
    }
    return { x, y: y as Y };
  }
}

/**
 * The samples of `dataset` at `indices`, in that order, as
 * `torch.utils.data.Subset`: a view that reads through to the dataset (no
 * copy). {@link randomSplit} returns these.
 */
export class Subset<Y extends Labels = Labels> implements Dataset<Y> {
  readonly dataset: Dataset<Y>;
  /** Positions in `dataset`, each in [0, dataset.length). */
  readonly indices: Int32Array;

  constructor(dataset: Dataset<Y>, indices: ArrayLike<number>) {
    checkDataset('Subset', dataset);
    if (indices === null || typeof indices !== 'object' || typeof (indices as ArrayLike<number>).length !== 'number') {
      throw new ValueError(`Subset: indices must be an array of integers, got ${describe(indices)}`);
    }
    const n = dataset.length;
    const own = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) own[k] = checkIndex('Subset', indices[k], n, `indices[${k}] =`);
    this.dataset = dataset;
    this.indices = own;
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): Sample<LabelOf<Y>> {
    return this.dataset.get(this.indices[checkIndex('Subset.get', index, this.indices.length)]);
  }

  /** A batch: the dataset's own `getItems` at the mapped indices when it has one, else its samples collated. */
  getItems(indices: ArrayLike<number>): Collated<Y> {
    const n = this.indices.length;
    const mapped = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) mapped[k] = this.indices[checkIndex('Subset.getItems', indices[k], n)];
    return gather(this.dataset, mapped);
  }
}
