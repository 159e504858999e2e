/**
 * Writing FITS files: `fitsToBytes` (in memory) and `writeFits` (atomic: a temporary
 * file in the target directory, fsync, then rename; nothing is left on error).
 */

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodeTable } from './bintable.ts';
import type { HeaderValue } from './card.ts';
import { encodeChecksum, onesComplementSum } from './checksum.ts';
import { compressImage } from './compression/compress.ts';
import { FitsError } from './errors.ts';
import type { BinTableHduInput, HduInput, ImageHduInput } from './hdu.ts';
import { Header } from './header.ts';
import { encodePixels, rawBlank, storageFormat } from './image.ts';
import { padToBlock } from './structure.ts';

/** Options for {@link writeFits} and {@link fitsToBytes}. */
export interface WriteOptions {
  /** Write DATASUM and CHECKSUM in every HDU (default true). */
  readonly checksum?: boolean;
}

/** Structural keywords the writer always generates itself (input cards are dropped). */
const STRUCTURAL =
  /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|GROUPS|BSCALE|BZERO|BLANK|CHECKSUM|DATASUM|END|TFIELDS|T(TYPE|FORM|UNIT|NULL|SCAL|ZERO|DIM)\d+|THEAP|Z(IMAGE|SIMPLE|TENSION|EXTEND|BITPIX|NAXIS\d*|TILE\d+|CMPTYPE|NAME\d+|VAL\d+|QUANTIZ|DITHER0|PCOUNT|GCOUNT|BLANK|MASKCMP|BLOCKED|HECKSUM|DATASUM))$/;

/** One encoded HDU: header bytes and data chunks (data padded to 2880 with zeros). */
interface EncodedHdu {
  readonly header: Uint8Array;
  readonly data: readonly Uint8Array[];
  readonly dataLength: number;
}

type Keyword = readonly [string, HeaderValue, string?];

/**
 * Builds a header: structural keywords first, then the input header's other cards, then
 * extra keywords (BZERO, BLANK, ...), then CHECKSUM/DATASUM placeholders.
 */
function buildHeader(
  structural: readonly Keyword[],
  input: Header | undefined,
  extra: readonly Keyword[],
  name: string | undefined,
  checksum: boolean,
): Header {
  const h = new Header();
  for (const [k, v, c] of structural) h.set(k, v, c);
  if (input) {
    for (const card of input) {
      if (card.kind === 'value' && STRUCTURAL.test(card.key.toUpperCase())) continue;
      h.append(card);
    }
  }
  // BZERO/BSCALE of the unsigned conventions are integers, as astropy and CFITSIO write them.
  for (const [k, v, c] of extra) h.set(k, v, c);
  if (name !== undefined) h.set('EXTNAME', name, 'extension name');
  if (checksum) {
    h.set('CHECKSUM', '0000000000000000', 'HDU checksum');
    h.set('DATASUM', '0', 'data unit checksum');
  }
  return h;
}

/** Fills in DATASUM and CHECKSUM (header bytes edited in place after the sum). */
function finishChecksum(h: Header, data: readonly Uint8Array[]): Uint8Array {
  let datasum = 0;
  // The sum runs over 32-bit words of the whole data unit: chunks can be summed
  // separately only while each starts on a word boundary.
  const aligned = data.every((c, i) => i === data.length - 1 || c.byteLength % 4 === 0);
  const parts = aligned ? data : [concat(data)];
  for (const chunk of parts) datasum = onesComplementSum(chunk, datasum);
  h.set('DATASUM', String(datasum));
  h.set('CHECKSUM', '0000000000000000');
  const bytes = h.toBytes();
  const sum = onesComplementSum(bytes, datasum);
  const encoded = encodeChecksum(sum);
  const at = findCard(bytes, 'CHECKSUM');
  for (let i = 0; i < 16; i++) bytes[at + 11 + i] = encoded.charCodeAt(i);
  return bytes;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function findCard(bytes: Uint8Array, key: string): number {
  const padded = `${key.padEnd(8, ' ')}= '`;
  for (let at = 0; at < bytes.length; at += 80) {
    let ok = true;
    for (let i = 0; i < padded.length && ok; i++) ok = bytes[at + i] === padded.charCodeAt(i);
    if (ok) return at;
  }
  throw new Error(`internal: ${key} card missing`);
}

function padded(data: readonly Uint8Array[], length: number): Uint8Array[] {
  const pad = padToBlock(length) - length;
  return pad > 0 ? [...data, new Uint8Array(pad)] : [...data];
}

function isTable(hdu: HduInput): hdu is BinTableHduInput {
  return hdu.type === 'bintable';
}

function encodeImage(hdu: ImageHduInput, primary: boolean, checksum: boolean): EncodedHdu {
  const data = hdu.data ?? null;
  const shape = hdu.shape ?? (data ? [data.length] : []);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new FitsError('FITS_BAD_ARGUMENT', `image shape ${JSON.stringify(shape)} is not valid`, {
      key: 'NAXIS',
    });
  }
  const npix = shape.length === 0 ? 0 : shape.reduce((a, b) => a * b, 1);
  if ((data?.length ?? 0) !== npix) {
    throw new FitsError(
      'FITS_BAD_ARGUMENT',
      `image shape ${JSON.stringify(shape)} needs ${npix} pixels but data has ${data?.length ?? 0}`,
      { key: 'NAXIS' },
    );
  }
  if (hdu.compression && data && npix > 0) return encodeCompressed(hdu, primary, checksum);
  const format = data ? storageFormat(data) : { bitpix: 8 as const, bzero: 0 };
  const structural: Keyword[] = primary
    ? [['SIMPLE', true, 'conforms to FITS standard']]
    : [['XTENSION', 'IMAGE', 'Image extension']];
  structural.push(['BITPIX', format.bitpix, 'array data type']);
  structural.push(['NAXIS', data ? shape.length : 0, 'number of array dimensions']);
  if (data) {
    shape.forEach((n, i) => {
      structural.push([`NAXIS${i + 1}`, n]);
    });
  }
  if (primary) structural.push(['EXTEND', true]);
  else structural.push(['PCOUNT', 0, 'number of parameters'], ['GCOUNT', 1, 'number of groups']);
  const extra: Keyword[] = [];
  if (format.bzero !== 0) {
    extra.push(['BZERO', format.bzero, 'offset for unsigned (or signed byte) integers']);
    extra.push(['BSCALE', 1, 'default scaling factor']);
  }
  if (hdu.blank !== undefined && format.bitpix > 0) {
    extra.push(['BLANK', rawBlank(hdu.blank, format), 'value of undefined pixels']);
  }
  const h = buildHeader(structural, hdu.header, extra, hdu.name, checksum);
  const bytes = data ? encodePixels(data) : new Uint8Array(0);
  const chunks = padded([bytes], bytes.byteLength);
  return {
    header: checksum ? finishChecksum(h, chunks) : h.toBytes(),
    data: chunks,
    dataLength: bytes.byteLength,
  };
}

function encodeCompressed(hdu: ImageHduInput, primary: boolean, checksum: boolean): EncodedHdu {
  const data = hdu.data!;
  const shape = hdu.shape ?? [data.length];
  // A compressed image is always an extension (an empty primary is put in front).
  const table = compressImage(data, shape, hdu.compression!, primary);
  const heapBytes = table.heap.byteLength;
  const structural: Keyword[] = [
    ['XTENSION', 'BINTABLE', 'binary table extension'],
    ['BITPIX', 8, '8-bit bytes'],
    ['NAXIS', 2, '2-dimensional binary table'],
    ['NAXIS1', table.rowBytes, 'width of table in bytes'],
    ['NAXIS2', table.nrows, 'number of rows in table'],
    ['PCOUNT', heapBytes, 'size of special data area'],
    ['GCOUNT', 1, 'one data group (required keyword)'],
    ['TFIELDS', 1, 'number of fields in each row'],
  ];
  for (const [k, v] of table.keywords) structural.push([k, v]);
  const format = storageFormat(data);
  const extra: Keyword[] = [];
  if (format.bzero !== 0) {
    extra.push(['BZERO', format.bzero, 'offset for unsigned (or signed byte) integers']);
    extra.push(['BSCALE', 1, 'default scaling factor']);
  }
  if (hdu.blank !== undefined && format.bitpix > 0) {
    extra.push(['BLANK', rawBlank(hdu.blank, format), 'value of undefined pixels']);
  }
  const name =
    hdu.name ?? (hdu.header?.getString('EXTNAME') === undefined ? 'COMPRESSED_IMAGE' : undefined);
  const h = buildHeader(structural, hdu.header, extra, name, checksum);
  const length = table.main.byteLength + heapBytes;
  const chunks = padded([table.main, table.heap], length);
  return {
    header: checksum ? finishChecksum(h, chunks) : h.toBytes(),
    data: chunks,
    dataLength: length,
  };
}

function encodeBinTable(hdu: BinTableHduInput, checksum: boolean): EncodedHdu {
  const table = encodeTable(hdu.columns, hdu.nrows);
  const structural: Keyword[] = [
    ['XTENSION', 'BINTABLE', 'binary table extension'],
    ['BITPIX', 8, 'array data type'],
    ['NAXIS', 2, 'number of array dimensions'],
    ['NAXIS1', table.rowBytes, 'length of dimension 1'],
    ['NAXIS2', table.nrows, 'length of dimension 2'],
    ['PCOUNT', table.heap.byteLength, 'number of group parameters'],
    ['GCOUNT', 1, 'number of groups'],
    ['TFIELDS', hdu.columns.length, 'number of table fields'],
  ];
  for (const [k, v] of table.keywords) structural.push([k, v]);
  const h = buildHeader(structural, hdu.header, [], hdu.name, checksum);
  const length = table.main.byteLength + table.heap.byteLength;
  const chunks = padded([table.main, table.heap], length);
  return {
    header: checksum ? finishChecksum(h, chunks) : h.toBytes(),
    data: chunks,
    dataLength: length,
  };
}

function encodeAll(hdus: readonly HduInput[], options: WriteOptions): EncodedHdu[] {
  const checksum = options.checksum !== false;
  const list: HduInput[] = [...hdus];
  // The primary HDU must be a plain image: put an empty one in front when needed.
  const first = list[0];
  if (
    !first ||
    isTable(first) ||
    first.type === 'other' ||
    ('compression' in first && first.compression)
  ) {
    list.unshift({ type: 'image', data: null });
  }
  return list.map((hdu, i) => {
    try {
      if (hdu.type === 'other') {
        throw new FitsError('FITS_UNSUPPORTED', `cannot write an undecoded HDU (${hdu.reason})`);
      }
      if (isTable(hdu)) return encodeBinTable(hdu, checksum);
      return encodeImage(hdu as ImageHduInput, i === 0, checksum);
    } catch (e) {
      if (e instanceof FitsError && e.hdu === undefined) {
        throw new FitsError(e.code, e.message, {
          hdu: i,
          ...(e.key ? { key: e.key } : {}),
          cause: e,
        });
      }
      throw e;
    }
  });
}

/**
 * Encodes HDUs as a FITS file in memory. The first HDU becomes the primary HDU (an empty
 * primary is inserted when the first is a table or compressed). DATASUM/CHECKSUM are
 * written unless `checksum: false`.
 */
export function fitsToBytes(hdus: readonly HduInput[], options: WriteOptions = {}): Uint8Array {
  const encoded = encodeAll(hdus, options);
  let total = 0;
  for (const e of encoded) total += e.header.byteLength + padToBlock(e.dataLength);
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of encoded) {
    out.set(e.header, at);
    at += e.header.byteLength;
    for (const chunk of e.data) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
  }
  return out;
}

/**
 * Writes HDUs to `path` atomically: the bytes go to a temporary file in the same
 * directory, are flushed to disk, and the file is renamed over `path`. On any error the
 * temporary file is removed and `path` is untouched. See {@link fitsToBytes}.
 */
export async function writeFits(
  path: string,
  hdus: readonly HduInput[],
  options: WriteOptions = {},
): Promise<void> {
  // Encode first: a bad input fails before any file is created.
  const encoded = encodeAll(hdus, options);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, 'wx');
    for (const e of encoded) {
      await handle.write(e.header);
      for (const chunk of e.data) await handle.write(chunk);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (cause) {
    if (handle) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new FitsError('FITS_IO', `cannot write the file: ${(cause as Error).message}`, {
      file: path,
      cause,
    });
  }
}
