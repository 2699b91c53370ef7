import { TorchGenerator, ValueError, manualSeed } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Subset, randomSplit } from '../src/index';
import { readFixture, toy } from './helpers';

describe('randomSplit', () => {
  it('gives the subsets torch.utils.data.random_split gives, index for index (counts, fractions, default generator)', () => {
    const fixture = readFixture();
    expect(fixture.randomSplit.length).toBeGreaterThan(5);
    for (const { n, lengths, seed, defaultGenerator, subsets } of fixture.randomSplit) {
      const label = `n=${n} lengths=[${lengths}] seed=${seed}${defaultGenerator ? ' (default generator)' : ''}`;
      let parts: Subset<Int32Array>[];
      if (defaultGenerator) {
        manualSeed(seed);
        parts = randomSplit(toy(n), lengths);
      } else {
        parts = randomSplit(toy(n), lengths, { rng: new TorchGenerator(seed) });
      }
      expect(parts.map((p) => Array.from(p.indices)), label).toEqual(subsets);
      expect(parts.every((p) => p instanceof Subset)).toBe(true);
    }
  });

  it('cuts one permutation in order, so the subsets cover the dataset once and read its samples', () => {
    const data = toy(20);
    const [a, b, c] = randomSplit(data, [5, 10, 5], { rng: new TorchGenerator(3) });
    const all = [...a.indices, ...b.indices, ...c.indices];
    expect(all.slice().sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(b.get(0).y).toBe(b.indices[0] % 10);
    expect(b.dataset).toBe(data);
    // The same seed, the same split; the generator moves on, so the next split differs.
    const rng = new TorchGenerator(3);
    const first = randomSplit(data, [5, 10, 5], { rng });
    expect(Array.from(first[1].indices)).toEqual(Array.from(b.indices));
    expect(Array.from(randomSplit(data, [5, 10, 5], { rng })[1].indices)).not.toEqual(Array.from(b.indices));
  });

  it('rejects lengths that do not add up, negative or non-finite lengths, and bad options', () => {
    const data = toy(10);
    const rng = new TorchGenerator(0);
    const cases: [unknown, unknown, string | RegExp][] = [
      [[3, 5], { rng }, 'randomSplit: the lengths [3, 5] sum to 8, but the dataset has 10 samples; expected counts summing to 10 or fractions summing to 1'],
      [[0.5, 0.6], { rng }, /lengths\[0\] is 0\.5; expected whole counts \(summing to 10\) or fractions summing to 1, got lengths that sum to 1\.1/],
      [[-2, 12], { rng }, 'randomSplit: lengths[0] must be a non-negative finite number, got -2'],
      [[Number.NaN, 10], { rng }, 'randomSplit: lengths[0] must be a non-negative finite number, got NaN'],
      [[5, '5'], { rng }, "randomSplit: lengths[1] must be a non-negative finite number, got '5'"],
      [[], { rng }, 'randomSplit: lengths must be a non-empty array of counts or fractions, got an array of length 0'],
      [10, { rng }, 'randomSplit: lengths must be a non-empty array of counts or fractions, got 10'],
      [[5, 5], { generator: rng }, "randomSplit: unknown option 'generator'; expected one of 'rng'"],
      [[5, 5], { rng: 0 }, 'randomSplit: rng must be a seeded generator such as new TorchGenerator(seed), got 0'],
    ];
    for (const [lengths, options, message] of cases) {
      let error: unknown;
      try {
        randomSplit(data, lengths as number[], options as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(lengths)).toBeInstanceOf(ValueError);
      if (typeof message === 'string') expect((error as Error).message).toBe(message);
      else expect((error as Error).message).toMatch(message);
    }
    expect(() => randomSplit([1, 2, 3] as never, [1, 2])).toThrow(/randomSplit: dataset must be a Dataset/);
  });
});
