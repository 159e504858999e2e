/**
 * Reads only the headers of a FITS file (data units are skipped, not read), so a
 * sub-box read of an exposure can learn the layout (xy0, sizes, mask planes, PSF keys)
 * without loading the pixels.
 */

import { open } from 'node:fs/promises';
import { BLOCK_LENGTH, Header } from '../fits/header.ts';
import { ExposureError } from './exposure-errors.ts';

/** One HDU's header and where its data unit lies in the file. */
export interface HeaderExtent {
  /** HDU index (0 = primary). */
  readonly index: number;
  readonly header: Header;
  /** Byte offset of the data unit. */
  readonly dataStart: number;
  /** Length of the data unit in bytes, without padding. */
  readonly dataBytes: number;
}

const CARD = 80;

/**
 * Headers of every HDU of the FITS file at `path`, read block by block; data units are
 * skipped using BITPIX, NAXISn, PCOUNT and GCOUNT. Throws EXPOSURE_IO when the file
 * cannot be opened and EXPOSURE_BAD_FITS when it is not FITS or is truncated.
 */
export async function readFitsHeaders(path: string): Promise<HeaderExtent[]> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (cause) {
    throw new ExposureError('EXPOSURE_IO', `cannot open the file: ${(cause as Error).message}`, {
      file: path,
      cause,
    });
  }
  try {
    const size = (await fh.stat()).size;
    const out: HeaderExtent[] = [];
    const block = new Uint8Array(BLOCK_LENGTH);
    let offset = 0;
    while (offset + BLOCK_LENGTH <= size) {
      const index = out.length;
      const images: string[] = [];
      let ended = false;
      let at = offset;
      while (!ended) {
        if (at + BLOCK_LENGTH > size) {
          throw new ExposureError('EXPOSURE_BAD_FITS', 'the file ends inside a header', {
            file: path,
            hdu: index,
          });
        }
        await fh.read(block, 0, BLOCK_LENGTH, at);
        at += BLOCK_LENGTH;
        for (let c = 0; c < BLOCK_LENGTH; c += CARD) {
          const image = String.fromCharCode(...block.subarray(c, c + CARD));
          if (image.startsWith('END') && image.slice(3).trim() === '') {
            ended = true;
            break;
          }
          images.push(image);
        }
      }
      const first = images[0] ?? '';
      if (index === 0 ? !first.startsWith('SIMPLE  =') : !first.startsWith('XTENSION=')) {
        if (index === 0) {
          throw new ExposureError('EXPOSURE_BAD_FITS', 'this is not a FITS file (no SIMPLE card)', {
            file: path,
          });
        }
        break;
      }
      const header = Header.fromCardImages(images);
      const dataBytes = dataUnitBytes(header, path, index);
      out.push({ index, header, dataStart: at, dataBytes });
      offset = at + Math.ceil(dataBytes / BLOCK_LENGTH) * BLOCK_LENGTH;
    }
    if (out.length === 0) {
      throw new ExposureError('EXPOSURE_BAD_FITS', 'the file is empty or not FITS', { file: path });
    }
    return out;
  } finally {
    await fh.close();
  }
}

function dataUnitBytes(header: Header, file: string, hdu: number): number {
  const int = (key: string, fallback?: number): number => {
    const v = header.get(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || (v < 0 && key !== 'BITPIX')) {
      throw new ExposureError('EXPOSURE_BAD_FITS', `${key} is missing or not a valid integer`, {
        file,
        hdu,
        key,
      });
    }
    return v;
  };
  const bitpix = int('BITPIX');
  const naxis = int('NAXIS');
  if (naxis === 0) return 0;
  let n = 1;
  for (let i = 1; i <= naxis; i++) n *= int(`NAXIS${i}`);
  return (Math.abs(bitpix) / 8) * int('GCOUNT', 1) * (int('PCOUNT', 0) + n);
}

/** The EXTNAME of a header, trimmed and upper-cased, or '' when absent. */
export function extName(header: Header): string {
  const v = header.get('EXTNAME');
  return typeof v === 'string' ? v.trim().toUpperCase() : '';
}
