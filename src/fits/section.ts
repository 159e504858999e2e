/**
 * Sub-image ("section") reads: a pixel box of one image HDU without reading the whole
 * file. Uncompressed images read only the byte ranges of the box's rows; tile-compressed
 * images read the tile table and only the tiles that overlap the box.
 */

import { open } from 'node:fs/promises';
import { decodeRegion, finishImage, heapReader, tilesInBox } from './compression/decompress.ts';
import { tiledImage, tileHeapRanges, uncompressedHeader } from './compression/tiles.ts';
import { FitsError, type FitsErrorContext, withContext } from './errors.ts';
import { findHduIndex, type HduSelector } from './hdu.ts';
import { BLOCK_LENGTH, type Header } from './header.ts';
import { applyScaling, type ImageArray, toNativeBytes, viewAs } from './image.ts';
import { imageScaling } from './reader.ts';
import {
  checkDataFits,
  checkFirstCard,
  type DataLayout,
  dataLayout,
  findHeaderEnd,
  headerFromBytes,
  padToBlock,
} from './structure.ts';

/** A pixel box: 0-based corner (x0, y0) and size, in pixels of the full image. */
export interface SectionBox {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
}

/** The pixels of a box, with the header of the HDU they came from. */
export interface ImageSection {
  /** The HDU's header (for compressed images, the uncompressed header). */
  readonly header: Header;
  /** [width, height]: pixel (x, y) of the box is `data[(x - x0) + width * (y - y0)]`. */
  readonly shape: readonly [number, number];
  /** Pixels in native order with BSCALE/BZERO applied, as `readFits` returns them. */
  readonly data: ImageArray;
  /** BLANK in the units of `data`, for integer data that kept its raw values. */
  readonly blank?: number | bigint;
}

type Handle = Awaited<ReturnType<typeof open>>;

async function readAt(
  fh: Handle,
  position: number,
  length: number,
  context: FitsErrorContext,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new FitsError(
        'FITS_TRUNCATED',
        `the file ends at byte ${position + done}; expected ${length - done} more bytes`,
        context,
      );
    }
    done += bytesRead;
  }
  return out;
}

interface Located {
  readonly header: Header;
  readonly dataStart: number;
  readonly layout: DataLayout;
  readonly index: number;
}

/** Reads headers one by one (data skipped) until `which` is found. */
async function locate(
  fh: Handle,
  size: number,
  which: HduSelector,
  file: string,
): Promise<Located> {
  const headers: Header[] = [];
  let offset = 0;
  for (let index = 0; offset < size; index++) {
    const context: FitsErrorContext = { file, hdu: index };
    if (index > 0 && size - offset < BLOCK_LENGTH) break;
    let bytes = await readAt(fh, offset, Math.min(BLOCK_LENGTH, size - offset), context);
    if (bytes.length < BLOCK_LENGTH) {
      throw new FitsError('FITS_TRUNCATED', 'the file ends inside a header', context);
    }
    checkFirstCard(bytes, 0, index === 0, context);
    let end = findHeaderEnd(bytes, 0);
    while (end < 0) {
      if (offset + bytes.length + BLOCK_LENGTH > size) {
        throw new FitsError(
          'FITS_NO_END',
          'the header has no END card before the end of the file',
          context,
        );
      }
      const more = await readAt(fh, offset + bytes.length, BLOCK_LENGTH, context);
      const grown = new Uint8Array(bytes.length + BLOCK_LENGTH);
      grown.set(bytes);
      grown.set(more, bytes.length);
      bytes = grown;
      end = findHeaderEnd(bytes, bytes.length - BLOCK_LENGTH);
    }
    const header = headerFromBytes(bytes, 0, end);
    const layout = withContext(context, () => dataLayout(header, context));
    const dataStart = offset + end;
    checkDataFits(layout, dataStart, size, context);
    headers.push(header);
    const matches =
      typeof which === 'number'
        ? which === index
        : (() => {
            try {
              return findHduIndex(headers, which, file) === index;
            } catch {
              return false;
            }
          })();
    if (matches) return { header, dataStart, layout, index };
    offset = dataStart + padToBlock(layout.bytes);
  }
  // Not found: let findHduIndex produce the standard error over what was seen.
  findHduIndex(headers, which, file);
  throw new FitsError('FITS_HDU_NOT_FOUND', 'HDU not found', { file });
}

function checkBox(box: SectionBox, nx: number, ny: number, context: FitsErrorContext): void {
  const { x0, y0, width, height } = box;
  const ok =
    [x0, y0, width, height].every(Number.isSafeInteger) &&
    x0 >= 0 &&
    y0 >= 0 &&
    width > 0 &&
    height > 0 &&
    x0 + width <= nx &&
    y0 + height <= ny;
  if (!ok) {
    throw new FitsError(
      'FITS_BAD_ARGUMENT',
      `section (x0=${x0}, y0=${y0}, ${width}x${height}) is not a non-empty integer box inside the ${nx}x${ny} image`,
      context,
    );
  }
}

/**
 * Reads the pixels of `box` (0-based, full-image pixel coordinates) from image HDU `hdu`
 * (index, EXTNAME or {name, ver}) of the file at `path`. Images with more than two axes
 * are read from their first plane. Only the needed bytes are read: the box's rows for
 * uncompressed images, the overlapping tiles for tile-compressed ones.
 */
export async function readImageSection(
  path: string,
  hdu: HduSelector,
  box: SectionBox,
  options: { readonly scale?: boolean } = {},
): Promise<ImageSection> {
  let fh: Handle;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new FitsError('FITS_IO', `cannot open the file: ${(cause as Error).message}`, {
      file: path,
      cause,
    });
  }
  try {
    const size = (await fh.stat()).size;
    const found = await locate(fh, size, hdu, path);
    const context: FitsErrorContext = { file: path, hdu: found.index };
    const { header, layout } = found;
    const xtension =
      found.index === 0
        ? 'IMAGE'
        : String(header.get('XTENSION') ?? '')
            .trim()
            .toUpperCase();
    if (xtension === 'BINTABLE' && header.get('ZIMAGE') === true) {
      return await compressedSection(fh, found, box, options.scale !== false, context);
    }
    if (xtension !== 'IMAGE' || layout.naxes.length < 2 || layout.groups) {
      throw new FitsError(
        'FITS_BAD_ARGUMENT',
        'sections can be read from 2-D (or higher) images only',
        context,
      );
    }
    const [nx, ny] = layout.naxes as [number, number];
    checkBox(box, nx, ny, context);
    const bpp = Math.abs(layout.bitpix) / 8;
    const rowBytes = box.width * bpp;
    const bytes = new Uint8Array(rowBytes * box.height);
    if (box.width === nx) {
      // Whole rows are contiguous on disk: one read.
      const at = found.dataStart + box.y0 * nx * bpp;
      bytes.set(await readAt(fh, at, bytes.length, context));
    } else {
      for (let r = 0; r < box.height; r++) {
        const at = found.dataStart + ((box.y0 + r) * nx + box.x0) * bpp;
        const { bytesRead } = await fh.read(bytes, r * rowBytes, rowBytes, at);
        if (bytesRead !== rowBytes)
          throw new FitsError('FITS_TRUNCATED', 'the file ends inside the image', context);
      }
    }
    const native = toNativeBytes(bytes, bpp, true);
    const scaling = withContext(context, () => imageScaling(header));
    const decoded = applyScaling(
      viewAs(native, layout.bitpix),
      layout.bitpix,
      options.scale === false
        ? scaling.blank === undefined
          ? { bscale: 1, bzero: 0 }
          : { bscale: 1, bzero: 0, blank: scaling.blank }
        : scaling,
    );
    const out: ImageSection = { header, shape: [box.width, box.height], data: decoded.data };
    return decoded.blank === undefined ? out : { ...out, blank: decoded.blank };
  } finally {
    await fh.close();
  }
}

async function compressedSection(
  fh: Handle,
  found: Located,
  box: SectionBox,
  scale: boolean,
  context: FitsErrorContext,
): Promise<ImageSection> {
  const t = withContext(context, () => tiledImage(found.header, context));
  if (t.naxes.length < 2) {
    throw new FitsError(
      'FITS_BAD_ARGUMENT',
      'sections can be read from 2-D (or higher) images only',
      context,
    );
  }
  checkBox(box, t.naxes[0]!, t.naxes[1]!, context);
  const start = t.naxes.map((_, a) => (a === 0 ? box.x0 : a === 1 ? box.y0 : 0));
  const size = t.naxes.map((_, a) => (a === 0 ? box.width : a === 1 ? box.height : 1));
  const main = await readAt(fh, found.dataStart, t.table.rowBytes * t.table.nrows, context);
  // Fetch only the heap ranges of the overlapping tiles, then decode from memory.
  const heapBase = found.dataStart + t.table.heapOffset;
  const ranges = new Map<number, Uint8Array>();
  const heapEnd = t.table.pcount - (t.table.heapOffset - t.table.rowBytes * t.table.nrows);
  for (const index of tilesInBox(t, start, size)) {
    for (const [offset, length] of tileHeapRanges(t, main, index)) {
      if (offset < 0 || offset + length > heapEnd) {
        throw new FitsError(
          'FITS_DECOMPRESS',
          `tile ${index} points beyond the heap; the file is corrupt`,
          {
            ...context,
            key: 'COMPRESSED_DATA',
          },
        );
      }
      if (!ranges.has(offset))
        ranges.set(offset, await readAt(fh, heapBase + offset, length, context));
    }
  }
  const heap = (offset: number, length: number): Uint8Array => {
    const bytes = ranges.get(offset);
    if (!bytes || bytes.length < length)
      return heapReader(new Uint8Array(0), 0, context)(offset, length);
    return bytes.subarray(0, length);
  };
  const raw = decodeRegion(t, main, heap, start, size, context);
  const image = finishImage(uncompressedHeader(found.header), t, raw, scale);
  const out: ImageSection = {
    header: image.header,
    shape: [box.width, box.height],
    data: image.data!,
  };
  return image.blank === undefined ? out : { ...out, blank: image.blank };
}
