import type { FloatArray } from '../dtype';
import { ValueError, describe } from '../errors';
import type { Generator } from './generator';
import { MT19937 } from './mt19937';
import { glibcLog } from './libm';

/**
 * numpy's legacy global generator (`numpy.random.RandomState`, numpy 1.24),
 * reproduced bit for bit: after `np.random.seed(seed)`, `random_sample`,
 * `uniform`, `randn` / `standard_normal`, `normal` and `randint(0, n)` give
 * exactly what the same calls on a `NumpyRandomState(seed)` give.
 *
 * The Gaussian uses glibc's `log`, as numpy does; `glibcLog` reproduces it on
 * x86-64 Linux with FMA (see torch.ts).
 */

const MAX_SEED = 0xffffffff;

function checkSeedWord(seed: unknown): seed is number {
  return typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;
}

function checkLength(op: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new ValueError(`${op}: n must be a non-negative integer, got ${describe(n)}`);
  }
  return n;
}

function checkOut(op: string, out: unknown): void {
  if (!(out instanceof Float32Array || out instanceof Float64Array)) {
    throw new ValueError(`${op}: out must be a Float32Array or Float64Array, got ${describe(out)}`);
  }
}

function checkFinite(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${op}: ${name} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/**
 * A seeded `numpy.random.RandomState`.
 *
 * ```ts
 * const rs = new NumpyRandomState(0);   // np.random.seed(0)
 * rs.randomSample(10);                  // np.random.random_sample(10)
 * ```
 */
export class NumpyRandomState implements Generator {
  private readonly engine = new MT19937();
  /** aug_bitgen_t.has_gauss / gauss: the spare value of the last polar pair. */
  private hasGauss = false;
  private gauss = 0;

  /** `np.random.RandomState(seed)`; see `seed` for what a seed may be. */
  constructor(seed: number | readonly number[]) {
    this.seed(seed);
  }

  /**
   * `np.random.seed(seed)` (`_legacy_seeding` of numpy/random/_mt19937.pyx): an
   * integer in [0, 2^32) fills the state with MT19937's `init_genrand`
   * (`mt19937_seed`); a non-empty array of such integers uses `init_by_array`.
   * Either way the cached Gaussian is dropped.
   */
  seed(seed: number | readonly number[]): this {
    if (Array.isArray(seed)) {
      if (seed.length === 0) {
        throw new ValueError('NumpyRandomState.seed: a seed array must not be empty, got an array of length 0');
      }
      const bad = seed.findIndex((word) => !checkSeedWord(word));
      if (bad >= 0) {
        throw new ValueError(
          `NumpyRandomState.seed: a seed array must hold integers in [0, 2^32), got ${describe(seed[bad])} at index ${bad}`,
        );
      }
      this.engine.initByArray(seed);
    } else if (checkSeedWord(seed)) {
      this.engine.initGenrand(seed);
    } else {
      throw new ValueError(
        `NumpyRandomState.seed: seed must be an integer in [0, 2^32) or an array of them, got ${describe(seed)}`,
      );
    }
    this.hasGauss = false;
    this.gauss = 0;
    return this;
  }

  /** `mt19937_next_double`: 27 + 26 random bits, `(a * 67108864 + b) / 9007199254740992`. */
  private nextDouble(): number {
    const a = this.engine.nextUint32() >>> 5;
    const b = this.engine.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `np.random.random_sample(n)` (also `np.random.rand(n)`): U[0, 1) doubles. */
  randomSample(n: number): Float64Array {
    const out = new Float64Array(checkLength('NumpyRandomState.randomSample', n));
    for (let i = 0; i < out.length; i++) out[i] = this.nextDouble();
    return out;
  }

  /**
   * `np.random.uniform(low, high, size)` into `out`: `random_uniform` of
   * distributions.c, `low + (high - low) * random_sample()`, in double; a
   * Float32Array receives each double rounded to float32.
   */
  uniform(out: FloatArray, low: number, high: number): void {
    const op = 'NumpyRandomState.uniform';
    checkOut(op, out);
    checkFinite(op, 'low', low);
    checkFinite(op, 'high', high);
    const range = high - low;
    if (!Number.isFinite(range)) {
      throw new ValueError(`${op}: high - low overflows for low=${low}, high=${high}`);
    }
    for (let i = 0; i < out.length; i++) out[i] = low + range * this.nextDouble();
  }

  /**
   * `legacy_gauss` (numpy/random/src/legacy/legacy-distributions.c): the polar
   * Box–Muller method; each accepted pair returns `f * x2` and keeps `f * x1`
   * for the next call.
   */
  private nextGauss(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const g = this.gauss;
      this.gauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.nextDouble() - 1;
      x2 = 2 * this.nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * glibcLog(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** `np.random.standard_normal(n)` (also `np.random.randn(n)`). */
  standardNormal(n: number): Float64Array {
    const out = new Float64Array(checkLength('NumpyRandomState.standardNormal', n));
    for (let i = 0; i < out.length; i++) out[i] = this.nextGauss();
    return out;
  }

  /**
   * `np.random.normal(mean, std, size)` into `out`: `legacy_normal`,
   * `loc + scale * gauss`, in double; a Float32Array receives it rounded.
   */
  normal(out: FloatArray, mean: number, std: number): void {
    const op = 'NumpyRandomState.normal';
    checkOut(op, out);
    checkFinite(op, 'mean', mean);
    checkFinite(op, 'std', std);
    if (std < 0) throw new ValueError(`${op}: expects std >= 0, got std=${std}`);
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.nextGauss();
  }

  /**
   * `np.random.randint(0, n)` for 1 <= n <= 2^32 (numpy's default masked
   * rejection, `random_bounded_uint64_fill` → `buffered_bounded_masked_uint32`):
   * with max = n - 1, draw 32 bits, AND them with the smallest all-ones mask
   * covering max, retry while the result exceeds max. n = 1 draws nothing and
   * n = 2^32 returns one raw draw, as numpy does.
   */
  randint(n: number): number {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 32) {
      throw new ValueError(`NumpyRandomState.randint: n must be an integer in [1, 2^32], got ${describe(n)}`);
    }
    const max = n - 1;
    if (max === 0) return 0;
    if (max === 0xffffffff) return this.engine.nextUint32();
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    let v: number;
    do {
      v = (this.engine.nextUint32() & mask) >>> 0;
    } while (v > max);
    return v;
  }
}
