/**
 * Names drawn from a character model, as apps/charlm's `sampleNames` (its
 * `src/sample.ts`) draws them: all at once as one batch, a character at a
 * time from softmax(logits / temperature) (the argmax at temperature 0), each
 * name ending at the boundary token or when the block is full.
 */
import type { Vocabulary } from '@backprop/data/names';
import { type Generator, type NDArray, ValueError, array } from '@backprop/ndarray';
import type { TransformerModel } from './model';

export interface SampleOptions {
  count: number;
  /** Below 1 sharper, above 1 flatter; 0 takes the most likely character. */
  temperature: number;
  /** Draws one uniform per name per position, finished names included (not used at temperature 0). */
  rng: Generator;
  /** The start of every name (default none). */
  prefix?: string;
}

/** `count` names from `model` (run in eval mode, its mode restored after). */
export function sampleNames(model: TransformerModel, vocab: Vocabulary, options: SampleOptions): string[] {
  const { count, temperature, rng, prefix = '' } = options;
  if (!Number.isInteger(count) || count < 1) throw new ValueError(`sampleNames: count must be a positive integer, got ${count}`);
  if (!Number.isFinite(temperature) || temperature < 0) throw new ValueError(`sampleNames: temperature must be a finite number >= 0, got ${temperature}`);
  const { blockSize, vocabSize } = model.config;
  const start = vocab.encode(prefix);
  if (start.length + 1 >= blockSize) {
    throw new ValueError(`sampleNames: the prefix ${JSON.stringify(prefix)} leaves no room in a block of ${blockSize} (at most ${blockSize - 2} characters)`);
  }
  const ids = new Int32Array(count * blockSize); // column 0 is the boundary token, then the prefix
  for (let b = 0; b < count; b++) ids.set(start, b * blockSize + 1);
  const done = new Uint8Array(count);
  const uniforms = new Float64Array(count);
  const p = new Float64Array(vocabSize);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let t = start.length + 1; t < blockSize && done.includes(0); t++) {
      const logits = model.forward(prefixes(ids, count, blockSize, t)).data; // [count, t, V]
      if (temperature > 0) rng.uniform(uniforms, 0, 1);
      for (let b = 0; b < count; b++) {
        if (done[b]) continue;
        const row = (b * t + t - 1) * vocabSize;
        const next = temperature === 0 ? argmax(logits, row, vocabSize) : draw(logits, row, temperature, p, uniforms[b]);
        ids[b * blockSize + t] = next;
        if (next === 0) done[b] = 1;
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return Array.from({ length: count }, (_, b) => vocab.decode(ids.subarray(b * blockSize + 1, (b + 1) * blockSize)));
}

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

/** An index drawn from softmax(values[from..from+n) / temperature) with the uniform `u` (inverse CDF, in float64). */
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
