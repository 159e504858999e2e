/**
 * The tiled-image compression convention (FITS Standard 4.0, section 10): reading the
 * ZIMAGE table's geometry, reconstructing the uncompressed header, and decoding tiles.
 */

import { gunzipSync, unzipSync } from 'node:zlib';
import { type ColumnLayout, type TableLayout, tableLayout } from '../bintable.ts';
import type { Card } from '../card.ts';
import { FitsError, type FitsErrorContext } from '../errors.ts';
import { Header } from '../header.ts';
import { type Bitpix, type ImageArray, isBitpix, swapInPlace } from '../image.ts';
import { acquireKernel, releaseKernel } from '../swap-sum.ts';
import { type DitherMethod, unquantize } from './dither.ts';
import { PlioError, plioDecode } from './plio.ts';
import { RiceError, riceDecode } from './rice.ts';

/** Compression algorithms this reader decodes. */
export type CompressionType = 'RICE_1' | 'GZIP_1' | 'GZIP_2' | 'PLIO_1' | 'NOCOMPRESS';

/** Everything needed to decode the tiles of a ZIMAGE table. */
export interface TiledImage {
  readonly zbitpix: Bitpix;
  /** ZNAXISn, FITS order. */
  readonly naxes: readonly number[];
  /** ZTILEn, FITS order. */
  readonly tile: readonly number[];
  /** Tiles along each axis. */
  readonly tilesPerAxis: readonly number[];
  readonly ntiles: number;
  readonly cmptype: CompressionType;
  readonly blocksize: number;
  readonly bytepix: 1 | 2 | 4;
  /** Quantization of float tiles (undefined: lossless floats or integer image). */
  readonly quantize: DitherMethod | undefined;
  readonly ditherSeed: number;
  /** ZBLANK keyword (null value of quantized tiles when there is no ZBLANK column). */
  readonly zblank: number | undefined;
  /** ZSCALE/ZZERO keywords, used when there are no such columns. */
  readonly zscaleKey: number | undefined;
  readonly zzeroKey: number | undefined;
  readonly table: TableLayout;
  readonly cols: {
    readonly data?: ColumnLayout;
    readonly gzip?: ColumnLayout;
    readonly raw?: ColumnLayout;
    readonly zscale?: ColumnLayout;
    readonly zzero?: ColumnLayout;
    readonly zblank?: ColumnLayout;
  };
}

const QUANTIZE_NAMES: Record<string, DitherMethod | undefined> = {
  NO_DITHER: 'NO_DITHER',
  SUBTRACTIVE_DITHER_1: 'SUBTRACTIVE_DITHER_1',
  SUBTRACTIVE_DITHER_2: 'SUBTRACTIVE_DITHER_2',
};

/** Reads the tiling parameters of a ZIMAGE binary table header. */
export function tiledImage(header: Header, context: FitsErrorContext): TiledImage {
  const zbitpix = header.get('ZBITPIX');
  if (!isBitpix(zbitpix)) {
    throw new FitsError(
      'FITS_BAD_BITPIX',
      `ZBITPIX = ${String(zbitpix)} is not one of 8, 16, 32, 64, -32, -64`,
      { ...context, key: 'ZBITPIX' },
    );
  }
  const znaxis = header.getNumber('ZNAXIS');
  if (znaxis === undefined || !Number.isInteger(znaxis) || znaxis < 0 || znaxis > 999) {
    throw new FitsError('FITS_BAD_SIZE', `ZNAXIS = ${String(znaxis)} is not valid`, {
      ...context,
      key: 'ZNAXIS',
    });
  }
  const naxes: number[] = [];
  const tile: number[] = [];
  let total = 1;
  for (let i = 1; i <= znaxis; i++) {
    const n = header.getNumber(`ZNAXIS${i}`);
    if (n === undefined || !Number.isSafeInteger(n) || n < 0) {
      throw new FitsError('FITS_BAD_SIZE', `ZNAXIS${i} = ${String(n)} is not valid`, {
        ...context,
        key: `ZNAXIS${i}`,
      });
    }
    naxes.push(n);
    total *= n;
    const t = header.getNumber(`ZTILE${i}`) ?? (i === 1 ? n : 1);
    if (!Number.isSafeInteger(t) || t < 1) {
      throw new FitsError('FITS_BAD_SIZE', `ZTILE${i} = ${t} must be a positive integer`, {
        ...context,
        key: `ZTILE${i}`,
      });
    }
    tile.push(Math.min(t, Math.max(n, 1)));
  }
  if (total > 2 ** 40) {
    throw new FitsError('FITS_BAD_SIZE', 'the ZNAXISn product is absurdly large', {
      ...context,
      key: 'ZNAXIS',
    });
  }
  const cmptypeValue = (header.getString('ZCMPTYPE') ?? '').trim().toUpperCase();
  const known = ['RICE_1', 'RICE_ONE', 'GZIP_1', 'GZIP_2', 'PLIO_1', 'NOCOMPRESS'];
  if (!known.includes(cmptypeValue)) {
    throw new FitsError(
      'FITS_UNSUPPORTED',
      `ZCMPTYPE '${cmptypeValue}' is not supported (RICE_1, GZIP_1, GZIP_2, PLIO_1, NOCOMPRESS are); decompress it with funpack first`,
      { ...context, key: 'ZCMPTYPE' },
    );
  }
  const cmptype = (cmptypeValue === 'RICE_ONE' ? 'RICE_1' : cmptypeValue) as CompressionType;
  let blocksize = 32;
  let bytepix: 1 | 2 | 4 = zbitpix === 8 ? 1 : zbitpix === 16 ? 2 : 4;
  for (let i = 1; header.has(`ZNAME${i}`); i++) {
    const name = (header.getString(`ZNAME${i}`) ?? '').trim().toUpperCase();
    const val = header.getNumber(`ZVAL${i}`);
    if (name === 'BLOCKSIZE' && val !== undefined) blocksize = val;
    if (name === 'BYTEPIX' && (val === 1 || val === 2 || val === 4)) bytepix = val;
  }
  if (!Number.isInteger(blocksize) || blocksize < 1 || blocksize > 1 << 16) {
    throw new FitsError('FITS_BAD_HEADER', `Rice BLOCKSIZE ${blocksize} is not valid`, context);
  }
  const table = tableLayout(header, context);
  const byName = (name: string) => table.columns.find((c) => c.name.toUpperCase() === name);
  const cols = {
    ...opt('data', byName('COMPRESSED_DATA')),
    ...opt('gzip', byName('GZIP_COMPRESSED_DATA')),
    ...opt('raw', byName('UNCOMPRESSED_DATA')),
    ...opt('zscale', byName('ZSCALE')),
    ...opt('zzero', byName('ZZERO')),
    ...opt('zblank', byName('ZBLANK')),
  };
  if (!cols.data) {
    throw new FitsError(
      'FITS_BAD_TABLE',
      'the ZIMAGE table has no COMPRESSED_DATA column',
      context,
    );
  }
  const zq = (header.getString('ZQUANTIZ') ?? '').trim().toUpperCase();
  const zscaleKey = header.getNumber('ZSCALE');
  const quantized = zbitpix < 0 && (cols.zscale !== undefined || zscaleKey !== undefined);
  const quantize = quantized ? (QUANTIZE_NAMES[zq] ?? 'NO_DITHER') : undefined;
  const tilesPerAxis = naxes.map((n, i) => Math.ceil(n / tile[i]!));
  const ntiles = znaxis === 0 ? 0 : tilesPerAxis.reduce((a, b) => a * b, 1);
  if (ntiles !== table.nrows) {
    throw new FitsError(
      'FITS_BAD_TABLE',
      `the image needs ${ntiles} tiles but the table has ${table.nrows} rows; ZTILEn or NAXIS2 is wrong`,
      { ...context, key: 'NAXIS2' },
    );
  }
  return {
    zbitpix,
    naxes,
    tile,
    tilesPerAxis,
    ntiles,
    cmptype,
    blocksize,
    bytepix,
    quantize,
    ditherSeed: header.getNumber('ZDITHER0') ?? 1,
    zblank: header.getNumber('ZBLANK'),
    zscaleKey,
    zzeroKey: header.getNumber('ZZERO'),
    table,
    cols,
  };
}

function opt<K extends string>(key: K, col: ColumnLayout | undefined): { [P in K]?: ColumnLayout } {
  return (col ? { [key]: col } : {}) as { [P in K]?: ColumnLayout };
}

/** Keywords of the ZIMAGE table that do not belong to the uncompressed header. */
const TABLE_ONLY =
  /^(XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|T(TYPE|FORM|UNIT|NULL|SCAL|ZERO|DIM|DISP)\d+|THEAP|ZIMAGE|ZSIMPLE|ZTENSION|ZEXTEND|ZBITPIX|ZNAXIS\d*|ZTILE\d+|ZCMPTYPE|ZNAME\d+|ZVAL\d+|ZQUANTIZ|ZDITHER0|ZPCOUNT|ZGCOUNT|ZBLANK|ZMASKCMP|ZBLOCKED|ZHECKSUM|ZDATASUM|ZSCALE|ZZERO|CHECKSUM|DATASUM)$/;

/**
 * Rebuilds the header of the uncompressed image from a ZIMAGE table header: ZSIMPLE or
 * ZTENSION, ZBITPIX, ZNAXISn, ZPCOUNT/ZGCOUNT, ZHECKSUM/ZDATASUM become the standard
 * keywords; table and compression keywords are dropped; everything else is kept in order.
 */
export function uncompressedHeader(z: Header): Header {
  const out = new Header();
  const primary = z.get('ZSIMPLE') !== undefined;
  if (primary) out.set('SIMPLE', true, 'conforms to FITS standard');
  else out.set('XTENSION', z.getString('ZTENSION') ?? 'IMAGE', 'Image extension');
  out.set('BITPIX', z.get('ZBITPIX') ?? 8, z.getComment('ZBITPIX') || 'array data type');
  const naxis = z.getNumber('ZNAXIS') ?? 0;
  out.set('NAXIS', naxis, z.getComment('ZNAXIS') || 'number of array dimensions');
  for (let i = 1; i <= naxis; i++) {
    out.set(`NAXIS${i}`, z.get(`ZNAXIS${i}`) ?? 0, z.getComment(`ZNAXIS${i}`) ?? '');
  }
  if (primary) {
    const extend = z.get('ZEXTEND');
    if (extend !== undefined) out.set('EXTEND', extend);
  } else {
    out.set('PCOUNT', z.get('ZPCOUNT') ?? 0, 'number of parameters');
    out.set('GCOUNT', z.get('ZGCOUNT') ?? 1, 'number of groups');
  }
  // astropy writes EXTNAME = 'COMPRESSED_IMAGE' before the image's own EXTNAME; the
  // image's name is the other one.
  const extnames = [...z].filter((c) => c.kind === 'value' && c.key === 'EXTNAME');
  for (const card of z) {
    if (card.kind === 'value' && TABLE_ONLY.test(card.key.toUpperCase())) continue;
    if (
      card.kind === 'value' &&
      card.key === 'EXTNAME' &&
      extnames.length > 1 &&
      String(card.value).trim() === 'COMPRESSED_IMAGE'
    ) {
      continue;
    }
    out.append(card as Card);
  }
  const zhecksum = z.get('ZHECKSUM');
  const zdatasum = z.get('ZDATASUM');
  if (zhecksum !== undefined) out.set('CHECKSUM', zhecksum);
  if (zdatasum !== undefined) out.set('DATASUM', zdatasum);
  if (!out.has('BLANK') && z.get('ZBITPIX') !== undefined && Number(z.get('ZBITPIX')) > 0) {
    const zblank = z.get('ZBLANK');
    if (typeof zblank === 'number') out.set('BLANK', zblank);
  }
  return out;
}

/** Zeroed typed array for `n` pixels of a ZBITPIX, before BSCALE/BZERO (shared memory when `shared`). */
export function allocatePixels(bitpix: Bitpix, n: number, shared = false): ImageArray {
  const bytes = (Math.abs(bitpix) / 8) * n;
  const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  switch (bitpix) {
    case 8:
      return new Uint8Array(buffer);
    case 16:
      return new Int16Array(buffer);
    case 32:
      return new Int32Array(buffer);
    case 64:
      return new BigInt64Array(buffer);
    case -32:
      return new Float32Array(buffer);
    case -64:
      return new Float64Array(buffer);
  }
}

/** The pixel box of a tile: start and size per axis. */
export function tileBox(t: TiledImage, index: number): { start: number[]; size: number[] } {
  const start: number[] = [];
  const size: number[] = [];
  let rest = index;
  for (let a = 0; a < t.naxes.length; a++) {
    const n = t.tilesPerAxis[a]!;
    const k = rest % n;
    rest = Math.floor(rest / n);
    const s = k * t.tile[a]!;
    start.push(s);
    size.push(Math.min(t.tile[a]!, t.naxes[a]! - s));
  }
  return { start, size };
}

/** Reads a descriptor (count, heap offset) of a variable-length column in a table row. */
function descriptor(row: DataView, col: ColumnLayout): [number, number] {
  if (col.format.variable === 'Q') {
    return [Number(row.getBigUint64(col.offset)), Number(row.getBigUint64(col.offset + 8))];
  }
  return [row.getUint32(col.offset), row.getUint32(col.offset + 4)];
}

/** Bytes per element of a variable-length column's element type. */
function elementBytes(col: ColumnLayout): number {
  const sizes: Record<string, number> = { B: 1, I: 2, J: 4, K: 8, E: 4, D: 8 };
  return sizes[col.format.type] ?? 1;
}

/** Heap byte ranges a tile needs: [heap offset, length] per data column. */
export function tileHeapRanges(t: TiledImage, main: Uint8Array, index: number): [number, number][] {
  const row = new DataView(
    main.buffer,
    main.byteOffset + index * t.table.rowBytes,
    t.table.rowBytes,
  );
  const out: [number, number][] = [];
  for (const col of [t.cols.data, t.cols.gzip, t.cols.raw]) {
    if (!col) continue;
    const [count, offset] = descriptor(row, col);
    if (count > 0) out.push([offset, count * elementBytes(col)]);
  }
  return out;
}

function unzip(
  bytes: Uint8Array,
  context: FitsErrorContext,
  tile: number,
  maxBytes: number,
): Uint8Array {
  try {
    // GZIP_1 is gzip-wrapped; accept bare zlib streams too, as CFITSIO does. The output
    // is capped at the tile's size so a corrupt or hostile stream cannot exhaust memory.
    const opts = { maxOutputLength: Math.max(maxBytes, 64) };
    return bytes[0] === 0x1f && bytes[1] === 0x8b
      ? gunzipSync(bytes, opts)
      : unzipSync(bytes, opts);
  } catch (cause) {
    throw new FitsError(
      'FITS_DECOMPRESS',
      `tile ${tile} does not decompress (${(cause as Error).message}); the file is corrupt`,
      { ...context, key: 'COMPRESSED_DATA', cause },
    );
  }
}

/** Big-endian elements of `size` bytes -> a native typed array view (copy if unaligned). */
function nativeInts(
  bytes: Uint8Array,
  size: number,
): Int32Array | Int16Array | Uint8Array | BigInt64Array {
  let b = bytes;
  if (size > 1 && b.byteOffset % size !== 0) b = b.slice();
  swapInPlace(b, size);
  const n = b.byteLength / size;
  if (size === 1) return b;
  if (size === 2) return new Int16Array(b.buffer, b.byteOffset, n);
  if (size === 4) return new Int32Array(b.buffer, b.byteOffset, n);
  return new BigInt64Array(b.buffer, b.byteOffset, n);
}

/**
 * GZIP_2 un-shuffle of 4- or 8-byte elements straight into a native typed array: each
 * element is assembled from its byte planes as an integer value, which also converts
 * big-endian to native order in the same pass.
 */
function unshuffleInto(
  bytes: Uint8Array,
  size: 4 | 8,
  dest: Float32Array | Float64Array | Int32Array,
): void {
  // The SIMD kernel (about 10x the plain loop below) when it can take the tile.
  const kernel = acquireKernel();
  try {
    const out = new Uint8Array(dest.buffer, dest.byteOffset, dest.byteLength);
    if (kernel.unshuffle(bytes, size, out)) return;
  } finally {
    releaseKernel(kernel);
  }
  const n = dest.length;
  const d = new Uint32Array(dest.buffer, dest.byteOffset, (n * size) / 4);
  if (size === 4) {
    const n2 = 2 * n;
    const n3 = 3 * n;
    for (let i = 0; i < n; i++) {
      d[i] = (bytes[i]! << 24) | (bytes[n + i]! << 16) | (bytes[n2 + i]! << 8) | bytes[n3 + i]!;
    }
    return;
  }
  const [hiWord, loWord] = isLittleEndianHost ? [1, 0] : [0, 1];
  for (let i = 0; i < n; i++) {
    d[2 * i + hiWord] =
      (bytes[i]! << 24) | (bytes[n + i]! << 16) | (bytes[2 * n + i]! << 8) | bytes[3 * n + i]!;
    d[2 * i + loWord] =
      (bytes[4 * n + i]! << 24) |
      (bytes[5 * n + i]! << 16) |
      (bytes[6 * n + i]! << 8) |
      bytes[7 * n + i]!;
  }
}

const isLittleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** GZIP_2 un-shuffle: bytes grouped by significance -> big-endian element order. */
function unshuffle(bytes: Uint8Array, size: number): Uint8Array {
  const n = bytes.length / size;
  const out = new Uint8Array(bytes.length);
  for (let k = 0; k < size; k++) {
    const base = k * n;
    for (let i = 0; i < n; i++) out[i * size + k] = bytes[base + i]!;
  }
  return out;
}

/**
 * Decodes tile `index` into `dest` (length = the tile's pixel count, the ZBITPIX array
 * type; floats unquantized). `main` is the table's row bytes, `heap(offset, length)`
 * returns heap bytes (offset from the heap start).
 */
export function decodeTile(
  t: TiledImage,
  index: number,
  main: Uint8Array,
  heap: (offset: number, length: number) => Uint8Array,
  dest: ImageArray,
  context: FitsErrorContext,
): void {
  const npix = dest.length;
  const rowBytes = t.table.rowBytes;
  const row = new DataView(main.buffer, main.byteOffset + index * rowBytes, rowBytes);
  const ctx = { ...context, key: 'COMPRESSED_DATA' };
  const data = t.cols.data!;
  const [count, offset] = descriptor(row, data);
  const fail = (why: string, cause?: unknown): never => {
    throw new FitsError(
      'FITS_DECOMPRESS',
      `tile ${index} does not decompress (${why}); the file is corrupt`,
      cause === undefined ? ctx : { ...ctx, cause },
    );
  };
  if (count > 0) {
    const bytes = heap(offset, count * elementBytes(data));
    let ints: Int32Array | Int16Array | Uint8Array | BigInt64Array;
    if (t.cmptype === 'RICE_1') {
      const out = new Int32Array(npix);
      try {
        riceDecode(bytes, out, npix, t.blocksize, t.bytepix);
      } catch (e) {
        if (e instanceof RiceError) fail(e.message, e);
        throw e;
      }
      ints = out;
    } else if (t.cmptype === 'PLIO_1') {
      const words = nativeInts(bytes.slice(), 2) as Int16Array;
      const out = new Int32Array(npix);
      try {
        plioDecode(words, out, npix);
      } catch (e) {
        if (e instanceof PlioError) fail(e.message, e);
        throw e;
      }
      ints = out;
    } else {
      let raw = t.cmptype === 'NOCOMPRESS' ? bytes.slice() : unzip(bytes, ctx, index, npix * 8);
      const size = raw.length / npix;
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
        fail(`${raw.length} bytes for ${npix} pixels`);
      }
      if (t.zbitpix < 0 && !t.quantize) {
        // Lossless floats: the bytes are the IEEE values themselves.
        if (size !== Math.abs(t.zbitpix) / 8) fail(`${size}-byte elements for BITPIX ${t.zbitpix}`);
        if (t.cmptype === 'GZIP_2') {
          unshuffleInto(raw, size as 4 | 8, dest as Float32Array | Float64Array);
          return;
        }
        swapInPlace(raw, size);
        const view =
          t.zbitpix === -32
            ? new Float32Array(raw.buffer, 0, npix)
            : new Float64Array(raw.buffer, 0, npix);
        (dest as Float32Array | Float64Array).set(view);
        return;
      }
      if (t.cmptype === 'GZIP_2' && size === 4 && t.zbitpix === 32) {
        // 32-bit integers are stored as they are: straight into the output.
        unshuffleInto(raw, 4, dest as Int32Array);
        return;
      }
      if (t.cmptype === 'GZIP_2' && size === 4) {
        const out = new Int32Array(npix);
        unshuffleInto(raw, 4, out);
        ints = out;
      } else {
        if (t.cmptype === 'GZIP_2' && size > 1) raw = unshuffle(raw, size);
        ints = nativeInts(raw, size);
      }
    }
    storeInts(t, index, row, ints, dest);
    return;
  }
  const gzip = t.cols.gzip;
  if (gzip) {
    const [gcount, goffset] = descriptor(row, gzip);
    if (gcount > 0) {
      // Tiles that could not be quantized are stored as gzipped (unshuffled) raw values.
      const raw = unzip(heap(goffset, gcount * elementBytes(gzip)), ctx, index, npix * 8);
      const size = Math.abs(t.zbitpix) / 8;
      if (raw.length !== npix * size) fail(`${raw.length} bytes for ${npix} pixels`);
      copyRaw(t.zbitpix, raw, dest);
      return;
    }
  }
  const rawCol = t.cols.raw;
  if (rawCol) {
    const [rcount, roffset] = descriptor(row, rawCol);
    if (rcount > 0) {
      const size = elementBytes(rawCol);
      if (rcount !== npix) fail(`${rcount} uncompressed values for ${npix} pixels`);
      const bytes = heap(roffset, rcount * size).slice();
      swapInPlace(bytes, size);
      const view = viewByType(rawCol.format.type, bytes, rcount);
      if (view instanceof BigInt64Array !== dest instanceof BigInt64Array) fail('type mismatch');
      (dest as Float64Array).set(view as Float64Array);
      return;
    }
  }
  // An empty tile (all descriptors zero): CFITSIO writes none; treat as corrupt.
  fail('the tile has no data');
}

function viewByType(type: string, bytes: Uint8Array, n: number): ImageArray {
  switch (type) {
    case 'I':
      return new Int16Array(bytes.buffer, bytes.byteOffset, n);
    case 'J':
      return new Int32Array(bytes.buffer, bytes.byteOffset, n);
    case 'K':
      return new BigInt64Array(bytes.buffer, bytes.byteOffset, n);
    case 'E':
      return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    case 'D':
      return new Float64Array(bytes.buffer, bytes.byteOffset, n);
    default:
      return bytes;
  }
}

function copyRaw(bitpix: Bitpix, raw: Uint8Array, dest: ImageArray): void {
  const size = Math.abs(bitpix) / 8;
  swapInPlace(raw, size);
  const n = dest.length;
  const src =
    bitpix === -32
      ? new Float32Array(raw.buffer, raw.byteOffset, n)
      : bitpix === -64
        ? new Float64Array(raw.buffer, raw.byteOffset, n)
        : nativeInts(raw, 1);
  (dest as Float64Array).set(src as Float64Array);
}

/** Stores decoded integers into `dest`: unquantized for floats, copied for integers. */
function storeInts(
  t: TiledImage,
  index: number,
  row: DataView,
  ints: Int32Array | Int16Array | Uint8Array | BigInt64Array,
  dest: ImageArray,
): void {
  if (t.zbitpix < 0) {
    const i32 = ints instanceof Int32Array ? ints : Int32Array.from(ints as Int16Array);
    const scale = t.cols.zscale ? readNumber(row, t.cols.zscale) : (t.zscaleKey ?? 1);
    const zero = t.cols.zzero ? readNumber(row, t.cols.zzero) : (t.zzeroKey ?? 0);
    const blank = t.cols.zblank ? readNumber(row, t.cols.zblank) : t.zblank;
    unquantize(
      i32,
      dest.length,
      dest as Float32Array | Float64Array,
      scale,
      zero,
      t.quantize ?? 'NO_DITHER',
      index,
      t.ditherSeed,
      blank,
    );
    return;
  }
  if (dest instanceof BigInt64Array) {
    if (ints instanceof BigInt64Array) dest.set(ints);
    else for (let i = 0; i < dest.length; i++) dest[i] = BigInt(ints[i]!);
    return;
  }
  if (ints instanceof BigInt64Array) {
    for (let i = 0; i < dest.length; i++) dest[i] = Number(ints[i]!);
    return;
  }
  (dest as Int32Array).set(ints);
}

function readNumber(row: DataView, col: ColumnLayout): number {
  switch (col.format.type) {
    case 'D':
      return row.getFloat64(col.offset);
    case 'E':
      return row.getFloat32(col.offset);
    case 'J':
      return row.getInt32(col.offset);
    case 'I':
      return row.getInt16(col.offset);
    case 'K':
      return Number(row.getBigInt64(col.offset));
    default:
      return row.getUint8(col.offset);
  }
}
