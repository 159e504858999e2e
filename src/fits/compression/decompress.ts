/**
 * Decompressing tile-compressed images, whole or a box of them (only the tiles that
 * overlap the box are decoded).
 */

import type { FitsErrorContext } from '../errors.ts';
import { FitsError } from '../errors.ts';
import type { CompressionInfo, ImageHdu } from '../hdu.ts';
import type { Header } from '../header.ts';
import { applyScaling, type ImageArray } from '../image.ts';
import {
  allocatePixels,
  decodeTile,
  type TiledImage,
  tileBox,
  tiledImage,
  uncompressedHeader,
} from './tiles.ts';

/** Options for {@link decompressImage}. */
export interface DecompressOptions {
  readonly context: FitsErrorContext;
  /** Apply BSCALE/BZERO of the uncompressed header (default true). */
  readonly scale?: boolean;
  /** Decode into SharedArrayBuffer memory (see ReadOptions.sharedMemory; default false). */
  readonly shared?: boolean;
}

/**
 * Decompresses a ZIMAGE binary table (its header and data unit: main table + heap) into
 * an image HDU with the reconstructed uncompressed header.
 */
export function decompressImage(
  header: Header,
  data: Uint8Array,
  options: DecompressOptions,
): ImageHdu {
  const { context } = options;
  const t = tiledImage(header, context);
  const image = uncompressedHeader(header);
  const main = data.subarray(0, t.table.rowBytes * t.table.nrows);
  const heapStart = t.table.heapOffset;
  const heap = heapReader(data, heapStart, context);
  const raw = decodeRegion(
    t,
    main,
    heap,
    t.naxes.map(() => 0),
    t.naxes,
    context,
    options.shared === true,
  );
  return finishImage(image, t, raw, options.scale !== false);
}

/** Returns `heap(offset, length)` over an in-memory data unit, bounds-checked. */
export function heapReader(
  data: Uint8Array,
  heapStart: number,
  context: FitsErrorContext,
): (offset: number, length: number) => Uint8Array {
  return (offset, length) => {
    const start = heapStart + offset;
    if (offset < 0 || start + length > data.byteLength) {
      throw new FitsError(
        'FITS_DECOMPRESS',
        `a tile points to heap bytes ${offset}..${offset + length}, beyond the data unit; the file is corrupt`,
        { ...context, key: 'COMPRESSED_DATA' },
      );
    }
    return data.subarray(start, start + length);
  };
}

/** Wraps decoded raw pixels as an image HDU, applying BSCALE/BZERO/BLANK if asked. */
export function finishImage(
  image: Header,
  t: TiledImage,
  raw: ImageArray,
  scale: boolean,
): ImageHdu {
  const compression: CompressionInfo = {
    type: t.cmptype,
    tile: t.tile,
    ...(t.quantize ? { quantize: t.quantize } : {}),
  };
  const bscale = scale ? (image.getNumber('BSCALE') ?? 1) : 1;
  const z = image.get('BZERO');
  const bzero = scale ? (typeof z === 'bigint' ? z : (image.getNumber('BZERO') ?? 0)) : 0;
  const blank = image.get('BLANK');
  const decoded = applyScaling(
    raw,
    t.zbitpix,
    typeof blank === 'number' || typeof blank === 'bigint'
      ? { bscale, bzero, blank }
      : { bscale, bzero },
  );
  const hdu: ImageHdu = {
    type: 'image',
    header: image,
    shape: t.naxes,
    data: decoded.data,
    compression,
  };
  return decoded.blank === undefined ? hdu : { ...hdu, blank: decoded.blank };
}

/** Indices of the tiles overlapping a box (start and size per axis, pixels, 0-based). */
export function tilesInBox(
  t: TiledImage,
  start: readonly number[],
  size: readonly number[],
): number[] {
  const ndim = t.naxes.length;
  const lo: number[] = [];
  const hi: number[] = [];
  for (let a = 0; a < ndim; a++) {
    if (size[a]! <= 0) return [];
    lo.push(Math.floor(start[a]! / t.tile[a]!));
    hi.push(Math.floor((start[a]! + size[a]! - 1) / t.tile[a]!));
  }
  const out: number[] = [];
  const k = lo.slice();
  for (;;) {
    let index = 0;
    let stride = 1;
    for (let a = 0; a < ndim; a++) {
      index += k[a]! * stride;
      stride *= t.tilesPerAxis[a]!;
    }
    out.push(index);
    let a = 0;
    while (a < ndim) {
      k[a]!++;
      if (k[a]! <= hi[a]!) break;
      k[a] = lo[a]!;
      a++;
    }
    if (a === ndim) break;
  }
  return out;
}

/**
 * Decodes the pixels of a box (raw ZBITPIX values, floats unquantized) from the tiles
 * that overlap it, into a fresh array (on a SharedArrayBuffer when `shared`). The box
 * must lie inside the image.
 */
export function decodeRegion(
  t: TiledImage,
  main: Uint8Array,
  heap: (offset: number, length: number) => Uint8Array,
  start: readonly number[],
  size: readonly number[],
  context: FitsErrorContext,
  shared = false,
): ImageArray {
  const ndim = t.naxes.length;
  const total = size.reduce((a, b) => a * b, ndim === 0 ? 0 : 1);
  const out = allocate(t, total, context, shared);
  if (total === 0) return out;
  const maxTile = t.tile.reduce((a, b) => a * b, 1);
  const scratch = allocate(t, maxTile, context);
  // Strides of the output box.
  const stride: number[] = [];
  let s = 1;
  for (let a = 0; a < ndim; a++) {
    stride.push(s);
    s *= size[a]!;
  }
  for (const index of tilesInBox(t, start, size)) {
    const box = tileBox(t, index);
    const npix = box.size.reduce((a, b) => a * b, 1);
    // Tiles of whole box rows lying inside the box are contiguous in the output.
    const inside = box.start.every(
      (b, a) => b >= start[a]! && b + box.size[a]! <= start[a]! + size[a]!,
    );
    if (inside && ndim <= 2 && box.size[0] === size[0]) {
      const offset = ndim === 1 ? 0 : (box.start[1]! - start[1]!) * size[0]!;
      decodeTile(t, index, main, heap, out.subarray(offset, offset + npix), context);
      continue;
    }
    const tileData = scratch.subarray(0, npix);
    decodeTile(t, index, main, heap, tileData, context);
    copyIntersection(tileData, box, out, start, size, stride);
  }
  return out;
}

/**
 * Allocates pixels, turning an impossible allocation (a corrupt ZNAXISn or ZTILEn that
 * still passes the consistency checks) into a FitsError instead of a RangeError.
 */
function allocate(t: TiledImage, n: number, context: FitsErrorContext, shared = false): ImageArray {
  try {
    return allocatePixels(t.zbitpix, n, shared);
  } catch (cause) {
    throw new FitsError(
      'FITS_BAD_SIZE',
      `cannot allocate ${n} pixels for the decompressed image; ZNAXISn or ZTILEn is corrupt`,
      { ...context, key: 'ZNAXIS', cause },
    );
  }
}

/** Copies the part of a decoded tile that lies in the box into the box's array. */
function copyIntersection(
  tile: ImageArray,
  box: { start: number[]; size: number[] },
  out: ImageArray,
  start: readonly number[],
  size: readonly number[],
  stride: readonly number[],
): void {
  const ndim = box.start.length;
  const lo: number[] = [];
  const hi: number[] = [];
  for (let a = 0; a < ndim; a++) {
    lo.push(Math.max(box.start[a]!, start[a]!));
    hi.push(Math.min(box.start[a]! + box.size[a]!, start[a]! + size[a]!));
    if (hi[a]! <= lo[a]!) return;
  }
  const width = hi[0]! - lo[0]!;
  const p = lo.slice();
  for (;;) {
    let src = 0;
    let tstride = 1;
    let dst = 0;
    for (let a = 0; a < ndim; a++) {
      src += (p[a]! - box.start[a]!) * tstride;
      tstride *= box.size[a]!;
      dst += (p[a]! - start[a]!) * stride[a]!;
    }
    (out as Float64Array).set((tile as Float64Array).subarray(src, src + width), dst);
    let a = 1;
    while (a < ndim) {
      p[a]!++;
      if (p[a]! < hi[a]!) break;
      p[a] = lo[a]!;
      a++;
    }
    if (a >= ndim) break;
  }
}
