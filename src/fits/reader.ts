/**
 * Reading FITS files: `readFits` (path or bytes) and `parseFits` (bytes).
 */

import { open } from 'node:fs/promises';
import { decodeTable, tableLayout } from './bintable.ts';
import { onesComplementSum } from './checksum.ts';
import { decompressImage } from './compression/decompress.ts';
import { FitsError, type FitsErrorContext, withContext } from './errors.ts';
import {
  type BinTableHdu,
  findHduIndex,
  type Hdu,
  type HduSelector,
  type ImageHdu,
} from './hdu.ts';
import { BLOCK_LENGTH, type Header } from './header.ts';
import { applyScaling, toNativeBytes, viewAs } from './image.ts';
import {
  checkDataFits,
  checkFirstCard,
  type DataLayout,
  dataLayout,
  findHeaderEnd,
  headerFromBytes,
  padToBlock,
  readHeaderAt,
} from './structure.ts';
import { acquireKernel, lanesToSum, newLanes, releaseKernel } from './swap-sum.ts';

/** Options for {@link readFits} and {@link parseFits}. */
export interface ReadOptions {
  /**
   * Verify DATASUM and CHECKSUM of every HDU that has them; a mismatch throws
   * `FITS_CHECKSUM`. HDUs without the keywords are accepted. Default false.
   */
  readonly verifyChecksum?: boolean;
  /**
   * Apply BSCALE/BZERO (and TSCALn/TZEROn) to integer data. Default true; false returns
   * the raw stored integers (unsigned conventions then stay signed).
   */
  readonly scale?: boolean;
  /** Decompress tile-compressed images (default true); false returns the ZIMAGE table. */
  readonly decompress?: boolean;
  /** Name used for the input in error messages (default: the path, or `'<bytes>'`). */
  readonly file?: string;
  /**
   * Put the pixels of image HDUs on SharedArrayBuffer memory (as src/image's pixel
   * buffers, which worker threads share without copying). From a path the data are read
   * straight into that memory and byte-swapped there; from bytes they are copied into it
   * once; tile-compressed images are decompressed into it. (Scaled integer images, whose
   * floats are computed, stay on ordinary memory.) Default false.
   */
  readonly sharedMemory?: boolean;
}

/** The HDUs of a FITS file, with lookup by index, EXTNAME and EXTVER. */
export class FitsFile {
  /** HDUs in file order; 0 is the primary HDU. */
  readonly hdus: readonly Hdu[];
  /** The path or label the file was read from. */
  readonly file: string;

  constructor(hdus: readonly Hdu[], file: string) {
    this.hdus = hdus;
    this.file = file;
  }

  /** The HDU at an index, or with an EXTNAME (case-insensitive) and optional EXTVER. */
  get(which: HduSelector): Hdu {
    const i = findHduIndex(
      this.hdus.map((h) => h.header),
      which,
      this.file,
    );
    return this.hdus[i]!;
  }

  /** Like {@link get}, but throws `FITS_HDU_NOT_FOUND` unless the HDU is an image. */
  image(which: HduSelector): ImageHdu {
    const hdu = this.get(which);
    if (hdu.type !== 'image') {
      throw new FitsError('FITS_HDU_NOT_FOUND', `HDU is a ${hdu.type}, not an image`, {
        file: this.file,
        hdu: typeof which === 'object' ? which.name : which,
      });
    }
    return hdu;
  }

  /** Like {@link get}, but throws `FITS_HDU_NOT_FOUND` unless the HDU is a binary table. */
  table(which: HduSelector): BinTableHdu {
    const hdu = this.get(which);
    if (hdu.type !== 'bintable') {
      throw new FitsError('FITS_HDU_NOT_FOUND', `HDU is a ${hdu.type}, not a binary table`, {
        file: this.file,
        hdu: typeof which === 'object' ? which.name : which,
      });
    }
    return hdu;
  }
}

/**
 * Reads a FITS file from a path (the whole file) or from bytes. Integer and float images
 * come back in native byte order with BSCALE/BZERO applied; tile-compressed images are
 * decompressed. Errors are {@link FitsError}s naming the file, HDU and keyword.
 *
 * From a path the headers are read first, then each data unit straight into the memory
 * of its result (image pixels are byte-swapped in place: one pass over the file's bytes).
 */
export async function readFits(
  source: string | Uint8Array,
  options: ReadOptions = {},
): Promise<FitsFile> {
  if (typeof source !== 'string') return parseFits(source, options);
  const file = options.file ?? source;
  const ioError = (cause: unknown, what: string): FitsError =>
    new FitsError('FITS_IO', `cannot ${what} the file: ${(cause as Error).message}`, {
      file,
      cause,
    });
  let fh: FileHandle;
  try {
    fh = await open(source, 'r');
  } catch (cause) {
    throw ioError(cause, 'read');
  }
  try {
    const reader = new PositionalReader(fh, file, ioError);
    const size = await reader.size();
    const extents = await scanFile(reader, size, file);
    const hdus: Hdu[] = [];
    for (const [index, extent] of extents.entries()) {
      const context = hduContext(extent.header, index, file);
      hdus.push(await readHdu(reader, size, extent, index, { ...options, file }, context));
    }
    return new FitsFile(hdus, file);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

type FileHandle = Awaited<ReturnType<typeof open>>;

/** Positional reads of an open file; OS errors become FITS_IO. */
class PositionalReader {
  constructor(
    private readonly fh: FileHandle,
    private readonly file: string,
    private readonly ioError: (cause: unknown, what: string) => FitsError,
  ) {}

  async size(): Promise<number> {
    try {
      return (await this.fh.stat()).size;
    } catch (cause) {
      throw this.ioError(cause, 'stat');
    }
  }

  /** Fills `into` from file offset `position`; throws FITS_TRUNCATED at end of file. */
  async readInto(into: Uint8Array, position: number, context: FitsErrorContext): Promise<void> {
    let done = 0;
    while (done < into.byteLength) {
      let got: number;
      try {
        // At most 1 GiB per call (one read(2) returns at most about 2 GiB anyway).
        const length = Math.min(into.byteLength - done, 1 << 30);
        ({ bytesRead: got } = await this.fh.read(into, done, length, position + done));
      } catch (cause) {
        throw this.ioError(cause, 'read');
      }
      if (got === 0) {
        throw new FitsError(
          'FITS_TRUNCATED',
          `the file ends at byte ${position + done}; expected ${into.byteLength - done} more bytes (it changed while being read?)`,
          { ...context, file: this.file },
        );
      }
      done += got;
    }
  }

  async read(position: number, length: number, context: FitsErrorContext): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    await this.readInto(out, position, context);
    return out;
  }
}

/** An HDU located in a file: its extent and the raw header blocks. */
interface FileExtent extends HduExtent {
  readonly headerBytes: Uint8Array;
}

/** How many bytes the padding check after the last HDU reads at a time. */
const PAD_CHECK_PIECE = 1 << 20;

/**
 * Locates every HDU of a file by reading its headers only; the same checks, in the same
 * order, as {@link scanHdus} on the whole file's bytes.
 */
async function scanFile(
  reader: PositionalReader,
  size: number,
  file: string,
): Promise<FileExtent[]> {
  const out: FileExtent[] = [];
  let offset = 0;
  while (offset < size) {
    const index = out.length;
    const context: FitsErrorContext = { file, hdu: index };
    if (index > 0 && (await onlyPaddingInFile(reader, offset, size, context))) break;
    if (offset + BLOCK_LENGTH > size) {
      throw new FitsError(
        'FITS_TRUNCATED',
        `only ${size - offset} bytes remain where a 2880-byte header block should start; the file is truncated`,
        context,
      );
    }
    let bytes = await reader.read(offset, BLOCK_LENGTH, context);
    checkFirstCard(bytes, 0, index === 0, context);
    let end = findHeaderEnd(bytes, 0);
    while (end < 0) {
      if (offset + bytes.byteLength + BLOCK_LENGTH > size) {
        throw new FitsError(
          'FITS_NO_END',
          'the header has no END card before the end of the file; the file is truncated or not FITS',
          context,
        );
      }
      // Headers are mostly one or two blocks; grow by doubling for long ones.
      const more = Math.min(
        bytes.byteLength,
        Math.floor((size - offset - bytes.byteLength) / BLOCK_LENGTH) * BLOCK_LENGTH,
      );
      const grown = new Uint8Array(bytes.byteLength + more);
      grown.set(bytes);
      await reader.readInto(grown.subarray(bytes.byteLength), offset + bytes.byteLength, context);
      const from = bytes.byteLength;
      bytes = grown;
      end = findHeaderEnd(bytes, from);
    }
    const header = headerFromBytes(bytes, 0, end);
    const dataStart = offset + end;
    const named = withContext(context, () => hduContext(header, index, file));
    const layout = withContext(named, () => dataLayout(header, named));
    checkDataFits(layout, dataStart, size, named);
    const next = dataStart + padToBlock(layout.bytes);
    out.push({
      header,
      headerStart: offset,
      dataStart,
      layout,
      next,
      headerBytes: bytes.subarray(0, end),
    });
    offset = next;
  }
  if (out.length === 0) {
    throw new FitsError('FITS_TRUNCATED', 'the file is empty', { file });
  }
  return out;
}

/** True when every byte from `start` to the end of the file is NUL or blank. */
async function onlyPaddingInFile(
  reader: PositionalReader,
  start: number,
  size: number,
  context: FitsErrorContext,
): Promise<boolean> {
  for (let at = start; at < size; at += PAD_CHECK_PIECE) {
    const piece = await reader.read(at, Math.min(PAD_CHECK_PIECE, size - at), context);
    if (!onlyPadding(piece, 0)) return false;
  }
  return true;
}

/** True for the HDUs {@link decodeImageHdu} decodes (primary arrays, IMAGE extensions). */
function isPlainImage(extent: HduExtent, index: number): boolean {
  const { header, layout } = extent;
  if (index === 0) return !(layout.groups || header.get('GROUPS') === true);
  const xtension = header.get('XTENSION');
  return typeof xtension === 'string' && xtension.trim().toUpperCase() === 'IMAGE';
}

/**
 * Reads one HDU's data unit into memory of its own (shared memory for image pixels when
 * asked) and decodes it there: image pixels are byte-swapped in place. (Swapping each
 * piece while the next one is read was measured too: no faster on the 2-core VM.)
 */
async function readHdu(
  reader: PositionalReader,
  fileSize: number,
  extent: FileExtent,
  index: number,
  options: ReadOptions,
  context: FitsErrorContext,
): Promise<Hdu> {
  const n = extent.layout.bytes;
  const shared = options.sharedMemory === true && isPlainImage(extent, index) && n > 0;
  const data = new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  await reader.readInto(data, extent.dataStart, context);
  const { header } = extent;
  if (options.verifyChecksum && (header.has('CHECKSUM') || header.has('DATASUM'))) {
    // The padding after the data counts too (missing padding counts as zeros).
    const padEnd = Math.min(extent.next, fileSize);
    const pad = await reader.read(extent.dataStart + n, padEnd - extent.dataStart - n, context);
    const lanes = newLanes();
    const kernel = acquireKernel();
    try {
      kernel.addLanes(data, lanes, 0);
      kernel.addLanes(pad, lanes, n);
    } finally {
      releaseKernel(kernel);
    }
    withContext(context, () => {
      checkSums(header, extent.headerBytes, lanesToSum(lanes), context);
    });
  }
  const local: HduExtent = { ...extent, headerStart: 0, dataStart: 0, next: padToBlock(n) };
  return withContext(context, () => decodeHdu(data, local, index, options, 'owned', context));
}

/** Parses FITS bytes (not modified). See {@link readFits}. */
export function parseFits(bytes: Uint8Array, options: ReadOptions = {}): FitsFile {
  return parseBytes(bytes, options);
}

/** One HDU's location in the file. */
export interface HduExtent {
  readonly header: Header;
  readonly headerStart: number;
  readonly dataStart: number;
  readonly layout: DataLayout;
  /** Offset of the next HDU (data padded to 2880). */
  readonly next: number;
}

/** Error context of an HDU: the file and the index, with EXTNAME when there is one. */
function hduContext(header: Header, index: number, file: string): FitsErrorContext {
  const extname = header.get('EXTNAME');
  return typeof extname === 'string' && extname.trim() !== ''
    ? { file, hdu: `${index} (${extname.trim()})` }
    : { file, hdu: index };
}

/** True when every byte from `start` is NUL or blank (harmless padding after the last HDU). */
function onlyPadding(bytes: Uint8Array, start: number): boolean {
  for (let i = start; i < bytes.byteLength; i++) {
    const b = bytes[i];
    if (b !== 0 && b !== 0x20) return false;
  }
  return true;
}

/** Locates every HDU (headers parsed, data sizes checked against the file length). */
export function scanHdus(bytes: Uint8Array, file: string): HduExtent[] {
  const out: HduExtent[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const index = out.length;
    if (index > 0 && onlyPadding(bytes, offset)) break;
    const context: FitsErrorContext = { file, hdu: index };
    const { header, dataStart } = readHeaderAt(bytes, offset, index === 0, context);
    const named = withContext(context, () => hduContext(header, index, file));
    const layout = withContext(named, () => dataLayout(header, named));
    checkDataFits(layout, dataStart, bytes.byteLength, named);
    const next = dataStart + padToBlock(layout.bytes);
    out.push({ header, headerStart: offset, dataStart, layout, next });
    offset = next;
  }
  if (out.length === 0) {
    throw new FitsError('FITS_TRUNCATED', 'the file is empty', { file });
  }
  return out;
}

function parseBytes(bytes: Uint8Array, options: ReadOptions): FitsFile {
  const file = options.file ?? '<bytes>';
  const extents = scanHdus(bytes, file);
  const hdus: Hdu[] = extents.map((extent, index) => {
    const context = hduContext(extent.header, index, file);
    return withContext(context, () => {
      if (options.verifyChecksum) verifyHduChecksum(bytes, extent, context);
      return decodeHdu(bytes, extent, index, options, 'borrowed', context);
    });
  });

  return new FitsFile(hdus, file);
}

/**
 * Verifies DATASUM and CHECKSUM of one HDU (when present). The sums cover the header
 * blocks and the data padded to 2880 bytes (missing padding counts as zeros).
 */
export function verifyHduChecksum(
  bytes: Uint8Array,
  extent: HduExtent,
  context: FitsErrorContext,
): void {
  const { header } = extent;
  if (!header.has('CHECKSUM') && !header.has('DATASUM')) return;
  const dataEnd = Math.min(bytes.byteLength, extent.dataStart + padToBlock(extent.layout.bytes));
  const datasum = onesComplementSum(bytes.subarray(extent.dataStart, dataEnd));
  checkSums(header, bytes.subarray(extent.headerStart, extent.dataStart), datasum, context);
}

/** Checks DATASUM against `datasum` and CHECKSUM over `headerBytes` plus the data. */
function checkSums(
  header: Header,
  headerBytes: Uint8Array,
  datasum: number,
  context: FitsErrorContext,
): void {
  if (header.has('DATASUM')) {
    const stored = header.get('DATASUM');
    const storedNumber = typeof stored === 'string' ? Number(stored.trim()) : Number(stored);
    if (storedNumber !== datasum) {
      throw new FitsError(
        'FITS_CHECKSUM',
        `DATASUM is ${String(stored)} but the data sum to ${datasum}; the data are corrupt`,
        { ...context, key: 'DATASUM' },
      );
    }
  }
  if (header.has('CHECKSUM')) {
    const total = onesComplementSum(headerBytes, datasum);
    if (total !== 0xffffffff && total !== 0) {
      throw new FitsError(
        'FITS_CHECKSUM',
        `the HDU checksum is 0x${total.toString(16)} instead of -0; the header or data are corrupt`,
        { ...context, key: 'CHECKSUM' },
      );
    }
  }
}

/**
 * Who owns the bytes handed to the decoder: the caller ('borrowed': never modified, image
 * pixels are copied) or the reader ('owned': image pixels are swapped in place).
 */
type BytesState = 'borrowed' | 'owned';

function decodeHdu(
  bytes: Uint8Array,
  extent: HduExtent,
  index: number,
  options: ReadOptions,
  state: BytesState,
  context: FitsErrorContext,
): Hdu {
  const { header, layout, dataStart } = extent;
  const xtension = index === 0 ? undefined : header.get('XTENSION');
  const kind = typeof xtension === 'string' ? xtension.trim().toUpperCase() : undefined;
  const data = bytes.subarray(dataStart, dataStart + layout.bytes);
  if (index === 0 && (layout.groups || header.get('GROUPS') === true)) {
    return { type: 'other', header, raw: data.slice(), reason: 'random groups are not supported' };
  }
  if (index === 0 || kind === 'IMAGE') {
    return decodeImageHdu(header, layout, data, options, state);
  }
  if (kind === 'BINTABLE') {
    if (options.decompress !== false && header.get('ZIMAGE') === true) {
      return decompressImage(header, data, {
        context,
        scale: options.scale !== false,
        shared: options.sharedMemory === true,
      });
    }
    const tl = tableLayout(header, context);
    const columns = decodeTable(data, options.scale === false ? unscaled(tl) : tl, context);
    return { type: 'bintable', header, nrows: tl.nrows, columns };
  }
  return {
    type: 'other',
    header,
    raw: data.slice(),
    reason: `XTENSION '${String(xtension)}' is not decoded by this reader`,
  };
}

function unscaled(layout: ReturnType<typeof tableLayout>): ReturnType<typeof tableLayout> {
  return { ...layout, columns: layout.columns.map((c) => ({ ...c, scale: 1, zero: 0 })) };
}

/** Reads BSCALE/BZERO/BLANK (bigint BZERO kept for the unsigned 64-bit convention). */
export function imageScaling(header: Header): {
  bscale: number;
  bzero: number | bigint;
  blank?: number | bigint;
} {
  const bscale = header.getNumber('BSCALE') ?? 1;
  const z = header.get('BZERO');
  const bzero = typeof z === 'bigint' ? z : (header.getNumber('BZERO') ?? 0);
  const blank = header.get('BLANK');
  return typeof blank === 'number' || typeof blank === 'bigint'
    ? { bscale, bzero, blank }
    : { bscale, bzero };
}

function decodeImageHdu(
  header: Header,
  layout: DataLayout,
  data: Uint8Array,
  options: ReadOptions,
  state: BytesState,
): ImageHdu {
  const shape = layout.naxes;
  if (layout.bytes === 0) return { type: 'image', header, shape, data: null };
  const size = Math.abs(layout.bitpix) / 8;
  const native = toNativeBytes(data, size, state === 'owned', options.sharedMemory === true);
  const raw = viewAs(native, layout.bitpix);
  const scaling = options.scale === false ? { bscale: 1, bzero: 0 } : imageScaling(header);
  const rawBlank = imageScaling(header).blank;
  const decoded = applyScaling(
    raw,
    layout.bitpix,
    rawBlank === undefined ? scaling : { ...scaling, blank: rawBlank },
  );
  const hdu: ImageHdu = { type: 'image', header, shape, data: decoded.data };
  return decoded.blank === undefined ? hdu : { ...hdu, blank: decoded.blank };
}
