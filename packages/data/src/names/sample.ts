import { type Generator, type NDArray, ValueError, array } from '@backprop/ndarray';
import type { Vocabulary } from './index';

/**
 * What {@link sampleNames} needs of a model (any character-level model of
 * apps/charlm or the playground): `forward(ids)` maps int32 ids `[B, T]`,
 * T ≤ `config.blockSize`, to logits `[B, T, config.vocabSize]` where
 * position t sees tokens 0..t only, and a training/eval mode.
 */
export interface NameModel {
  readonly config: { readonly blockSize: number; readonly vocabSize: number };
  readonly training: boolean;
  forward(ids: NDArray): NDArray;
  train(mode?: boolean): unknown;
  eval(): unknown;
}

export interface SampleOptions {
  /** How many names. */
  count: number;
  /** Divides the logits before the softmax: below 1 sharper, above 1 flatter; 0 takes the most likely character (greedy). */
  temperature: number;
  /** Draws each character (not used when greedy). */
  rng: Generator;
  /** The start of every name (default none): the model continues it. */
  prefix?: string;
}

/**
 * Generates `count` names a character at a time, all at once as one batch:
 * each starts from the boundary token (and `prefix`), the model's logits for the last
 * position pick the next character (sampled from softmax(logits / T), or
 * the argmax when T = 0), and a name ends at the boundary token or when the
 * block is full. The model runs in eval mode; its mode is restored after.
 * It reads the logits with `.data`: for a model on a GPU, {@link sampleNamesAsync}.
 */
export function sampleNames(model: NameModel, vocab: Vocabulary, options: SampleOptions): string[] {
  const steps = sampling(model, vocab, options);
  for (let step = steps.next(); ; step = steps.next(model.forward(step.value).data)) if (step.done) return step.value;
}

/**
 * {@link sampleNames} for a model on any backend: each position's logits are
 * read with `await toHost()` (a GPU cannot be read synchronously); the names
 * are `sampleNames`' own for the same logits and generator.
 */
export async function sampleNamesAsync(model: NameModel, vocab: Vocabulary, options: SampleOptions): Promise<string[]> {
  const steps = sampling(model, vocab, options);
  for (let step = steps.next(); ; step = steps.next(await model.forward(step.value).toHost())) if (step.done) return step.value;
}

/**
 * The sampling, one position at a time: yields the ids `[count, t]` whose
 * logits it needs next, takes them (`[count, t, V]`, on the host), and
 * returns the names. The model is in eval mode from the first yield to the end.
 */
function* sampling(model: NameModel, vocab: Vocabulary, options: SampleOptions): globalThis.Generator<NDArray, string[], ArrayLike<number>> {
  const { count, temperature, rng, prefix = '' } = options;
  if (!Number.isInteger(count) || count < 1) throw new ValueError(`sampleNames: count must be a positive integer, got ${count}`);
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new ValueError(`sampleNames: temperature must be a finite number >= 0, got ${temperature}`);
  }
  const { blockSize, vocabSize } = model.config;
  const start = vocab.encode(prefix);
  if (start.length + 1 >= blockSize) {
    throw new ValueError(`sampleNames: the prefix ${JSON.stringify(prefix)} leaves no room in a block of ${blockSize} (at most ${blockSize - 2} characters)`);
  }
  const ids = new Int32Array(count * blockSize); // column 0 is the boundary token, then the prefix
  for (let b = 0; b < count; b++) ids.set(start, b * blockSize + 1);
  const done = new Uint8Array(count);
  const uniforms = new Float64Array(count);
  const probabilities = new Float64Array(vocabSize);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let t = start.length + 1; t < blockSize && done.includes(0); t++) {
      const logits = yield prefixes(ids, count, blockSize, t); // [count, t, V]
      if (temperature > 0) rng.uniform(uniforms, 0, 1);
      for (let b = 0; b < count; b++) {
        if (done[b]) continue;
        const row = (b * t + t - 1) * vocabSize;
        const next = temperature === 0 ? argmax(logits, row, vocabSize) : draw(logits, row, temperature, probabilities, uniforms[b]);
        ids[b * blockSize + t] = next;
        if (next === 0) done[b] = 1;
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return Array.from({ length: count }, (_, b) => vocab.decode(ids.subarray(b * blockSize + 1, (b + 1) * blockSize)));
}

/** Each row's first `t` ids, `[count, t]`, from rows `blockSize` wide. */
function prefixes(ids: Int32Array, count: number, blockSize: number, t: number): NDArray {
  const out = new Int32Array(count * t);
  for (let b = 0; b < count; b++) out.set(ids.subarray(b * blockSize, b * blockSize + t), b * t);
  return array(out, { shape: [count, t] });
}

function argmax(values: ArrayLike<number>, from: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[from + i] > values[from + best]) best = i;
  return best;
}

/** Samples an index from softmax(values[from..from+n) / temperature) with the uniform `u` (inverse CDF, in float64). */
function draw(values: ArrayLike<number>, from: number, temperature: number, p: Float64Array, u: number): number {
  const n = p.length;
  let top = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) top = Math.max(top, values[from + i]);
  let total = 0;
  for (let i = 0; i < n; i++) {
    p[i] = Math.exp((values[from + i] - top) / temperature);
    total += p[i];
  }
  let cumulative = 0;
  for (let i = 0; i < n; i++) {
    cumulative += p[i] / total;
    if (u < cumulative) return i;
  }
  return n - 1;
}
