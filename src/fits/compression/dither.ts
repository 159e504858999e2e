/**
 * Quantization of floating-point tiles: the FITS standard random sequence (Park & Miller
 * "minimal standard" generator, 10000 values, as CFITSIO's `fits_init_randoms`) and the
 * inverse of NO_DITHER / SUBTRACTIVE_DITHER_1 / SUBTRACTIVE_DITHER_2 quantization.
 */

/** Number of values in the standard random sequence. */
export const N_RANDOM = 10000;

/** The stored integer SUBTRACTIVE_DITHER_2 uses for pixels that were exactly 0.0. */
export const ZERO_VALUE = -2147483646;

let sequence: Float32Array | undefined;

/** The 10000 uniform deviates in (0, 1), as 32-bit floats (bit-exact with CFITSIO). */
export function randomSequence(): Float32Array {
  if (sequence) return sequence;
  const out = new Float32Array(N_RANDOM);
  const a = 16807;
  const m = 2147483647;
  let seed = 1;
  for (let i = 0; i < N_RANDOM; i++) {
    const temp = a * seed;
    seed = temp - m * Math.trunc(temp / m);
    out[i] = seed / m;
  }
  // The convention's self-check: the 10000th seed is 1043618065.
  if (seed !== 1043618065) throw new Error('random sequence self-check failed');
  sequence = out;
  return out;
}

/** Quantization method (ZQUANTIZ). */
export type DitherMethod = 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2';

/**
 * Restores floats from quantized integers of one tile:
 * `(i - r + 0.5) * scale + zero` with the dither `r` (NO_DITHER: `i * scale + zero`),
 * computed in double precision and rounded to `out`'s type as CFITSIO does.
 * `tileIndex` is the 0-based tile (table row) number; `ditherSeed` is ZDITHER0.
 * Pixels equal to `blank` become NaN.
 */
export function unquantize(
  ints: Int32Array,
  n: number,
  out: Float32Array | Float64Array,
  scale: number,
  zero: number,
  method: DitherMethod,
  tileIndex: number,
  ditherSeed: number,
  blank: number | undefined,
): void {
  const hasBlank = blank !== undefined;
  if (method === 'NO_DITHER') {
    for (let i = 0; i < n; i++) {
      const v = ints[i]!;
      out[i] = hasBlank && v === blank ? Number.NaN : v * scale + zero;
    }
    return;
  }
  const rand = randomSequence();
  let iseed = (((tileIndex + ditherSeed - 1) % N_RANDOM) + N_RANDOM) % N_RANDOM;
  // C multiplies float by int in single precision before truncating.
  let next = Math.trunc(Math.fround(rand[iseed]! * 500));
  const two = method === 'SUBTRACTIVE_DITHER_2';
  for (let i = 0; i < n; i++) {
    const v = ints[i]!;
    if (hasBlank && v === blank) out[i] = Number.NaN;
    else if (two && v === ZERO_VALUE) out[i] = 0;
    else out[i] = (v - rand[next]! + 0.5) * scale + zero;
    next++;
    if (next === N_RANDOM) {
      iseed++;
      if (iseed === N_RANDOM) iseed = 0;
      next = Math.trunc(Math.fround(rand[iseed]! * 500));
    }
  }
}
