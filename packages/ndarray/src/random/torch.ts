import type { FloatArray } from '../dtype';
import { ValueError, describe } from '../errors';
import type { Generator } from './generator';
import { TWO_PI, normalFill16Avx2, normalFill16Double } from './avx2';
import { fma, fmaf } from '../fma';
import { glibcCos, glibcLog, glibcSin } from './libm';
import { MT19937 } from './mt19937';

const fround = Math.fround;

/**
 * PyTorch's CPU generator (`at::CPUGeneratorImpl`, torch 1.13), reproduced bit
 * for bit: `torch.manual_seed(s); torch.rand(...)` / `torch.randn(...)` /
 * `torch.randperm(n)` give exactly what this generator gives.
 *
 * Two things make "bit for bit" harder than porting the formulas:
 *
 * - torch's CPU kernels are compiled once per CPU capability (DEFAULT, AVX2,
 *   AVX512) and x86-64 machines with AVX2 run the AVX2 or AVX512 build, which
 *   give identical samples. GCC builds those with `-mfma` and its default
 *   `-ffp-contract=fast`, so `x * (to - from) + from` and friends are
 *   single-rounding fused multiply-adds. JavaScript has no fma, so `fma` /
 *   `fmaf` below emulate it exactly.
 * - `randn` calls glibc's `log`, `sin` and `cos` (through `sincos`). glibc picks
 *   its FMA variants (`__ieee754_log_fma`, `__sin_fma`, `__cos_fma`) on such
 *   CPUs and they differ from V8's fdlibm-based `Math.log`/`Math.sin`/`Math.cos`
 *   in the last bit for several percent of inputs, so `glibcLog`, `glibcSin`
 *   and `glibcCos` port glibc 2.36's code operation by operation, with the
 *   contractions GCC chose (read off the disassembly of Debian's libm.so.6).
 *
 * What is reproduced is therefore torch 1.13 on x86-64 Linux with AVX2 + FMA
 * (checked against Debian's torch 1.13.1 and glibc 2.36), the common case.
 * torch's DEFAULT kernels (a CPU without AVX2, or ATEN_CPU_CAPABILITY=default)
 * round `uniform_(a, b)` without the fusion and compute float32 `randn` of 16
 * or more elements with libm's `logf`/`sinf`/`cosf`, so they differ; so would
 * a libm without its FMA code paths, or macOS / Windows libms.
 */

// ----------------------------------------------------------------------------
// Seeds
// ----------------------------------------------------------------------------

/** `c10::default_rng_seed_val`, the seed of a fresh `torch.Generator()`. */
const DEFAULT_SEED = 67280421310721;
const TWO_POW_64 = 1n << 64n;

/**
 * A seed as torch stores it (a uint64). torch itself also takes negative
 * Python ints and reinterprets their bits; we reject them, as a negative seed
 * is almost always a bug.
 */
function checkSeed(op: string, seed: unknown): bigint {
  if (typeof seed === 'bigint' && seed >= 0n && seed < TWO_POW_64) return seed;
  if (typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed < 2 ** 64) {
    return BigInt(seed);
  }
  throw new ValueError(
    `${op}: seed must be an integer in [0, 2^64) (a number or a bigint), got ${describe(seed)}`,
  );
}

function checkFinite(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${op}: ${name} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

function checkOut(op: string, out: unknown): void {
  if (!(out instanceof Float32Array || out instanceof Float64Array)) {
    throw new ValueError(`${op}: out must be a Float32Array or Float64Array, got ${describe(out)}`);
  }
}

function checkUpperBound(op: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 32) {
    throw new ValueError(`${op}: n must be an integer in [1, 2^32], got ${describe(n)}`);
  }
  return n;
}

const FLOAT32_MAX = 3.4028234663852886e38;

// ----------------------------------------------------------------------------
// The generator
// ----------------------------------------------------------------------------

/**
 * A seeded generator that draws exactly what torch 1.13's CPU generator draws.
 *
 * ```ts
 * const g = new TorchGenerator(42);   // torch.manual_seed(42)
 * const x = new Float32Array(5);
 * g.uniform(x, 0, 1);                 // torch.rand(5)
 * g.normal(x, 0, 1);                  // torch.randn(5)
 * ```
 */
export class TorchGenerator implements Generator {
  private readonly engine = new MT19937();
  private seedValue: number | bigint = DEFAULT_SEED;
  /** CPUGeneratorImpl::next_double_normal_sample_: the spare Box–Muller value of the scalar path. */
  private spareNormal = 0;
  private hasSpareNormal = false;

  /**
   * `seed` defaults to 67280421310721, `c10::default_rng_seed_val`, which is what
   * `torch.Generator()` starts from. (torch's global generator is seeded from
   * the OS at start-up instead, so call `manualSeed` to reproduce a script.)
   */
  constructor(seed: number | bigint = DEFAULT_SEED) {
    this.manualSeed(seed);
  }

  /**
   * `generator.manual_seed(seed)`: restarts the sequence. torch keeps the full
   * 64-bit seed for `initial_seed()` but seeds MT19937 with its low 32 bits
   * (`mt19937::init_with_uint32`), and drops the cached normal sample.
   */
  manualSeed(seed: number | bigint): this {
    const s = checkSeed('TorchGenerator.manualSeed', seed);
    this.engine.initGenrand(Number(s & 0xffffffffn));
    this.seedValue = seed;
    this.hasSpareNormal = false;
    this.spareNormal = 0;
    return this;
  }

  /** `generator.initial_seed()`: the last seed given, as it was given. */
  initialSeed(): number | bigint {
    return this.seedValue;
  }

  /** One 32-bit draw, `CPUGeneratorImpl::random()`: an integer in [0, 2^32). */
  random(): number {
    return this.engine.nextUint32();
  }

  /**
   * `uniform_real_distribution<double>(0, 1)`: the low 53 bits of `random64()`
   * (first draw in the high word, `detail::make64BitsFrom32Bits`) times 2^-53.
   */
  private double53(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return ((hi & 0x1fffff) * 4294967296 + lo) * 1.1102230246251565e-16;
  }

  /** `uniform_real_distribution<float>(0, 1)`: 24 bits of one draw times 2^-24. */
  private float24(): number {
    return (this.engine.nextUint32() & 0xffffff) * 5.9604644775390625e-8;
  }

  /**
   * `out.uniform_(low, high)` (`torch.rand` is low = 0, high = 1). As
   * `transformation::uniform_real` does: from and to cast to out's dtype,
   * `x * (to - from) + from` with x = 24 (float32) or 53 (float64) random bits
   * scaled into [0, 1), computed in that dtype as one fused multiply-add.
   */
  uniform(out: FloatArray, low: number, high: number): void {
    const op = 'TorchGenerator.uniform';
    checkOut(op, out);
    checkFinite(op, 'low', low);
    checkFinite(op, 'high', high);
    if (!(low <= high)) {
      throw new ValueError(`${op}: expects low <= high, got low=${low} > high=${high}`);
    }
    const n = out.length;
    if (out instanceof Float32Array) {
      if (Math.abs(low) > FLOAT32_MAX || Math.abs(high) > FLOAT32_MAX || high - low > FLOAT32_MAX) {
        throw new ValueError(
          `${op}: low=${low} and high=${high} (and their difference) must be within float32 range`,
        );
      }
      const from = fround(low);
      const range = fround(fround(high) - from);
      if (from === 0 && range === 1) {
        for (let i = 0; i < n; i++) out[i] = this.float24();
      } else {
        for (let i = 0; i < n; i++) out[i] = fmaf(this.float24(), range, from);
      }
    } else {
      const range = high - low;
      if (!Number.isFinite(range)) {
        throw new ValueError(`${op}: high - low overflows for low=${low}, high=${high}`);
      }
      if (low === 0 && range === 1) {
        for (let i = 0; i < n; i++) out[i] = this.double53();
      } else {
        for (let i = 0; i < n; i++) out[i] = fma(this.double53(), range, low);
      }
    }
  }

  /**
   * `out.normal_(mean, std)` (`torch.randn` is mean = 0, std = 1), following
   * `normal_kernel` of native/cpu/DistributionTemplates.h. Arrays of 16 or more
   * elements take the vectorised path: fill with uniforms, Box–Muller on blocks
   * of 16 (u1 = first 8, u2 = next 8), and if the length is not a multiple of
   * 16 redraw 16 uniforms for the last 16 elements and transform them again.
   * Float32 uses the AVX2 kernel with avx_mathfun's polynomial log/sin/cos;
   * float64 uses glibc's. Shorter arrays draw one `normal_distribution<double>`
   * sample per element, which caches the sine half of each pair in the
   * generator for the next call.
   */
  normal(out: FloatArray, mean: number, std: number): void {
    const op = 'TorchGenerator.normal';
    checkOut(op, out);
    checkFinite(op, 'mean', mean);
    checkFinite(op, 'std', std);
    if (std < 0) throw new ValueError(`${op}: expects std >= 0, got std=${std}`);
    const n = out.length;
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.scalarNormal(mean, std);
    } else if (out instanceof Float32Array) {
      const m = fround(mean);
      const s = fround(std);
      for (let i = 0; i < n; i++) out[i] = this.float24();
      for (let i = 0; i + 16 <= n; i += 16) normalFill16Avx2(out, i, m, s);
      if (n % 16 !== 0) {
        for (let i = n - 16; i < n; i++) out[i] = this.float24();
        normalFill16Avx2(out, n - 16, m, s);
      }
    } else {
      for (let i = 0; i < n; i++) out[i] = this.double53();
      for (let i = 0; i + 16 <= n; i += 16) normalFill16Double(out, i, mean, std);
      if (n % 16 !== 0) {
        for (let i = n - 16; i < n; i++) out[i] = this.double53();
        normalFill16Double(out, n - 16, mean, std);
      }
    }
  }

  /** `at::normal_distribution<double>` (DistributionsHelper.h): Box–Muller with a cached spare. */
  private scalarNormal(mean: number, std: number): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return fma(this.spareNormal, std, mean);
    }
    const u1 = this.double53();
    const u2 = this.double53();
    const r = Math.sqrt(-2 * glibcLog(1 - u2));
    const theta = TWO_PI * u1;
    this.spareNormal = r * glibcSin(theta);
    this.hasSpareNormal = true;
    return fma(r * glibcCos(theta), std, mean);
  }

  /** A uniform integer in [0, n), n <= 2^32, as `randperm` draws it: `random() % n`. */
  randint(n: number): number {
    checkUpperBound('TorchGenerator.randint', n);
    return this.engine.nextUint32() % n;
  }
}

/**
 * `torch.randperm(n, generator=g)` on the CPU (`randperm_cpu` in
 * native/TensorFactories.cpp): start from 0..n-1 and for i = 0..n-2 swap
 * element i with element i + (random() % (n - i)). With a `TorchGenerator`
 * this is torch's permutation exactly; any other `Generator` gives a uniform
 * permutation through its own `randint`.
 */
export function randperm(n: number, generator: Generator = defaultGenerator): Int32Array {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new ValueError(`randperm: n must be an integer in [0, 2^31), got ${describe(n)}`);
  }
  if (generator === null || typeof generator !== 'object' || typeof (generator as Generator).randint !== 'function') {
    const hint = generator !== null && typeof generator === 'object' && 'rng' in generator ? ' (pass the generator itself: randperm(n, rng))' : '';
    throw new ValueError(`randperm: generator must be a Generator (a TorchGenerator or NumpyRandomState), got ${describe(generator)}${hint}`);
  }
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  for (let i = 0; i < n - 1; i++) {
    const z = i + generator.randint(n - i);
    const t = r[i];
    r[i] = r[z];
    r[z] = t;
  }
  return r;
}

/** The generator that functions use when none is passed (torch's default CPU generator). */
export const defaultGenerator = new TorchGenerator();

/** `torch.manual_seed(seed)`: reseeds the default generator and returns it. */
export function manualSeed(seed: number | bigint): TorchGenerator {
  return defaultGenerator.manualSeed(seed);
}
