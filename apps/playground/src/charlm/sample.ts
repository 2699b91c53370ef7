/**
 * `sampleNames` of @backprop/data/names for a model on any backend: the same
 * draws, but each position's logits are read with `await toHost()` (a GPU
 * cannot be read synchronously) instead of `.data`. The next character is
 * picked on the host exactly as `sampleNames` picks it (the softmax of the
 * last position's logits / T in float64, inverse CDF; the argmax at T = 0),
 * so on the CPU the names are `sampleNames`' own, name for name.
 */
import type { NameModel, SampleOptions, Vocabulary } from '@backprop/data/names';
import { type Backend, NDArray, ValueError, getBackend, toBackend } from '@backprop/ndarray';
import { within } from '../run-on';

export async function sampleNamesAsync(model: NameModel, vocab: Vocabulary, options: SampleOptions, backend: Backend = getBackend()): Promise<string[]> {
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
  for (let t = start.length + 1; t < blockSize && done.includes(0); t++) {
    const input = prefixes(ids, count, blockSize, t);
    // Eval mode for this forward only: between two reads the worker may train the model.
    const output = within(backend, () => {
      const wasTraining = model.training;
      model.eval();
      try {
        return model.forward(toBackend(input));
      } finally {
        model.train(wasTraining);
      }
    });
    const logits = await output.toHost(); // [count, t, V]
    if (temperature > 0) rng.uniform(uniforms, 0, 1);
    for (let b = 0; b < count; b++) {
      if (done[b]) continue;
      const row = (b * t + t - 1) * vocabSize;
      const next = temperature === 0 ? argmax(logits, row, vocabSize) : draw(logits, row, temperature, probabilities, uniforms[b]);
      ids[b * blockSize + t] = next;
      if (next === 0) done[b] = 1;
    }
  }
  return Array.from({ length: count }, (_, b) => vocab.decode(ids.subarray(b * blockSize + 1, (b + 1) * blockSize)));
}

/** Each row's first `t` ids, `[count, t]`, from rows `blockSize` wide, on the host. */
function prefixes(ids: Int32Array, count: number, blockSize: number, t: number): NDArray {
  const out = new Int32Array(count * t);
  for (let b = 0; b < count; b++) out.set(ids.subarray(b * blockSize, b * blockSize + t), b * t);
  return new NDArray(out, [count, t]);
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
