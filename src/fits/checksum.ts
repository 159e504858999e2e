/**
 * The FITS checksum convention (Seaman, Pence & Rots; FITS Standard 4.0, appendix J):
 * a 32-bit ones' complement sum over big-endian 32-bit words, DATASUM as its unsigned
 * decimal string and CHECKSUM as a 16-character ASCII encoding of the complement that
 * makes the whole HDU sum to -0 (0xFFFFFFFF).
 */

import { acquireKernel, addLanesJs, lanesToSum, newLanes, releaseKernel } from './swap-sum.ts';

/** Adds two 32-bit ones' complement sums (end-around carry). */
export function addOnesComplement(a: number, b: number): number {
  let s = a + b;
  while (s > 0xffffffff) s = (s % 0x100000000) + Math.floor(s / 0x100000000);
  return s;
}

/**
 * Ones' complement sum of `bytes` taken as big-endian 32-bit words (a length not a
 * multiple of 4 is padded with zeros, as the missing bytes of a FITS block are), added
 * to `initial`. Returns an unsigned 32-bit value. Large inputs run through the SIMD
 * kernel of swap-sum.ts (several GB/s).
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  const lanes = newLanes();
  if (bytes.byteLength >= KERNEL_MIN_BYTES) {
    const kernel = acquireKernel();
    try {
      kernel.addLanes(bytes, lanes, 0);
    } finally {
      releaseKernel(kernel);
    }
  } else {
    addLanesJs(bytes, lanes, 0);
  }
  return lanesToSum(lanes, initial);
}

/** Below this many bytes the plain-JS sum is as fast as copying into the kernel. */
const KERNEL_MIN_BYTES = 1 << 16;

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
