/**
 * Writing FITS files: `fitsToBytes` (in memory), `fitsChunks` (the file as a stream of
 * chunks, for uploads) and `writeFits` (atomic: a temporary file in the target
 * directory, fsync, then rename; nothing is left on error).
 *
 * Pixels are never encoded as a whole: each 4 MiB chunk is byte-swapped and summed for
 * DATASUM in one pass of the swap-sum kernel while it is in cache, then copied out or
 * written (the next chunk is encoded while the previous one is being written).
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
import { BLOCK_LENGTH, Header } from './header.ts';
import { bytesPerPixel, rawBlank, storageFormat } from './image.ts';
import { padToBlock } from './structure.ts';
import {
  acquireKernel,
  CHUNK_BYTES,
  type Lanes,
  lanesToSum,
  newLanes,
  releaseKernel,
  type SwapSumKernel,
} from './swap-sum.ts';

/** Options for {@link writeFits}, {@link fitsToBytes} and {@link fitsChunks}. */
export interface WriteOptions {
  /** Write DATASUM and CHECKSUM in every HDU (default true). */
  readonly checksum?: boolean;
}

/** Structural keywords the writer always generates itself (input cards are dropped). */
const STRUCTURAL =
  /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|GROUPS|BSCALE|BZERO|BLANK|CHECKSUM|DATASUM|END|TFIELDS|T(TYPE|FORM|UNIT|NULL|SCAL|ZERO|DIM)\d+|THEAP|Z(IMAGE|SIMPLE|TENSION|EXTEND|BITPIX|NAXIS\d*|TILE\d+|CMPTYPE|NAME\d+|VAL\d+|QUANTIZ|DITHER0|PCOUNT|GCOUNT|BLANK|MASKCMP|BLOCKED|HECKSUM|DATASUM))$/;

/**
 * The data unit of one HDU to write: native pixels (byte-swapped and summed chunk by
 * chunk as they are written) or bytes already in FITS order (tables, compressed images).
 */
type DataSource =
  | {
      readonly kind: 'pixels';
      readonly bytes: Uint8Array;
      readonly size: 1 | 2 | 4 | 8;
      /** Flip the sign bit (unsigned and signed-byte conventions). */
      readonly flip: boolean;
    }
  | { readonly kind: 'bytes'; readonly chunks: readonly Uint8Array[] };

/**
 * One HDU ready to write: its header (CHECKSUM/DATASUM placeholders when `checksum`)
 * and its data. The header's byte length does not change when the sums are filled in.
 */
interface PlannedHdu {
  readonly header: Header;
  readonly headerLength: number;
  readonly data: DataSource;
  /** Data bytes without the padding to 2880. */
  readonly dataLength: number;
  readonly checksum: boolean;
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

/** The header bytes with DATASUM and CHECKSUM filled in (edited in place after the sum). */
function finishChecksum(h: Header, datasum: number): Uint8Array {
  h.set('DATASUM', String(datasum));
  h.set('CHECKSUM', '0000000000000000');
  const bytes = h.toBytes();
  const sum = onesComplementSum(bytes, datasum);
  const encoded = encodeChecksum(sum);
  const at = findCard(bytes, 'CHECKSUM');
  for (let i = 0; i < 16; i++) bytes[at + 11 + i] = encoded.charCodeAt(i);
  return bytes;
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

function planned(
  header: Header,
  data: DataSource,
  dataLength: number,
  checksum: boolean,
): PlannedHdu {
  return { header, headerLength: header.toBytes().byteLength, data, dataLength, checksum };
}

function isTable(hdu: HduInput): hdu is BinTableHduInput {
  return hdu.type === 'bintable';
}

function planImage(hdu: ImageHduInput, primary: boolean, checksum: boolean): PlannedHdu {
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
  if (hdu.compression && data && npix > 0) return planCompressed(hdu, primary, checksum);
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
  const source: DataSource = data
    ? {
        kind: 'pixels',
        bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        size: bytesPerPixel(format.bitpix) as 1 | 2 | 4 | 8,
        flip: format.bzero !== 0,
      }
    : { kind: 'bytes', chunks: [] };
  return planned(h, source, data ? data.byteLength : 0, checksum);
}

function planCompressed(hdu: ImageHduInput, primary: boolean, checksum: boolean): PlannedHdu {
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
  return planned(h, { kind: 'bytes', chunks: [table.main, table.heap] }, length, checksum);
}

function planBinTable(hdu: BinTableHduInput, checksum: boolean): PlannedHdu {
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
  return planned(h, { kind: 'bytes', chunks: [table.main, table.heap] }, length, checksum);
}

function planAll(hdus: readonly HduInput[], options: WriteOptions): PlannedHdu[] {
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
      if (isTable(hdu)) return planBinTable(hdu, checksum);
      return planImage(hdu as ImageHduInput, i === 0, checksum);
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

/** Zeros for the padding of data units (never written to). */
const ZEROS = new Uint8Array(BLOCK_LENGTH);

/** A piece of the file: `bytes` belong at byte offset `at`. */
interface Piece {
  readonly at: number;
  readonly bytes: Uint8Array;
}

/**
 * The bytes of the file as positioned pieces. Pixels are encoded one chunk at a time in
 * the kernel's two slots, alternately, and summed while in cache: a piece stays valid
 * until the generator has been resumed twice, so a consumer may write piece t while
 * piece t + 1 is encoded. With `headerFirst` each HDU's data are summed in a first pass
 * (no encoding) so its finished header can come before its data (a sequential stream);
 * otherwise the header comes after its data, at its earlier offset (one pass).
 */
function* pieces(
  hdus: readonly PlannedHdu[],
  kernel: SwapSumKernel,
  headerFirst: boolean,
): Generator<Piece, void, undefined> {
  // Pieces yielded so far: the next one is encoded in slot (count & 1), which held piece
  // count - 2 (already consumed by the rule above).
  let count = 0;
  let at = 0;
  for (const hdu of hdus) {
    const headerAt = at;
    at += hdu.headerLength;
    if (headerFirst) {
      let bytes: Uint8Array;
      if (hdu.checksum) {
        const lanes = newLanes();
        sumData(hdu.data, kernel, (count & 1) as 0 | 1, lanes);
        bytes = finishChecksum(hdu.header, lanesToSum(lanes));
      } else {
        bytes = hdu.header.toBytes();
      }
      yield { at: headerAt, bytes };
      count++;
    }
    const lanes = newLanes();
    let offset = 0;
    const { data } = hdu;
    if (data.kind === 'pixels') {
      const n = data.bytes.byteLength;
      for (let start = 0; start < n; start += CHUNK_BYTES) {
        const src = data.bytes.subarray(start, Math.min(n, start + CHUNK_BYTES));
        const out = kernel.encode(src, data.size, data.flip, (count & 1) as 0 | 1, lanes, offset);
        yield { at: at + offset, bytes: out };
        count++;
        offset += out.byteLength;
      }
    } else {
      for (const chunk of data.chunks) {
        for (let start = 0; start < chunk.byteLength; start += CHUNK_BYTES) {
          const piece = chunk.subarray(start, Math.min(chunk.byteLength, start + CHUNK_BYTES));
          // Already in FITS order: summed in a slot, written from the caller's memory.
          if (!headerFirst && hdu.checksum) {
            kernel.encode(piece, 1, false, (count & 1) as 0 | 1, lanes, offset, false);
          }
          yield { at: at + offset, bytes: piece };
          count++;
          offset += piece.byteLength;
        }
      }
    }
    const pad = padToBlock(hdu.dataLength) - hdu.dataLength;
    if (pad > 0) {
      yield { at: at + offset, bytes: ZEROS.subarray(0, pad) };
      count++;
    }
    at += hdu.dataLength + pad;
    if (!headerFirst) {
      const bytes = hdu.checksum
        ? finishChecksum(hdu.header, lanesToSum(lanes))
        : hdu.header.toBytes();
      yield { at: headerAt, bytes };
      count++;
    }
  }
}

/** Adds the lane sums of an HDU's encoded data (nothing stored) using slot `slot`. */
function sumData(data: DataSource, kernel: SwapSumKernel, slot: 0 | 1, lanes: Lanes): void {
  let offset = 0;
  const chunks = data.kind === 'pixels' ? [data.bytes] : data.chunks;
  const size = data.kind === 'pixels' ? data.size : 1;
  const flip = data.kind === 'pixels' && data.flip;
  for (const chunk of chunks) {
    for (let start = 0; start < chunk.byteLength; start += CHUNK_BYTES) {
      const piece = chunk.subarray(start, Math.min(chunk.byteLength, start + CHUNK_BYTES));
      kernel.encode(piece, size, flip, slot, lanes, offset, false);
      offset += piece.byteLength;
    }
  }
}

/** Total file length of planned HDUs. */
function fileLength(hdus: readonly PlannedHdu[]): number {
  let total = 0;
  for (const h of hdus) total += h.headerLength + padToBlock(h.dataLength);
  return total;
}

/**
 * Encodes HDUs as a FITS file in memory. The first HDU becomes the primary HDU (an empty
 * primary is inserted when the first is a table or compressed). DATASUM/CHECKSUM are
 * written unless `checksum: false`. Pixels are encoded straight into the result (one
 * copy; see {@link fitsChunks} to avoid holding the whole file).
 */
export function fitsToBytes(hdus: readonly HduInput[], options: WriteOptions = {}): Uint8Array {
  const plan = planAll(hdus, options);
  const out = new Uint8Array(fileLength(plan));
  const kernel = acquireKernel();
  try {
    for (const { at, bytes } of pieces(plan, kernel, false)) out.set(bytes, at);
  } finally {
    releaseKernel(kernel);
  }
  return out;
}

/**
 * A FITS file as a sequence of byte chunks, in file order, for writers that stream
 * (sockets, multipart uploads, hashes): `byteLength` is the file's length, known before
 * anything is encoded. Each chunk is a view of reused memory and **stays valid only
 * until the iteration has advanced twice past it** (so one chunk can be written while the
 * next is encoded); copy a chunk to keep it longer (a consumer that queues chunks, such
 * as `Readable.from`, must copy).
 */
export interface FitsChunks extends Iterable<Uint8Array> {
  /** Total bytes the iteration yields. */
  readonly byteLength: number;
}

/**
 * Encodes HDUs as {@link FitsChunks} (same file as {@link fitsToBytes}). Inputs are
 * checked now (a bad input throws here, before any chunk); pixels are encoded during the
 * iteration, which reads each HDU's pixels twice when checksums are on (the DATASUM
 * must precede the data), and must not change while it runs.
 */
export function fitsChunks(hdus: readonly HduInput[], options: WriteOptions = {}): FitsChunks {
  const plan = planAll(hdus, options);
  return {
    byteLength: fileLength(plan),
    *[Symbol.iterator](): Generator<Uint8Array, void, undefined> {
      const kernel = acquireKernel();
      try {
        for (const piece of pieces(plan, kernel, true)) yield piece.bytes;
      } finally {
        releaseKernel(kernel);
      }
    },
  };
}

type Handle = Awaited<ReturnType<typeof open>>;

async function writeAt(handle: Handle, bytes: Uint8Array, at: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, at + done);
    done += bytesWritten;
  }
}

/**
 * Writes HDUs to `path` atomically: the bytes go to a temporary file in the same
 * directory, are flushed to disk, and the file is renamed over `path`. On any error the
 * temporary file is removed and `path` is untouched. See {@link fitsToBytes}.
 *
 * Pixels are encoded one chunk at a time while the previous chunk is being written (no
 * copy of the whole file in memory); each HDU's header is written after its data, once
 * DATASUM is known.
 */
export async function writeFits(
  path: string,
  hdus: readonly HduInput[],
  options: WriteOptions = {},
): Promise<void> {
  // Plan first: a bad input fails before any file is created.
  const plan = planAll(hdus, options);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: Handle | undefined;
  const kernel = acquireKernel();
  let pending: Promise<void> | undefined;
  try {
    handle = await open(temp, 'wx');
    const fh = handle;
    for (const { at, bytes } of pieces(plan, kernel, false)) {
      // At most one write in flight: the generator encodes the next piece meanwhile.
      if (pending) await pending;
      pending = writeAt(fh, bytes, at);
    }
    if (pending) await pending;
    pending = undefined;
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (cause) {
    if (pending) await pending.catch(() => undefined);
    if (handle) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new FitsError('FITS_IO', `cannot write the file: ${(cause as Error).message}`, {
      file: path,
      cause,
    });
  } finally {
    releaseKernel(kernel);
  }
}
