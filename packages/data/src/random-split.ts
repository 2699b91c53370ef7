import { type Generator, ValueError, checkOptions, defaultGenerator, describe, randperm } from '@backprop/ndarray';
import { type Dataset, type Labels, Subset, checkDataset } from './dataset';
import { checkGenerator } from './generator';

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /** The generator the permutation is drawn from (default: ndarray's `defaultGenerator`, torch's global one). */
  rng?: Generator;
}

/** Python's `math.isclose(a, b)` with its default tolerances (relative 1e-9, no absolute one). */
function isClose(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Splits `dataset` at random into non-overlapping {@link Subset}s of the given
 * lengths, as `torch.utils.data.random_split(dataset, lengths, generator)`:
 * it draws `randperm(total, rng)` and cuts it in order, the first `lengths[0]`
 * indices for the first subset, the next `lengths[1]` for the second, and so
 * on. With a `TorchGenerator` the subsets hold exactly PyTorch's indices.
 *
 * The lengths are counts that sum to `dataset.length`, or fractions that sum
 * to 1: each becomes `floor(fraction × length)`, and what is left is handed
 * out one at a time to the first, second, … subsets (PyTorch's rule; like
 * PyTorch, lengths whose sum is 1 are read as fractions, so `[1]` is the
 * whole dataset).
 *
 * @example
 * ```ts
 * const [train, test] = randomSplit(data, [0.8, 0.2], { rng: new TorchGenerator(0) });
 * ```
 */
export function randomSplit<Y extends Labels>(
  dataset: Dataset<Y>,
  lengths: readonly number[],
  options: RandomSplitOptions = {},
): Subset<Y>[] {
  const op = 'randomSplit';
  checkDataset(op, dataset);
  checkOptions(op, options, ['rng']);
  const rng = options.rng === undefined ? defaultGenerator : checkGenerator(op, options.rng);
  if (!Array.isArray(lengths) || lengths.length === 0) {
    throw new ValueError(`${op}: lengths must be a non-empty array of counts or fractions, got ${describe(lengths)}`);
  }
  lengths.forEach((length, i) => {
    if (typeof length !== 'number' || !Number.isFinite(length) || length < 0) {
      throw new ValueError(`${op}: lengths[${i}] must be a non-negative finite number, got ${describe(length)}`);
    }
  });
  const n = dataset.length;
  let counts: number[] = [...lengths];
  const total = lengths.reduce((a, b) => a + b, 0);
  if (isClose(total, 1) && total <= 1) {
    counts = lengths.map((fraction) => Math.floor(n * fraction));
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] += 1;
  } else {
    counts.forEach((count, i) => {
      if (!Number.isInteger(count)) {
        throw new ValueError(`${op}: lengths[${i}] is ${count}; expected whole counts (summing to ${n}) or fractions summing to 1, got lengths that sum to ${total}`);
      }
    });
  }
  const sum = counts.reduce((a, b) => a + b, 0);
  if (sum !== n) {
    throw new ValueError(
      `${op}: the lengths [${lengths.join(', ')}] sum to ${sum}, but the dataset has ${n} samples; expected counts summing to ${n} or fractions summing to 1`,
    );
  }
  const permutation = randperm(n, rng);
  const subsets: Subset<Y>[] = [];
  let offset = 0;
  for (const count of counts) {
    subsets.push(new Subset(dataset, permutation.subarray(offset, offset + count)));
    offset += count;
  }
  return subsets;
}
