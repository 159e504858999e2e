/**
 * Writing tile-compressed images: GZIP_2 (lossless, byte-shuffled; the default for
 * floats, as LSST writes them), GZIP_1, RICE_1 (integer images) and NOCOMPRESS. Floats
 * are never quantized, so every codec here is lossless.
 */

import { gzipSync } from 'node:zlib';
import { type ColumnInput, encodeTable } from '../bintable.ts';
import { FitsError } from '../errors.ts';
import type { CompressionOptions } from '../hdu.ts';
import { encodePixels, type ImageArray, storageFormat } from '../image.ts';
import { riceEncode } from './rice.ts';

/** The compressed table of an image: tile bytes per row plus the Z keywords to write. */
export interface CompressedTable {
  readonly main: Uint8Array;
  readonly heap: Uint8Array;
  readonly rowBytes: number;
  readonly nrows: number;
  /** TTYPE1/TFORM1 and the ZIMAGE keywords, in order. */
  readonly keywords: readonly (readonly [string, string | number | bigint | boolean])[];
}

function shuffle(bytes: Uint8Array, size: number): Uint8Array {
  const n = bytes.length / size;
  const out = new Uint8Array(bytes.length);
  for (let k = 0; k < size; k++) {
    const base = k * n;
    for (let i = 0; i < n; i++) out[base + i] = bytes[i * size + k]!;
  }
  return out;
}

/**
 * Compresses an image (pixels in native order, shape in FITS order) tile by tile.
 * RICE_1 applies to 8/16/32-bit integers only (64-bit integers and floats throw).
 * `primary` marks an image that was a primary array (ZSIMPLE instead of ZTENSION).
 */
export function compressImage(
  data: ImageArray,
  shape: readonly number[],
  options: CompressionOptions,
  primary = false,
): CompressedTable {
  const format = storageFormat(data);
  const type = options.type;
  if (format.bitpix === 64) {
    // CFITSIO (funpack, astropy) cannot decompress 64-bit integer tiles.
    throw new FitsError(
      'FITS_BAD_ARGUMENT',
      'tile compression of 64-bit integer images is not readable by CFITSIO; write them uncompressed',
      { key: 'ZBITPIX' },
    );
  }
  if (type === 'RICE_1' && format.bitpix < 0) {
    throw new FitsError(
      'FITS_BAD_ARGUMENT',
      `RICE_1 compresses 8-, 16- and 32-bit integer images only (BITPIX ${format.bitpix}); use GZIP_2`,
      { key: 'ZCMPTYPE' },
    );
  }
  const ndim = shape.length;
  const tile = options.tile ?? shape.map((n, i) => (i === 0 ? n : 1));
  if (tile.length !== ndim || tile.some((t) => !Number.isSafeInteger(t) || t < 1)) {
    throw new FitsError('FITS_BAD_ARGUMENT', `tile ${JSON.stringify(tile)} does not match shape`, {
      key: 'ZTILE1',
    });
  }
  const tilesPerAxis = shape.map((n, i) => Math.ceil(n / tile[i]!));
  const ntiles = tilesPerAxis.reduce((a, b) => a * b, 1);
  const size = Math.abs(format.bitpix) / 8;
  // Stored (big-endian, convention-offset) bytes of the whole image, then per tile.
  const stored = encodePixels(data);
  const tiles: Uint8Array[] = [];
  const k = new Array<number>(ndim).fill(0);
  const maxTile = tile.reduce((a, b) => a * b, 1);
  const tileBytes = new Uint8Array(maxTile * size);
  for (let index = 0; index < ntiles; index++) {
    const start = k.map((v, a) => v * tile[a]!);
    const tsize = start.map((s, a) => Math.min(tile[a]!, shape[a]! - s));
    const npix = tsize.reduce((a, b) => a * b, 1);
    gatherTile(stored, shape, start, tsize, size, tileBytes);
    const bytes = tileBytes.subarray(0, npix * size);
    tiles.push(encodeTile(bytes, size, format.bitpix, type));
    let a = 0;
    while (a < ndim) {
      k[a]!++;
      if (k[a]! < tilesPerAxis[a]!) break;
      k[a] = 0;
      a++;
    }
  }
  const column: ColumnInput = { name: 'COMPRESSED_DATA', data: tiles };
  const table = encodeTable([column], ntiles);
  const keywords: [string, string | number | bigint | boolean][] = [];
  for (const [key, value] of table.keywords) keywords.push([key, value]);
  // CFITSIO rebuilds the image header in card order, so ZSIMPLE/ZTENSION must come
  // before ZBITPIX and ZNAXISn (as fpack writes them).
  keywords.push(['ZIMAGE', true]);
  if (primary) keywords.push(['ZSIMPLE', true]);
  else keywords.push(['ZTENSION', 'IMAGE']);
  keywords.push(['ZBITPIX', format.bitpix]);
  keywords.push(['ZNAXIS', ndim]);
  shape.forEach((n, i) => {
    keywords.push([`ZNAXIS${i + 1}`, n]);
  });
  if (primary) keywords.push(['ZEXTEND', true]);
  else keywords.push(['ZPCOUNT', 0], ['ZGCOUNT', 1]);
  tile.forEach((t, i) => {
    keywords.push([`ZTILE${i + 1}`, t]);
  });
  keywords.push(['ZCMPTYPE', type]);
  if (type === 'RICE_1') {
    keywords.push(['ZNAME1', 'BLOCKSIZE'], ['ZVAL1', 32], ['ZNAME2', 'BYTEPIX'], ['ZVAL2', size]);
  }
  if (format.bitpix < 0) keywords.push(['ZQUANTIZ', 'NONE']);
  return { main: table.main, heap: table.heap, rowBytes: table.rowBytes, nrows: ntiles, keywords };
}

function gatherTile(
  stored: Uint8Array,
  shape: readonly number[],
  start: readonly number[],
  tsize: readonly number[],
  size: number,
  out: Uint8Array,
): void {
  const ndim = shape.length;
  const rowBytes = tsize[0]! * size;
  const p = start.slice();
  let o = 0;
  for (;;) {
    let src = 0;
    let stride = 1;
    for (let a = 0; a < ndim; a++) {
      src += p[a]! * stride;
      stride *= shape[a]!;
    }
    out.set(stored.subarray(src * size, src * size + rowBytes), o);
    o += rowBytes;
    let a = 1;
    while (a < ndim) {
      p[a]!++;
      if (p[a]! < start[a]! + tsize[a]!) break;
      p[a] = start[a]!;
      a++;
    }
    if (a >= ndim) break;
  }
}

/**
 * zlib level of GZIP tiles: 1 (Z_BEST_SPEED), as CFITSIO compresses them (and so LSST's
 * afw writes): about 2.3x faster than zlib's default 6 for a few per cent more bytes on
 * sky noise.
 */
const GZIP_OPTIONS = { level: 1 } as const;

function encodeTile(
  bytes: Uint8Array,
  size: number,
  bitpix: number,
  type: CompressionOptions['type'],
): Uint8Array {
  switch (type) {
    case 'NOCOMPRESS':
      return bytes.slice();
    case 'GZIP_1':
      return gzipSync(bytes, GZIP_OPTIONS);
    case 'GZIP_2':
      return gzipSync(size > 1 ? shuffle(bytes, size) : bytes, GZIP_OPTIONS);
    case 'RICE_1': {
      const n = bytes.length / size;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // Rice codes the stored integers: unsigned bytes, signed 16/32-bit words.
      const values = new Int32Array(n);
      if (bitpix === 8) values.set(bytes);
      else if (size === 2) for (let i = 0; i < n; i++) values[i] = view.getInt16(2 * i);
      else for (let i = 0; i < n; i++) values[i] = view.getInt32(4 * i);
      return riceEncode(values, 32, size as 1 | 2 | 4);
    }
  }
}
