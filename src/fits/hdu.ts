/**
 * HDU types returned by the reader and accepted by the writer, and HDU lookup.
 */

import type { Column, ColumnInput } from './bintable.ts';
import { FitsError } from './errors.ts';
import type { Header } from './header.ts';
import type { ImageArray } from './image.ts';

/** Tile-compression settings of an image HDU (read from, or to write as, a ZIMAGE table). */
export interface CompressionInfo {
  /** ZCMPTYPE. */
  readonly type: 'RICE_1' | 'GZIP_1' | 'GZIP_2' | 'PLIO_1' | 'HCOMPRESS_1' | 'NOCOMPRESS';
  /** ZTILEn, FITS order (pixels). */
  readonly tile: readonly number[];
  /** ZQUANTIZ when floats were quantized ('NO_DITHER', 'SUBTRACTIVE_DITHER_1', ...). */
  readonly quantize?: string;
}

/**
 * An image HDU (primary array, IMAGE extension, or a decompressed tile-compressed image).
 * Pixel (x, y), 0-based, is `data[x + shape[0] * y]`.
 */
export interface ImageHdu {
  readonly type: 'image';
  /**
   * The header as on disk (for compressed images: the reconstructed uncompressed header).
   * BSCALE/BZERO/BLANK stay in it although `data` already has them applied; the writer
   * regenerates them from `data`.
   */
  readonly header: Header;
  /** [NAXIS1, NAXIS2, ...], FITS order (NAXIS1 = x, fastest). Empty when NAXIS = 0. */
  readonly shape: readonly number[];
  /** Pixels in native byte order with BSCALE/BZERO applied; null when there is no data. */
  readonly data: ImageArray | null;
  /** BLANK in the units of `data`, for integer data that kept its raw values. */
  readonly blank?: number | bigint;
  /** Set for images read from a tile-compressed HDU. */
  readonly compression?: CompressionInfo;
}

/** A binary-table HDU, column-oriented. */
export interface BinTableHdu {
  readonly type: 'bintable';
  readonly header: Header;
  /** NAXIS2. */
  readonly nrows: number;
  readonly columns: readonly Column[];
}

/**
 * An HDU this reader does not decode (ASCII TABLE, random groups, unknown XTENSION):
 * the header and the raw data-unit bytes.
 */
export interface OtherHdu {
  readonly type: 'other';
  readonly header: Header;
  /** Raw data bytes (without block padding). */
  readonly raw: Uint8Array;
  /** Why the data were not decoded. */
  readonly reason: string;
}

/** Any HDU read from a file. */
export type Hdu = ImageHdu | BinTableHdu | OtherHdu;

/** An image to write. `header` cards are copied except structural ones (see the writer). */
export interface ImageHduInput {
  readonly type?: 'image';
  readonly header?: Header;
  /** Pixels; omitted or null for a header-only HDU. */
  readonly data?: ImageArray | null;
  /** [NAXIS1, NAXIS2, ...]; default `[data.length]`. */
  readonly shape?: readonly number[];
  /** BLANK for integer data, in the units of `data`. */
  readonly blank?: number | bigint;
  /** EXTNAME (overrides the header's). */
  readonly name?: string;
  /** Write as a tile-compressed image with these settings (see `compression`). */
  readonly compression?: CompressionOptions;
}

/** How to tile-compress an image on write. */
export interface CompressionOptions {
  /** 'GZIP_2' (default for floats; lossless), 'RICE_1' (integers only), 'GZIP_1'. */
  readonly type: 'RICE_1' | 'GZIP_1' | 'GZIP_2' | 'NOCOMPRESS';
  /** ZTILEn (default: one row, `[NAXIS1, 1, ...]`). */
  readonly tile?: readonly number[];
}

/** A binary table to write. */
export interface BinTableHduInput {
  readonly type: 'bintable';
  readonly header?: Header;
  readonly columns: readonly ColumnInput[];
  /** Row count (default: from the first column). */
  readonly nrows?: number;
  /** EXTNAME (overrides the header's). */
  readonly name?: string;
}

/** Anything the writer accepts (HDUs read by `readFits` included). */
export type HduInput = ImageHduInput | BinTableHduInput | Hdu;

/** How to pick an HDU: an index (0 = primary), an EXTNAME, or EXTNAME plus EXTVER. */
export type HduSelector = number | string | { readonly name: string; readonly ver?: number };

/**
 * Finds an HDU by index, EXTNAME (case-insensitive, trailing blanks ignored) and
 * optionally EXTVER (default: the first match, as EXTVER 1 is implied when absent).
 * Throws `FITS_HDU_NOT_FOUND` naming what exists.
 */
export function findHduIndex(
  headers: readonly Header[],
  which: HduSelector,
  file?: string,
): number {
  if (typeof which === 'number') {
    if (Number.isInteger(which) && which >= 0 && which < headers.length) return which;
    throw new FitsError(
      'FITS_HDU_NOT_FOUND',
      `there is no HDU ${which}; the file has ${headers.length} (0..${headers.length - 1})`,
      file === undefined ? { hdu: which } : { file, hdu: which },
    );
  }
  const name = (typeof which === 'string' ? which : which.name).trim().toUpperCase();
  const ver = typeof which === 'string' ? undefined : which.ver;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const extname = h.get('EXTNAME');
    if (typeof extname !== 'string' || extname.trim().toUpperCase() !== name) continue;
    if (ver === undefined) return i;
    const extver = h.get('EXTVER');
    if ((typeof extver === 'number' ? extver : 1) === ver) return i;
  }
  const names = headers
    .map((h, i) => `${i}:${String(h.get('EXTNAME') ?? (i === 0 ? 'PRIMARY' : '-'))}`)
    .join(', ');
  const label = ver === undefined ? name : `${name} (EXTVER ${ver})`;
  throw new FitsError(
    'FITS_HDU_NOT_FOUND',
    `no HDU has EXTNAME ${label}; available: ${names}`,
    file === undefined ? { hdu: label } : { file, hdu: label },
  );
}
