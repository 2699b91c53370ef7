import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Generator } from '../src/random/index';
import {
  NumpyRandomState,
  TorchGenerator,
  defaultGenerator,
  manualSeed,
  randperm,
} from '../src/random/index';

// Written by tools/torch-fixtures/rng.py with torch 1.13 and numpy 1.24.
interface Tensor {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int64' | 'int32';
  data: number[];
}
interface RandCase {
  seed: string;
  n: number;
  dtype: 'float32' | 'float64';
  low: number;
  high: number;
  values: Tensor;
}
interface RandnCase {
  seed: string;
  n: number;
  dtype: 'float32' | 'float64';
  mean: number;
  std: number;
  values: Tensor;
}
interface Fixture {
  torch: {
    rand: RandCase[];
    randn: RandnCase[];
    randperm: { seed: string; n: number; values: Tensor }[];
    sequences: {
      name: string;
      seed: string;
      calls: { op: 'rand' | 'randn'; dtype: 'float32' | 'float64'; values: Tensor }[];
    }[];
    default_generator: { initial_seed: string; rand: Tensor };
  };
  numpy: {
    cases: (
      | { seed: number; op: 'random_sample' | 'randn'; n: number; values: Tensor }
      | { seed: number; op: 'uniform'; n: number; low: number; high: number; values: Tensor }
      | { seed: number; op: 'normal'; n: number; mean: number; std: number; values: Tensor }
      | { seed: number; op: 'randint'; n: number; high: number; values: number[] }
    )[];
    array_seed: { seed: number[]; values: Tensor };
    notebook: Tensor[];
    gauss_calls: { seed: number; sizes: number[]; values: Tensor[] };
  };
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/random.json', import.meta.url), 'utf8'),
) as Fixture;

function alloc(dtype: 'float32' | 'float64', n: number): Float32Array | Float64Array {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** Bit-for-bit equality (Object.is per element), reporting the first difference. */
function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect(actual[i], `${what}: element ${i}`).toBe(expected[i]);
    }
  }
}

/** torch seeds are stored as decimal strings; pass small ones as numbers, as users would. */
function torchSeed(seed: string): number | bigint {
  const s = BigInt(seed);
  return s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
}

describe('TorchGenerator reproduces torch 1.13 (CPU)', () => {
  describe('rand / uniform_', () => {
    for (const c of fixture.torch.rand) {
      it(`seed ${c.seed}, ${c.dtype}[${c.n}].uniform_(${c.low}, ${c.high})`, () => {
        const g = new TorchGenerator(torchSeed(c.seed));
        const out = alloc(c.dtype, c.n);
        g.uniform(out, c.low, c.high);
        expectExact(out, c.values.data, 'uniform');
      });
    }
  });

  describe('randn / normal_', () => {
    for (const c of fixture.torch.randn) {
      it(`seed ${c.seed}, ${c.dtype}[${c.n}].normal_(${c.mean}, ${c.std})`, () => {
        const g = new TorchGenerator(torchSeed(c.seed));
        const out = alloc(c.dtype, c.n);
        g.normal(out, c.mean, c.std);
        expectExact(out, c.values.data, 'normal');
      });
    }
  });

  describe('randperm', () => {
    for (const c of fixture.torch.randperm) {
      it(`seed ${c.seed}, randperm(${c.n})`, () => {
        const perm = randperm(c.n, new TorchGenerator(torchSeed(c.seed)));
        expect(perm).toBeInstanceOf(Int32Array);
        expectExact(perm, c.values.data, 'randperm');
      });
    }
  });

  describe('call sequences from one seed', () => {
    for (const s of fixture.torch.sequences) {
      it(s.name, () => {
        const g = manualSeed(torchSeed(s.seed));
        expect(g).toBe(defaultGenerator);
        s.calls.forEach((call, k) => {
          const out = alloc(call.dtype, call.values.data.length);
          if (call.op === 'rand') g.uniform(out, 0, 1);
          else g.normal(out, 0, 1);
          expectExact(out, call.values.data, `call ${k} (${call.op})`);
        });
      });
    }
  });

  it('a fresh generator starts from c10::default_rng_seed_val', () => {
    const g = new TorchGenerator();
    const d = fixture.torch.default_generator;
    expect(BigInt(g.initialSeed())).toBe(BigInt(d.initial_seed));
    const out = new Float32Array(5);
    g.uniform(out, 0, 1);
    expectExact(out, d.rand.data, 'rand');
  });

  it('randint(n) is random() % n', () => {
    const a = new TorchGenerator(5);
    const b = new TorchGenerator(5);
    for (const n of [1, 2, 7, 1000, 2 ** 31, 2 ** 32]) {
      expect(a.randint(n)).toBe(b.random() % n);
    }
  });
});

describe('NumpyRandomState reproduces numpy 1.24 legacy seeding', () => {
  for (const c of fixture.numpy.cases) {
    const label =
      c.op === 'randint' ? `seed ${c.seed}, randint(0, ${c.high}, ${c.n})` : `seed ${c.seed}, ${c.op}(${c.n})`;
    it(label, () => {
      const rs = new NumpyRandomState(c.seed);
      switch (c.op) {
        case 'random_sample':
          expectExact(rs.randomSample(c.n), c.values.data, label);
          break;
        case 'randn':
          expectExact(rs.standardNormal(c.n), c.values.data, label);
          break;
        case 'uniform': {
          const out = new Float64Array(c.n);
          rs.uniform(out, c.low, c.high);
          expectExact(out, c.values.data, label);
          break;
        }
        case 'normal': {
          const out = new Float64Array(c.n);
          rs.normal(out, c.mean, c.std);
          expectExact(out, c.values.data, label);
          break;
        }
        case 'randint':
          expectExact(
            Array.from({ length: c.n }, () => rs.randint(c.high)),
            c.values,
            label,
          );
          break;
      }
    });
  }

  it('an array seed uses init_by_array', () => {
    const { seed, values } = fixture.numpy.array_seed;
    expectExact(new NumpyRandomState(seed).randomSample(5), values.data, 'random_sample');
  });

  it('the seed notebook: seed(0); random_sample(10); random_sample(5); random_sample((10, 5))', () => {
    const rs = new NumpyRandomState(0);
    const [a, b, c] = fixture.numpy.notebook;
    expectExact(rs.randomSample(10), a.data, 'first');
    expectExact(rs.randomSample(5), b.data, 'second');
    expect(c.shape).toEqual([10, 5]);
    expectExact(rs.randomSample(50), c.data, 'third');
  });

  it('keeps the spare Gaussian across calls', () => {
    const { seed, sizes, values } = fixture.numpy.gauss_calls;
    const rs = new NumpyRandomState(seed);
    sizes.forEach((n, k) => {
      expectExact(rs.standardNormal(n), values[k].data, `call ${k}`);
    });
  });

  it('writes float32 output as the float64 values rounded', () => {
    const a = new Float32Array(9);
    const b = new Float64Array(9);
    new NumpyRandomState(11).normal(a, 2, 3);
    new NumpyRandomState(11).normal(b, 2, 3);
    expectExact(a, Float32Array.from(b), 'normal');
  });
});

describe('seeding', () => {
  const draw = (g: Generator) => {
    const u = new Float64Array(20);
    const n = new Float32Array(40);
    g.uniform(u, -1, 3);
    g.normal(n, 0.5, 2);
    return [...u, ...n, g.randint(1000), g.randint(7)];
  };

  it('reseeding a TorchGenerator restarts its sequence, spare normal included', () => {
    const g = new TorchGenerator(123);
    g.normal(new Float64Array(1), 0, 1); // leaves a spare normal behind
    g.manualSeed(123);
    const first = draw(g);
    const second = draw(g.manualSeed(123));
    expect(second).toEqual(first);
    expect(draw(new TorchGenerator(123))).toEqual(first);
  });

  it('two TorchGenerators with one seed agree; other seeds differ', () => {
    expect(draw(new TorchGenerator(2 ** 40 + 3))).toEqual(draw(new TorchGenerator(2n ** 40n + 3n)));
    expect(draw(new TorchGenerator(1))).not.toEqual(draw(new TorchGenerator(2)));
  });

  it('torch keeps the full seed but seeds MT19937 with its low 32 bits', () => {
    const g = new TorchGenerator(2n ** 63n + 5n);
    expect(g.initialSeed()).toBe(2n ** 63n + 5n);
    expect(draw(g)).toEqual(draw(new TorchGenerator(5)));
  });

  it('manualSeed reseeds the default generator', () => {
    const g = manualSeed(99);
    expect(g).toBe(defaultGenerator);
    expect(g.initialSeed()).toBe(99);
    const first = draw(defaultGenerator);
    manualSeed(99);
    expect(draw(defaultGenerator)).toEqual(first);
  });

  it('reseeding a NumpyRandomState restarts its sequence, spare Gaussian included', () => {
    const rs = new NumpyRandomState(5);
    rs.standardNormal(1); // leaves a spare Gaussian behind
    rs.seed(5);
    const first = draw(rs);
    expect(draw(rs.seed(5))).toEqual(first);
    expect(draw(new NumpyRandomState(5))).toEqual(first);
  });

  const badSeeds: [unknown, string][] = [
    [-1, '-1'],
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [-3n, '-3'],
    ['7', "'7'"],
  ];
  for (const [seed, shown] of badSeeds) {
    it(`TorchGenerator rejects the seed ${shown}`, () => {
      expect(() => new TorchGenerator(seed as number)).toThrow(Error);
      expect(() => new TorchGenerator(seed as number)).toThrow(`got ${shown}`);
      expect(() => manualSeed(seed as number)).toThrow(`got ${shown}`);
    });
  }
  it('TorchGenerator rejects seeds of 2^64 and more', () => {
    expect(() => new TorchGenerator(2n ** 64n)).toThrow('got 18446744073709551616');
  });

  for (const [seed, shown] of [...badSeeds, [2 ** 32, '4294967296'] as [unknown, string]]) {
    it(`NumpyRandomState rejects the seed ${shown}`, () => {
      expect(() => new NumpyRandomState(seed as number)).toThrow(Error);
      expect(() => new NumpyRandomState(seed as number)).toThrow(`got ${shown}`);
    });
  }
  it('NumpyRandomState rejects an empty or bad seed array', () => {
    expect(() => new NumpyRandomState([])).toThrow('got an array of length 0');
    expect(() => new NumpyRandomState([1, -2])).toThrow('got -2 at index 1');
  });

  it('a bad seed leaves the generator as it was', () => {
    const g = new TorchGenerator(8);
    expect(() => g.manualSeed(Number.NaN)).toThrow('got NaN');
    expect(g.initialSeed()).toBe(8);
    expect(draw(g)).toEqual(draw(new TorchGenerator(8)));
  });
});

describe('argument checks', () => {
  it('rejects bad bounds, std and n', () => {
    const g = new TorchGenerator(0);
    const rs = new NumpyRandomState(0);
    expect(() => g.uniform(new Float32Array(2), 1, 0)).toThrow('low=1 > high=0');
    expect(() => g.uniform(new Float64Array(2), 0, Number.NaN)).toThrow('got NaN');
    expect(() => g.normal(new Float32Array(2), 0, -1)).toThrow('std=-1');
    expect(() => rs.normal(new Float64Array(2), 0, -1)).toThrow('std=-1');
    expect(() => g.randint(0)).toThrow('got 0');
    expect(() => rs.randint(2 ** 32 + 1)).toThrow('got 4294967297');
    expect(() => randperm(-1, g)).toThrow('got -1');
    expect(() => rs.randomSample(1.5)).toThrow('got 1.5');
  });

  it('randperm(0) and randperm(1) draw nothing', () => {
    const g = new TorchGenerator(3);
    expect(Array.from(randperm(0, g))).toEqual([]);
    expect(Array.from(randperm(1, g))).toEqual([0]);
    expect(g.random()).toBe(new TorchGenerator(3).random());
  });
});
