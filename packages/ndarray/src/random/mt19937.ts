/**
 * MT19937, the 32-bit Mersenne Twister of Matsumoto and Nishimura (mt19937ar.c,
 * 2002). Both PyTorch's CPU generator (`aten/src/ATen/core/MT19937RNGEngine.h`)
 * and numpy's legacy `RandomState` (`numpy/random/src/mt19937/mt19937.c`) are
 * this engine; they differ only in how a seed becomes the 624-word state and in
 * how they turn 32-bit outputs into floats, which `torch.ts` and `numpy.ts` do.
 *
 * The state is a `Uint32Array`, every product is `Math.imul` and every result is
 * brought back to an unsigned 32-bit integer with `>>> 0`, so a draw allocates
 * nothing and never leaves the small-integer fast path.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class MT19937 {
  private readonly state = new Uint32Array(N);
  /** Index of the next word of `state` to temper; N means "regenerate first". */
  private index = N;

  constructor(seed = 5489) {
    this.initGenrand(seed);
  }

  /**
   * `init_genrand` of mt19937ar.c: the seed (taken modulo 2^32) fills the state
   * through the recurrence s[i] = 1812433253 * (s[i-1] ^ (s[i-1] >>> 30)) + i.
   * torch's `mt19937::init_with_uint32` and numpy's `mt19937_seed` are this.
   */
  initGenrand(seed: number): void {
    const s = this.state;
    s[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = s[i - 1];
      s[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.index = N;
  }

  /**
   * `init_by_array` of mt19937ar.c (numpy's `mt19937_init_by_array`): seeds
   * from a list of 32-bit words, so that seeds wider than 32 bits are possible.
   */
  initByArray(key: ArrayLike<number>): void {
    this.initGenrand(19650218);
    const s = this.state;
    const length = key.length;
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, length); k > 0; k--) {
      const prev = s[i - 1];
      s[i] = ((s[i] ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + (key[j] >>> 0) + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        s[0] = s[N - 1];
        i = 1;
      }
      if (j >= length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = s[i - 1];
      s[i] = ((s[i] ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        s[0] = s[N - 1];
        i = 1;
      }
    }
    s[0] = 0x80000000; // MSB is 1, assuring a non-zero initial array
    this.index = N;
  }

  /** The next 32-bit output, an integer in [0, 2^32) (`genrand_int32`). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Regenerates all N words at once, as genrand_int32 does when mti >= N. */
  private twist(): void {
    const s = this.state;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (s[kk] & UPPER_MASK) | (s[kk + 1] & LOWER_MASK);
      s[kk] = s[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      const y = (s[kk] & UPPER_MASK) | (s[kk + 1] & LOWER_MASK);
      s[kk] = s[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (s[N - 1] & UPPER_MASK) | (s[0] & LOWER_MASK);
    s[N - 1] = s[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.index = 0;
  }
}
