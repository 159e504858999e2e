/**
 * The FITS checksum convention (Seaman, Pence & Rots; FITS Standard 4.0, appendix J):
 * a 32-bit ones' complement sum over big-endian 32-bit words, DATASUM as its unsigned
 * decimal string and CHECKSUM as a 16-character ASCII encoding of the complement that
 * makes the whole HDU sum to -0 (0xFFFFFFFF).
 */

/** Adds two 32-bit ones' complement sums (end-around carry). */
export function addOnesComplement(a: number, b: number): number {
  let s = a + b;
  while (s > 0xffffffff) s = (s % 0x100000000) + Math.floor(s / 0x100000000);
  return s;
}

/**
 * Ones' complement sum of `bytes` taken as big-endian 32-bit words (a length not a
 * multiple of 4 is padded with zeros, as the missing bytes of a FITS block are), added
 * to `initial`. Returns an unsigned 32-bit value.
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  const n = bytes.byteLength;
  const words = n >>> 2;
  // Sum each byte lane separately; lanes are recombined into the high and low 16-bit
  // halves once at the end, so the loop stays on small integers without carries.
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let hi = 0;
  let lo = 0;
  const CHUNK = 1 << 22;
  if (bytes.byteOffset % 4 === 0) {
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
    for (let start = 0; start < words; start += CHUNK) {
      const end = Math.min(words, start + CHUNK);
      let s0 = 0;
      let s1 = 0;
      // Chunks of 2^22 words keep each lane sum below 2^31, so it stays a small integer.
      let s2 = 0;
      let s3 = 0;
      for (let i = start; i < end; i++) {
        const w = u32[i]!;
        s0 += w & 0xff;
        s1 += (w >>> 8) & 0xff;
        s2 += (w >>> 16) & 0xff;
        s3 += w >>> 24;
      }
      b0 += s0;
      b1 += s1;
      b2 += s2;
      b3 += s3;
    }
    // Host little-endian: memory byte 0 is the low byte of w. Big-endian words have
    // memory bytes 0,1 as the high half and 2,3 as the low half.
    if (isLittleEndian()) {
      hi = b0 * 256 + b1;
      lo = b2 * 256 + b3;
    } else {
      hi = b3 * 256 + b2;
      lo = b1 * 256 + b0;
    }
  } else {
    for (let i = 0; i < words * 4; i += 4) {
      hi += bytes[i]! * 256 + bytes[i + 1]!;
      lo += bytes[i + 2]! * 256 + bytes[i + 3]!;
    }
  }
  const rem = n - words * 4;
  if (rem > 0) {
    const t = [0, 0, 0, 0];
    for (let i = 0; i < rem; i++) t[i] = bytes[words * 4 + i]!;
    hi += t[0]! * 256 + t[1]!;
    lo += t[2]! * 256 + t[3]!;
  }
  // Fold the 16-bit carries back in (ones' complement end-around carry).
  let h = hi;
  let l = lo;
  while (h > 0xffff || l > 0xffff) {
    const hc = Math.floor(h / 0x10000);
    const lc = Math.floor(l / 0x10000);
    h = (h % 0x10000) + lc;
    l = (l % 0x10000) + hc;
  }
  return addOnesComplement(h * 0x10000 + l, initial);
}

let littleEndian: boolean | undefined;
function isLittleEndian(): boolean {
  if (littleEndian === undefined)
    littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  return littleEndian;
}

const EXCLUDED = new Set([
  0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60,
]);

/**
 * Encodes a 32-bit sum as the 16 ASCII characters of the CHECKSUM keyword; by default
 * encodes the complement (what CHECKSUM stores), as the convention's `char_encode`.
 */
export function encodeChecksum(sum: number, complement = true): string {
  const value = complement ? ~sum >>> 0 : sum >>> 0;
  const asc = new Array<number>(16).fill(0);
  for (let i = 0; i < 4; i++) {
    const byte = (value >>> (24 - 8 * i)) & 0xff;
    const quotient = Math.floor(byte / 4) + 0x30;
    const remainder = byte % 4;
    const ch = [quotient + remainder, quotient, quotient, quotient];
    let check = true;
    while (check) {
      check = false;
      for (let j = 0; j < 4; j += 2) {
        if (EXCLUDED.has(ch[j]!) || EXCLUDED.has(ch[j + 1]!)) {
          ch[j]!++;
          ch[j + 1]!--;
          check = true;
        }
      }
    }
    for (let j = 0; j < 4; j++) asc[4 * j + i] = ch[j]!;
  }
  // The encoded string is rotated right by one character.
  const rotated = [asc[15]!, ...asc.slice(0, 15)];
  return String.fromCharCode(...rotated);
}
