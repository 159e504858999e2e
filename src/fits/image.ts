/**
 * Image pixel coding: big-endian FITS data <-> native typed arrays, BSCALE/BZERO
 * (including the unsigned-integer and signed-byte conventions) and BLANK.
 *
 * Byte order is converted over whole arrays with `Buffer#swap16/32/64` (native code);
 * sign-bit flips for the unsigned conventions run over 32-bit words. No per-pixel
 * DataView calls and no per-pixel allocation.
 */

import { endianness } from 'node:os';
import { FitsError } from './errors.ts';

/** A FITS BITPIX value: bits per pixel, negative for IEEE floats. */
export type Bitpix = 8 | 16 | 32 | 64 | -32 | -64;

/** Pixel arrays as returned by the reader and accepted by the writer (native byte order). */
export type ImageArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** The zero offset of the unsigned 64-bit convention, 2^63. */
export const BZERO_U64 = 9223372036854775808n;

const LITTLE_ENDIAN = endianness() === 'LE';

/** True when `bitpix` is a valid BITPIX. */
export function isBitpix(bitpix: unknown): bitpix is Bitpix {
  return (
    bitpix === 8 ||
    bitpix === 16 ||
    bitpix === 32 ||
    bitpix === 64 ||
    bitpix === -32 ||
    bitpix === -64
  );
}

/** Bytes per pixel of a BITPIX. */
export function bytesPerPixel(bitpix: Bitpix): number {
  return Math.abs(bitpix) / 8;
}

/**
 * Converts big-endian bytes to native order in place (`bytes.byteOffset` must be a
 * multiple of `size`) — a no-op on big-endian hosts.
 */
export function swapInPlace(bytes: Uint8Array, size: number): void {
  if (!LITTLE_ENDIAN || size === 1) return;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 2) buf.swap16();
  else if (size === 4) buf.swap32();
  else if (size === 8) buf.swap64();
}

/**
 * Returns big-endian `bytes` converted to native order in aligned memory: swapped in
 * place when `mayMutate` is set and the view is aligned, otherwise in a fresh copy (on a
 * SharedArrayBuffer when `shared`). The copy is made and swapped a cache-sized piece at a
 * time, so the bytes cross main memory once.
 */
export function toNativeBytes(
  bytes: Uint8Array,
  size: number,
  mayMutate: boolean,
  shared = false,
): Uint8Array {
  if (mayMutate && bytes.byteOffset % size === 0) {
    swapInPlace(bytes, size);
    return bytes;
  }
  const n = bytes.byteLength;
  const out = new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  for (let start = 0; start < n; start += COPY_PIECE) {
    const end = Math.min(n, start + COPY_PIECE);
    out.set(bytes.subarray(start, end), start);
    swapInPlace(out.subarray(start, end), size);
  }
  return out;
}

/** Bytes copied (then swapped while still in cache) per step; a multiple of 8. */
const COPY_PIECE = 1 << 18;

/** Flips the top bit of every `size`-byte native-order element (signed <-> offset unsigned). */
function flipSignBits(bytes: Uint8Array, size: number): void {
  const n = bytes.byteLength;
  const words = n >>> 2;
  if (bytes.byteOffset % 4 === 0 && words > 0) {
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
    if (size === 1) for (let i = 0; i < words; i++) u32[i]! ^= 0x80808080;
    else if (size === 2) for (let i = 0; i < words; i++) u32[i]! ^= 0x80008000;
    else if (size === 4) for (let i = 0; i < words; i++) u32[i]! ^= 0x80000000;
    else {
      // 64-bit: the high word is the second on little-endian hosts.
      const hi = LITTLE_ENDIAN ? 1 : 0;
      for (let i = hi; i < words; i += 2) u32[i]! ^= 0x80000000;
    }
    // Tail bytes (only possible for 1- and 2-byte elements).
    for (let i = words * 4; i < n; i += size) {
      const top = LITTLE_ENDIAN ? i + size - 1 : i;
      bytes[top]! ^= 0x80;
    }
    return;
  }
  for (let i = 0; i < n; i += size) {
    const top = LITTLE_ENDIAN ? i + size - 1 : i;
    bytes[top]! ^= 0x80;
  }
}

/** Views native-order bytes as the typed array of a BITPIX (no copy). */
export function viewAs(bytes: Uint8Array, bitpix: Bitpix): ImageArray {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (bitpix) {
    case 8:
      return new Uint8Array(buffer, byteOffset, byteLength);
    case 16:
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 32:
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 64:
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case -32:
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case -64:
      return new Float64Array(buffer, byteOffset, byteLength / 8);
  }
}

/** Scaling read from BSCALE/BZERO/BLANK (or their tile-compression equivalents). */
export interface PixelScaling {
  /** BSCALE (1 when absent). */
  readonly bscale: number;
  /** BZERO (0 when absent); a bigint when the header holds an integer beyond 2^53. */
  readonly bzero: number | bigint;
  /** BLANK (raw stored value of undefined integer pixels), if any. */
  readonly blank?: number | bigint;
}

/** Which in-memory representation raw pixels of a BITPIX get under a scaling. */
export type ScalingKind = 'raw' | 'int8' | 'uint16' | 'uint32' | 'uint64' | 'float32' | 'float64';

/** Decides how pixels are represented: raw, an unsigned/signed convention, or scaled floats. */
export function scalingKind(bitpix: Bitpix, scaling: PixelScaling): ScalingKind {
  const { bscale } = scaling;
  const bzero = scaling.bzero;
  const zero = typeof bzero === 'bigint' ? bzero : undefined;
  const z = Number(bzero);
  if (bitpix < 0) return bscale === 1 && z === 0 ? 'raw' : bitpix === -32 ? 'float32' : 'float64';
  if (bscale === 1) {
    if (z === 0) return 'raw';
    if (bitpix === 8 && z === -128) return 'int8';
    if (bitpix === 16 && z === 32768) return 'uint16';
    if (bitpix === 32 && z === 2147483648) return 'uint32';
    if (bitpix === 64 && (zero === BZERO_U64 || z === 2 ** 63)) return 'uint64';
  }
  return bitpix === 8 || bitpix === 16 ? 'float32' : 'float64';
}

/** Decoded pixels plus the BLANK value in the units of `data` (absent for floats). */
export interface DecodedPixels {
  readonly data: ImageArray;
  readonly blank?: number | bigint;
}

/**
 * Decodes native-order raw pixels (`raw`, the typed array of `bitpix`) under `scaling`.
 * Convention cases reuse `raw`'s memory; scaled cases allocate a float array where
 * BLANK pixels become NaN (float32 for 8/16-bit images unless `double`, as tables use).
 */
export function applyScaling(
  raw: ImageArray,
  bitpix: Bitpix,
  scaling: PixelScaling,
  double = false,
): DecodedPixels {
  const kind = scalingKind(bitpix, scaling);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const blank = bitpix > 0 ? scaling.blank : undefined;
  switch (kind) {
    case 'raw':
      return blank === undefined ? { data: raw } : { data: raw, blank };
    case 'int8':
      flipSignBits(bytes, 1);
      return withBlank(new Int8Array(raw.buffer, raw.byteOffset, raw.length), blank, -128);
    case 'uint16':
      flipSignBits(bytes, 2);
      return withBlank(new Uint16Array(raw.buffer, raw.byteOffset, raw.length), blank, 32768);
    case 'uint32':
      flipSignBits(bytes, 4);
      return withBlank(new Uint32Array(raw.buffer, raw.byteOffset, raw.length), blank, 2147483648);
    case 'uint64': {
      flipSignBits(bytes, 8);
      const data = new BigUint64Array(raw.buffer, raw.byteOffset, raw.length);
      return blank === undefined ? { data } : { data, blank: BigInt(blank) + BZERO_U64 };
    }
    default:
      return { data: scaleToFloat(raw, kind === 'float32' && !double, scaling, blank) };
  }
}

function withBlank(
  data: Int8Array | Uint16Array | Uint32Array,
  blank: number | bigint | undefined,
  zero: number,
): DecodedPixels {
  return blank === undefined ? { data } : { data, blank: Number(blank) + zero };
}

/**
 * Physical = raw * bscale + bzero in double precision (as CFITSIO), rounded to the
 * output type; BLANK pixels become NaN.
 */
function scaleToFloat(
  raw: ImageArray,
  single: boolean,
  scaling: PixelScaling,
  blank: number | bigint | undefined,
): Float32Array | Float64Array {
  const n = raw.length;
  const out = single ? new Float32Array(n) : new Float64Array(n);
  const bscale = scaling.bscale;
  const bzero = Number(scaling.bzero);
  if (raw instanceof BigInt64Array) {
    const b = blank === undefined ? undefined : BigInt(blank);
    for (let i = 0; i < n; i++) {
      const v = raw[i]!;
      out[i] = v === b ? Number.NaN : Number(v) * bscale + bzero;
    }
    return out;
  }
  if (raw instanceof BigUint64Array) throw new Error('unreachable: raw pixels are signed');
  const src = raw as Exclude<ImageArray, BigInt64Array | BigUint64Array>;
  if (blank === undefined) {
    for (let i = 0; i < n; i++) out[i] = src[i]! * bscale + bzero;
  } else {
    const b = Number(blank);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      out[i] = v === b ? Number.NaN : v * bscale + bzero;
    }
  }
  return out;
}

/** How a typed array is stored: BITPIX and the BZERO of its convention (0 when none). */
export interface StorageFormat {
  readonly bitpix: Bitpix;
  /** BZERO to write; a bigint for the unsigned 64-bit convention. */
  readonly bzero: number | bigint;
}

/** The on-disk format of an in-memory pixel array. */
export function storageFormat(data: ImageArray): StorageFormat {
  if (data instanceof Uint8Array) return { bitpix: 8, bzero: 0 };
  if (data instanceof Int8Array) return { bitpix: 8, bzero: -128 };
  if (data instanceof Int16Array) return { bitpix: 16, bzero: 0 };
  if (data instanceof Uint16Array) return { bitpix: 16, bzero: 32768 };
  if (data instanceof Int32Array) return { bitpix: 32, bzero: 0 };
  if (data instanceof Uint32Array) return { bitpix: 32, bzero: 2147483648 };
  if (data instanceof BigInt64Array) return { bitpix: 64, bzero: 0 };
  if (data instanceof BigUint64Array) return { bitpix: 64, bzero: BZERO_U64 };
  if (data instanceof Float32Array) return { bitpix: -32, bzero: 0 };
  if (data instanceof Float64Array) return { bitpix: -64, bzero: 0 };
  throw new FitsError('FITS_BAD_ARGUMENT', 'image data must be a typed array');
}

/**
 * Encodes native pixels as the big-endian bytes of their storage format (a fresh copy;
 * the input is not modified). Unsigned conventions are stored with the sign bit flipped.
 */
export function encodePixels(data: ImageArray): Uint8Array {
  const { bitpix, bzero } = storageFormat(data);
  const size = bytesPerPixel(bitpix);
  const out = new Uint8Array(data.byteLength);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (bzero !== 0) flipSignBits(out, size);
  swapInPlace(out, size);
  return out;
}

/** The stored (raw) value of a physical BLANK under a storage format. */
export function rawBlank(blank: number | bigint, format: StorageFormat): number | bigint {
  if (format.bitpix === 64) return BigInt(blank) - BigInt(format.bzero);
  return Number(blank) - Number(format.bzero);
}
