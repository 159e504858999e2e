/**
 * Seeded, portable pseudo-random numbers for the simulator: xoshiro128** (Blackman &
 * Vigna) on 32-bit integer arithmetic, seeded through a murmur3-style mixer so that
 * independent streams can be derived from (seed, purpose, visit, detector, ...). Results
 * depend only on the seed and the stream key, never on threads or timing.
 */

const TWO_POW_32 = 4294967296;

/** murmur3's 32-bit finalizer: a bijective avalanche mix of one word. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash of a sequence of non-negative integers (< 2^53) into 32 bits. */
export function hashKey(key: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const k of key) {
    const lo = k >>> 0;
    const hi = Math.floor(k / TWO_POW_32) >>> 0;
    h = fmix32(h ^ lo) + 0x7f4a7c15;
    h = fmix32(h ^ hi);
  }
  return h >>> 0;
}

/** Stream purposes, so that e.g. the noise of a CCD never shares numbers with its cosmic rays. */
export const STREAM = {
  catalog: 1,
  visit: 2,
  noise: 3,
  cosmicRays: 4,
  badColumns: 5,
  streak: 6,
} as const;

/** xoshiro128** generator with helpers for the distributions the simulator needs. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = Number.NaN;

  /** A generator for the stream `key` (e.g. `[seed, STREAM.noise, visit, detector]`). */
  constructor(key: readonly number[]) {
    const h = hashKey(key);
    this.s0 = fmix32(h ^ 0x243f6a88);
    this.s1 = fmix32(h ^ 0x85a308d3);
    this.s2 = fmix32(h ^ 0x13198a2e);
    this.s3 = fmix32(h ^ 0x03707344);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    for (let i = 0; i < 8; i++) this.nextUint32();
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in the open interval (0, 1) (32-bit resolution). */
  uniform(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  /** Uniform in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.uniform();
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Marsaglia polar method; one spare kept). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /**
   * Poisson deviate of mean `lambda` (>= 0): inversion by multiplication below 10, and
   * Hormann's PTRS transformed rejection (1993) above. Exact (no normal approximation).
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda < 10) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.uniform();
      while (p > limit) {
        k++;
        p *= this.uniform();
      }
      return k;
    }
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
        -lambda + k * loglam - logFactorial(k)
      ) {
        return k;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const LOG_FACTORIAL_TABLE = (() => {
  const t = new Float64Array(32);
  for (let k = 1; k < 32; k++) t[k] = t[k - 1]! + Math.log(k);
  return t;
})();

/** ln(k!) for integer k >= 0: a table below 32, Stirling's series above (error < 1e-12). */
export function logFactorial(k: number): number {
  if (k < 32) return LOG_FACTORIAL_TABLE[k]!;
  const n = k + 1;
  const inv = 1 / n;
  const inv2 = inv * inv;
  return (
    (n - 0.5) * Math.log(n) -
    n +
    0.5 * Math.log(2 * Math.PI) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
  );
}
