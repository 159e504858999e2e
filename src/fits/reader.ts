/**
 * Reading FITS files: `readFits` (path or bytes) and `parseFits` (bytes).
 */

import { readFile } from 'node:fs/promises';
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
import type { Header } from './header.ts';
import { applyScaling, toNativeBytes, viewAs } from './image.ts';
import {
  checkDataFits,
  type DataLayout,
  dataLayout,
  padToBlock,
  readHeaderAt,
} from './structure.ts';

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
 */
export async function readFits(
  source: string | Uint8Array,
  options: ReadOptions = {},
): Promise<FitsFile> {
  if (typeof source !== 'string') return parseFits(source, options);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(source);
  } catch (cause) {
    throw new FitsError('FITS_IO', `cannot read the file: ${(cause as Error).message}`, {
      file: source,
      cause,
    });
  }
  // The buffer is ours, so pixels are byte-swapped in place instead of copied.
  return parseBytes(bytes, { ...options, file: options.file ?? source }, true);
}

/** Parses FITS bytes (not modified). See {@link readFits}. */
export function parseFits(bytes: Uint8Array, options: ReadOptions = {}): FitsFile {
  return parseBytes(bytes, options, false);
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

function parseBytes(bytes: Uint8Array, options: ReadOptions, owned: boolean): FitsFile {
  const file = options.file ?? '<bytes>';
  const extents = scanHdus(bytes, file);
  const hdus: Hdu[] = extents.map((extent, index) => {
    const context = hduContext(extent.header, index, file);
    return withContext(context, () => {
      if (options.verifyChecksum) verifyHduChecksum(bytes, extent, context);
      return decodeHdu(bytes, extent, index, options, owned, context);
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
  const hasChecksum = header.has('CHECKSUM');
  const hasDatasum = header.has('DATASUM');
  if (!hasChecksum && !hasDatasum) return;
  const dataEnd = Math.min(bytes.byteLength, extent.dataStart + padToBlock(extent.layout.bytes));
  const datasum = onesComplementSum(bytes.subarray(extent.dataStart, dataEnd));
  if (hasDatasum) {
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
  if (hasChecksum) {
    const total = onesComplementSum(bytes.subarray(extent.headerStart, extent.dataStart), datasum);
    if (total !== 0xffffffff && total !== 0) {
      throw new FitsError(
        'FITS_CHECKSUM',
        `the HDU checksum is 0x${total.toString(16)} instead of -0; the header or data are corrupt`,
        { ...context, key: 'CHECKSUM' },
      );
    }
  }
}

function decodeHdu(
  bytes: Uint8Array,
  extent: HduExtent,
  index: number,
  options: ReadOptions,
  owned: boolean,
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
    return decodeImageHdu(header, layout, data, options, owned);
  }
  if (kind === 'BINTABLE') {
    if (options.decompress !== false && header.get('ZIMAGE') === true) {
      return decompressImage(header, data, { context, scale: options.scale !== false });
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
  owned: boolean,
): ImageHdu {
  const shape = layout.naxes;
  if (layout.bytes === 0) return { type: 'image', header, shape, data: null };
  const size = Math.abs(layout.bitpix) / 8;
  const native = toNativeBytes(data, size, owned);
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
