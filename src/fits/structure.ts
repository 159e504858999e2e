/**
 * HDU structure: locating headers (END card, 2880-byte blocks) and computing data-unit
 * sizes from BITPIX/NAXISn/PCOUNT/GCOUNT, with every size checked before anything is
 * allocated.
 */

import { CARD_LENGTH } from './card.ts';
import { FitsError, type FitsErrorContext } from './errors.ts';
import { BLOCK_LENGTH, Header } from './header.ts';
import { type Bitpix, isBitpix } from './image.ts';

/** Rounds a byte count up to a whole number of 2880-byte blocks. */
export function padToBlock(n: number): number {
  return Math.ceil(n / BLOCK_LENGTH) * BLOCK_LENGTH;
}

/** True when a card image is the END card. */
function isEnd(bytes: Uint8Array, at: number): boolean {
  if (bytes[at] !== 0x45 || bytes[at + 1] !== 0x4e || bytes[at + 2] !== 0x44) return false;
  for (let i = 3; i < 8; i++) if (bytes[at + i] !== 0x20) return false;
  return true;
}

/**
 * Byte offset just past the header block that holds END, scanning whole 2880-byte
 * blocks from `start`; -1 when END is not within `bytes` (the caller decides whether
 * more bytes exist).
 */
export function findHeaderEnd(bytes: Uint8Array, start: number): number {
  for (let block = start; block + BLOCK_LENGTH <= bytes.byteLength; block += BLOCK_LENGTH) {
    for (let at = block; at < block + BLOCK_LENGTH; at += CARD_LENGTH) {
      if (isEnd(bytes, at)) return block + BLOCK_LENGTH;
    }
  }
  return -1;
}

/** Card images from `start` up to (not including) END. */
export function headerFromBytes(bytes: Uint8Array, start: number, end: number): Header {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  const images: string[] = [];
  for (let at = 0; at + CARD_LENGTH <= text.length; at += CARD_LENGTH) {
    const image = text.slice(at, at + CARD_LENGTH);
    if (image.startsWith('END') && image.slice(3, 8) === '     ') break;
    images.push(image);
  }
  return Header.fromCardImages(images);
}

/**
 * Parses the header that starts at `start`. Throws `FITS_NO_END` when no END card
 * appears before the end of `bytes`, `FITS_TRUNCATED` when not even one block is left,
 * and `FITS_BAD_HEADER` when the first card is not SIMPLE (primary) or XTENSION.
 */
export function readHeaderAt(
  bytes: Uint8Array,
  start: number,
  primary: boolean,
  context: FitsErrorContext,
): { header: Header; dataStart: number } {
  if (start + BLOCK_LENGTH > bytes.byteLength) {
    throw new FitsError(
      'FITS_TRUNCATED',
      `only ${bytes.byteLength - start} bytes remain where a 2880-byte header block should start; the file is truncated`,
      context,
    );
  }
  checkFirstCard(bytes, start, primary, context);
  const end = findHeaderEnd(bytes, start);
  if (end < 0) {
    throw new FitsError(
      'FITS_NO_END',
      'the header has no END card before the end of the file; the file is truncated or not FITS',
      context,
    );
  }
  return { header: headerFromBytes(bytes, start, end), dataStart: end };
}

/** Throws unless the card at `at` starts with `SIMPLE  =` (primary) or `XTENSION=`. */
export function checkFirstCard(
  bytes: Uint8Array,
  at: number,
  primary: boolean,
  context: FitsErrorContext,
): void {
  const first = Buffer.from(bytes.buffer, bytes.byteOffset + at, 10).toString('latin1');
  const want = primary ? 'SIMPLE  =' : 'XTENSION=';
  if (!first.startsWith(want)) {
    throw new FitsError(
      'FITS_BAD_HEADER',
      `expected the header to start with ${want.replace(/ +=/, '')}, found ${JSON.stringify(first)}; this is not a FITS ${primary ? 'file' : 'extension'}`,
      { ...context, key: primary ? 'SIMPLE' : 'XTENSION' },
    );
  }
}

/** The data-unit geometry a header declares. */
export interface DataLayout {
  readonly bitpix: Bitpix;
  /** [NAXIS1, ...]. */
  readonly naxes: readonly number[];
  readonly pcount: number;
  readonly gcount: number;
  /** Data bytes without block padding. */
  readonly bytes: number;
  /** True for a random-groups primary array (NAXIS1 = 0, GROUPS = T). */
  readonly groups: boolean;
}

function intKey(header: Header, key: string, context: FitsErrorContext, fallback?: number): number {
  const v = header.get(key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new FitsError('FITS_BAD_HEADER', `required keyword ${key} is missing`, {
      ...context,
      key,
    });
  }
  if (typeof v === 'bigint') {
    throw new FitsError('FITS_BAD_SIZE', `${key} = ${v} is absurdly large`, { ...context, key });
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new FitsError('FITS_BAD_SIZE', `${key} must be an integer, found ${String(v)}`, {
      ...context,
      key,
    });
  }
  if (v < 0) {
    throw new FitsError('FITS_BAD_SIZE', `${key} = ${v} is negative`, { ...context, key });
  }
  return v;
}

/** Reads BITPIX/NAXISn/PCOUNT/GCOUNT and computes the data size (bytes, unpadded). */
export function dataLayout(header: Header, context: FitsErrorContext): DataLayout {
  const bitpixValue = header.get('BITPIX');
  if (!isBitpix(bitpixValue)) {
    throw new FitsError(
      'FITS_BAD_BITPIX',
      `BITPIX = ${String(bitpixValue)} is not one of 8, 16, 32, 64, -32, -64`,
      { ...context, key: 'BITPIX' },
    );
  }
  const naxis = intKey(header, 'NAXIS', context);
  if (naxis > 999) {
    throw new FitsError('FITS_BAD_SIZE', `NAXIS = ${naxis} exceeds 999`, {
      ...context,
      key: 'NAXIS',
    });
  }
  const naxes: number[] = [];
  for (let i = 1; i <= naxis; i++) naxes.push(intKey(header, `NAXIS${i}`, context));
  const pcount = intKey(header, 'PCOUNT', context, 0);
  const gcount = intKey(header, 'GCOUNT', context, 1);
  const groups = naxis > 0 && naxes[0] === 0 && header.get('GROUPS') === true;
  let elements = naxis === 0 ? 0 : 1;
  for (let i = groups ? 1 : 0; i < naxis; i++) {
    elements *= naxes[i]!;
    if (elements > Number.MAX_SAFE_INTEGER) {
      throw new FitsError('FITS_BAD_SIZE', 'the NAXISn product is absurdly large', {
        ...context,
        key: `NAXIS${i + 1}`,
      });
    }
  }
  if (groups && naxis === 1) elements = 0;
  const bytes = (Math.abs(bitpixValue) / 8) * gcount * (pcount + elements);
  if (!Number.isSafeInteger(bytes)) {
    throw new FitsError('FITS_BAD_SIZE', `the data size (${bytes} bytes) is absurd`, {
      ...context,
      key: 'NAXIS',
    });
  }
  return { bitpix: bitpixValue, naxes, pcount, gcount, bytes, groups };
}

/** Throws `FITS_TRUNCATED` when `dataStart + layout.bytes` exceeds the file length. */
export function checkDataFits(
  layout: DataLayout,
  dataStart: number,
  fileLength: number,
  context: FitsErrorContext,
): void {
  if (dataStart + layout.bytes > fileLength) {
    const dims = layout.naxes.map((n, i) => `NAXIS${i + 1}=${n}`).join(' ');
    throw new FitsError(
      'FITS_TRUNCATED',
      `the header declares ${layout.bytes} data bytes (BITPIX=${layout.bitpix} ${dims} PCOUNT=${layout.pcount}) but only ${Math.max(0, fileLength - dataStart)} remain; the file is truncated or NAXISn is wrong`,
      { ...context, key: 'NAXIS' },
    );
  }
}
