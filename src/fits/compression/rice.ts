/**
 * Rice coding as used by the FITS tiled-image convention (RICE_1; White, Greenfield,
 * Pence & Tody), compatible with CFITSIO's `fits_rcomp` / `fits_rdecomp`: first pixel
 * stored raw, then blocks of differences, each with a 3/4/5-bit split-level code.
 */

/** Parameters per BYTEPIX: bits of the fs code, its maximum, and bits per raw value. */
function params(bytepix: 1 | 2 | 4): { fsbits: number; fsmax: number; bbits: number } {
  if (bytepix === 1) return { fsbits: 3, fsmax: 6, bbits: 8 };
  if (bytepix === 2) return { fsbits: 4, fsmax: 14, bbits: 16 };
  return { fsbits: 5, fsmax: 25, bbits: 32 };
}

/** Number of significant bits of each byte value (index of the highest set bit + 1). */
const NONZERO_COUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = 32 - Math.clz32(i);
  return t;
})();

/** Thrown by the decoder for corrupt input; the caller wraps it into a FitsError. */
export class RiceError extends Error {}

/**
 * Decodes `n` pixels from a Rice stream into `out` (values as stored: unsigned bytes for
 * BYTEPIX 1, signed 16- and 32-bit integers otherwise).
 */
export function riceDecode(
  input: Uint8Array,
  out: Int32Array,
  n: number,
  blocksize: number,
  bytepix: 1 | 2 | 4,
): void {
  const { fsbits, fsmax, bbits } = params(bytepix);
  const len = input.length;
  if (len < bytepix + 1 && n > 0) throw new RiceError('compressed tile is too short');
  let c = 0;
  let lastpix = 0;
  for (let k = 0; k < bytepix; k++) lastpix = (lastpix << 8) | input[c++]!;
  lastpix = normalize(lastpix, bytepix);
  let b = input[c++]!;
  let nbits = 8;
  let i = 0;
  while (i < n) {
    nbits -= fsbits;
    while (nbits < 0) {
      if (c >= len) throw new RiceError('hit the end of the compressed data');
      b = ((b << 8) | input[c++]!) >>> 0;
      nbits += 8;
    }
    const fs = (b >>> nbits) - 1;
    b &= (1 << nbits) - 1;
    const imax = Math.min(i + blocksize, n);
    if (fs < 0) {
      for (; i < imax; i++) out[i] = lastpix;
    } else if (fs === fsmax) {
      for (; i < imax; i++) {
        let k = bbits - nbits;
        let diff = k >= 32 ? 0 : (b << k) >>> 0;
        for (k -= 8; k >= 0; k -= 8) {
          b = input[c++]!;
          diff = (diff | (b << k)) >>> 0;
        }
        if (nbits > 0) {
          b = input[c++]!;
          diff = (diff | (b >>> -k)) >>> 0;
          b &= (1 << nbits) - 1;
        } else {
          b = 0;
        }
        if (c > len) throw new RiceError('hit the end of the compressed data');
        const v = (diff & 1) === 0 ? diff >>> 1 : ~(diff >>> 1);
        lastpix = normalize(v + lastpix, bytepix);
        out[i] = lastpix;
      }
    } else {
      for (; i < imax; i++) {
        while (b === 0) {
          if (c >= len) throw new RiceError('hit the end of the compressed data');
          nbits += 8;
          b = input[c++]!;
        }
        const nzero = nbits - NONZERO_COUNT[b]!;
        nbits -= nzero + 1;
        b ^= 1 << nbits;
        nbits -= fs;
        while (nbits < 0) {
          if (c >= len) throw new RiceError('hit the end of the compressed data');
          b = ((b << 8) | input[c++]!) >>> 0;
          nbits += 8;
        }
        const diff = ((nzero << fs) | (b >>> nbits)) >>> 0;
        b &= (1 << nbits) - 1;
        const v = (diff & 1) === 0 ? diff >>> 1 : ~(diff >>> 1);
        lastpix = normalize(v + lastpix, bytepix);
        out[i] = lastpix;
      }
    }
    if (c > len) throw new RiceError('hit the end of the compressed data');
  }
}

/** Wraps a value to the stored integer width (unsigned 8, signed 16, signed 32 bits). */
function normalize(v: number, bytepix: 1 | 2 | 4): number {
  if (bytepix === 1) return v & 0xff;
  if (bytepix === 2) return (v << 16) >> 16;
  return v | 0;
}

/** A growable big-endian bit writer. */
class BitWriter {
  buf: Uint8Array;
  pos = 0;
  private acc = 0;
  private nacc = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 16));
  }

  /** Writes the low `n` bits of `value` (n <= 32), most significant first. */
  write(value: number, n: number): void {
    if (n > 16) {
      this.write(value >>> 16, n - 16);
      this.write(value & 0xffff, 16);
      return;
    }
    if (this.pos + 4 > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.acc = (this.acc << n) | (value & ((1 << n) - 1));
    this.nacc += n;
    while (this.nacc >= 8) {
      this.nacc -= 8;
      this.buf[this.pos++] = (this.acc >>> this.nacc) & 0xff;
    }
    this.acc &= (1 << this.nacc) - 1;
  }

  /** Writes `count` zero bits. */
  zeros(count: number): void {
    let left = count;
    while (left > 16) {
      this.write(0, 16);
      left -= 16;
    }
    if (left > 0) this.write(0, left);
  }

  finish(): Uint8Array {
    if (this.nacc > 0) {
      this.buf[this.pos++] = (this.acc << (8 - this.nacc)) & 0xff;
      this.nacc = 0;
    }
    return this.buf.slice(0, this.pos);
  }
}

/**
 * Rice-encodes `values` (integers as stored: 0..255 for BYTEPIX 1, signed otherwise),
 * choosing the split level per block as CFITSIO does.
 */
export function riceEncode(
  values: ArrayLike<number>,
  blocksize: number,
  bytepix: 1 | 2 | 4,
): Uint8Array {
  const n = values.length;
  const { fsbits, fsmax, bbits } = params(bytepix);
  const w = new BitWriter(n * bytepix + 64);
  if (n === 0) return w.finish();
  let lastpix = normalize(values[0]!, bytepix);
  w.write(lastpix >>> 0, bbits);
  const diff = new Uint32Array(blocksize);
  const mask = bbits === 32 ? 0xffffffff : (1 << bbits) - 1;
  for (let i = 0; i < n; i += blocksize) {
    const thisblock = Math.min(blocksize, n - i);
    let pixelsum = 0;
    for (let j = 0; j < thisblock; j++) {
      const next = normalize(values[i + j]!, bytepix);
      // Differences wrap at the stored width, as the C code's fixed-width arithmetic.
      const pdiff = normalize(next - lastpix, bytepix === 1 ? 1 : bytepix);
      const signed = bytepix === 1 ? (pdiff << 24) >> 24 : pdiff;
      const d = (signed < 0 ? ~(signed << 1) : signed << 1) & mask;
      diff[j] = d >>> 0;
      pixelsum += diff[j]!;
      lastpix = next;
    }
    let dpsum = (pixelsum - Math.floor(thisblock / 2) - 1) / thisblock;
    if (dpsum < 0) dpsum = 0;
    let psum = Math.floor(dpsum) >>> 1;
    let fs = 0;
    while (psum > 0) {
      fs++;
      psum = Math.floor(psum / 2);
    }
    if (fs >= fsmax) {
      w.write(fsmax + 1, fsbits);
      for (let j = 0; j < thisblock; j++) w.write(diff[j]!, bbits);
    } else if (fs === 0 && pixelsum === 0) {
      w.write(0, fsbits);
    } else {
      w.write(fs + 1, fsbits);
      const fsmask = fs === 0 ? 0 : (1 << fs) - 1;
      for (let j = 0; j < thisblock; j++) {
        const v = diff[j]!;
        const top = Math.floor(v / 2 ** fs);
        w.zeros(top);
        w.write(1, 1);
        if (fs > 0) w.write(v & fsmask, fs);
      }
    }
  }
  return w.finish();
}
