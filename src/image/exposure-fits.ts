/**
 * Exposure <-> FITS, in LSST's multi-extension layout:
 *
 *   HDU 0  primary, no data: metadata, visit info (VISIT, DETECTOR, BAND, FILTER, EXPTIME,
 *          MJD-OBS, MJD-AVG, INSTRUME, BORE-RA, BORE-DEC, ROTPA), photometric calibration
 *          (PHOTCALM nJy/count, PHOTCALE, FLUXMAG0)
 *   HDU 1  EXTNAME IMAGE     float32; the WCS (file pixels, FITS 1-based CRPIX), xy0
 *   HDU 2  EXTNAME MASK      int32; mask plane dictionary as MP_<NAME> = bit
 *   HDU 3  EXTNAME VARIANCE  float32
 *   HDU 4  EXTNAME PSF       optional; see psf.ts
 *
 * xy0 is written as afw does: LTV1 = -x0, LTV2 = -y0 and the 'A' alternate WCS
 * (WCSNAMEA = 'PARENT', CTYPE1A = 'LINEAR', CRPIX1A = 1, CRVAL1A = x0, ...) in each
 * plane's header. The celestial WCS in the header describes **file** pixels (so astropy
 * and ds9 show the right sky positions); in memory it is shifted back to parent pixels.
 * Full description: docs/data-model.md.
 */

import { FitsError, isFitsError } from '../fits/errors.ts';
import type { HduInput, ImageHdu, ImageHduInput } from '../fits/hdu.ts';
import { Header } from '../fits/header.ts';
import type { ImageArray } from '../fits/image.ts';
import { type FitsFile, readFits } from '../fits/reader.ts';
import { readImageSection } from '../fits/section.ts';
import { type FitsChunks, fitsChunks, fitsToBytes, writeFits } from '../fits/writer.ts';
import { Box2I } from '../geom/box.ts';
import { GeomError } from '../geom/errors.ts';
import { Wcs } from '../geom/wcs.ts';
import { Exposure } from './exposure.ts';
import { ExposureError, type ExposureErrorContext } from './exposure-errors.ts';
import { extName, readFitsHeaders } from './exposure-fits-headers.ts';
import { ImageF } from './image.ts';
import { DEFAULT_MASK_PLANES, Mask, MaskPlaneDict } from './mask.ts';
import { MaskedImage } from './masked-image.ts';
import { PhotoCalib } from './photo-calib.ts';
import { allocFloat32, allocInt32, isShared } from './pixel-buffer.ts';
import { PSF_EXTNAME, type Psf, psfFromFits } from './psf.ts';
import { readVisitInfo, VISIT_INFO_KEYS, type VisitInfo, writeVisitInfo } from './visit-info.ts';

/** Options of {@link writeExposure} and {@link exposureToHdus}. */
export interface WriteExposureOptions {
  /**
   * 'none' (default) writes plain image extensions; 'gzip2' writes IMAGE, MASK and
   * VARIANCE as lossless GZIP_2 tile-compressed images (one row per tile), as LSST's
   * default write recipe does.
   */
  readonly compress?: 'none' | 'gzip2';
}

/** Options of {@link readExposure}. */
export interface ReadExposureOptions {
  /**
   * Read only this box, in **parent** pixel coordinates (must lie inside the stored
   * image). From a path only the box's rows (or tiles) are read. The result's xy0 is
   * the box's corner; the WCS and PSF stay in parent coordinates.
   */
  readonly bbox?: Box2I;
}

/** Primary-header keys of the photometric calibration. */
export const PHOTOCALIB_KEYS = ['PHOTCALM', 'PHOTCALE', 'FLUXMAG0'] as const;

/** Primary-header key naming the layout; value {@link EXPOSURE_FORMAT}. */
export const FORMAT_KEY = 'DRPFMT';
/** Layout identifier written to {@link FORMAT_KEY}. */
export const EXPOSURE_FORMAT = 'EXPOSURE-1';

const PLANE_NAMES = ['IMAGE', 'MASK', 'VARIANCE'] as const;

/** Keywords that the writer generates; they are dropped from metadata on write and read. */
const RESERVED = new Set<string>([
  'SIMPLE',
  'BITPIX',
  'NAXIS',
  'NAXIS1',
  'NAXIS2',
  'EXTEND',
  'CHECKSUM',
  'DATASUM',
  'EXTNAME',
  'EXTTYPE',
  'INHERIT',
  FORMAT_KEY,
  ...VISIT_INFO_KEYS,
  ...PHOTOCALIB_KEYS,
]);

/** Keys of celestial and pixel-origin WCS cards (not metadata). */
const WCS_KEY =
  /^(CTYPE|CRPIX|CRVAL|CUNIT|CDELT|CROTA)[12]A?$|^(CD|PC)[12]_[12]A?$|^(A|B|AP|BP)_(ORDER|\d+_\d+)$|^(LONPOLE|LATPOLE|RADESYS|RADECSYS|EQUINOX|EPOCH|WCSAXES|WCSNAMEA?|LTV[12]|LTM[12]_[12])$/;

/**
 * The HDUs of an exposure file (see the module comment), for writers that produce bytes
 * elsewhere (e.g. a datastore). Throws EXPOSURE_UNKNOWN_MASK_BITS when mask pixels
 * carry bits the mask's plane dictionary does not name.
 */
export function exposureToHdus(exposure: Exposure, options: WriteExposureOptions = {}): HduInput[] {
  const compress = options.compress ?? 'none';
  if (compress !== 'none' && compress !== 'gzip2') {
    throw new ExposureError(
      'EXPOSURE_BAD_ARGUMENT',
      `compress must be 'none' or 'gzip2', got ${JSON.stringify(compress)}`,
    );
  }
  checkMaskBits(exposure.mask, {});
  const primary = new Header();
  for (const card of exposure.metadata) {
    if (card.kind === 'value' && (RESERVED.has(card.key.toUpperCase()) || WCS_KEY.test(card.key)))
      continue;
    primary.append(card);
  }
  primary.set(FORMAT_KEY, EXPOSURE_FORMAT, 'gpu-drp exposure layout (docs/data-model.md)');
  if (exposure.visitInfo) writeVisitInfo(primary, exposure.visitInfo);
  const pc = exposure.photoCalib;
  if (pc) {
    primary.set('PHOTCALM', pc.calibrationMean, '[nJy/count] photometric calibration');
    primary.set('PHOTCALE', pc.calibrationErr, '[nJy/count] calibration error');
    primary.set('FLUXMAG0', pc.fluxMag0, '[count] flux of an AB magnitude 0 source');
  }
  const { x: x0, y: y0 } = exposure.xy0;
  const fileWcs = exposure.wcs?.withShiftedPixelOrigin(-x0, -y0) ?? null;
  const planeHeader = (name: (typeof PLANE_NAMES)[number]): Header => {
    const h = new Header();
    h.set('EXTTYPE', name, 'exposure plane');
    h.set('INHERIT', true, 'inherit the primary header');
    if (fileWcs) for (const c of fileWcs.toFitsCards()) h.set(c.key, c.value, c.comment);
    h.set('LTV1', -x0, '[pixel] minus x0: file x = parent x + LTV1');
    h.set('LTV2', -y0, '[pixel] minus y0: file y = parent y + LTV2');
    h.set('WCSNAMEA', 'PARENT', 'alternate WCS A: parent pixel coordinates');
    h.set('CTYPE1A', 'LINEAR', 'parent x');
    h.set('CTYPE2A', 'LINEAR', 'parent y');
    h.set('CRPIX1A', 1, 'first file pixel (1-based)');
    h.set('CRPIX2A', 1, 'first file pixel (1-based)');
    h.set('CRVAL1A', x0, '[pixel] parent x of the first pixel (x0)');
    h.set('CRVAL2A', y0, '[pixel] parent y of the first pixel (y0)');
    h.set('CUNIT1A', 'PIXEL');
    h.set('CUNIT2A', 'PIXEL');
    return h;
  };
  const maskHeader = planeHeader('MASK');
  for (const [name, bit] of Object.entries(exposure.mask.planes.planes).sort(
    (a, b) => a[1] - b[1],
  )) {
    maskHeader.set(`MP_${name}`, bit, `mask plane bit`);
  }
  const shape = [exposure.width, exposure.height];
  const compression = compress === 'gzip2' ? ({ type: 'GZIP_2' } as const) : undefined;
  const plane = (
    name: (typeof PLANE_NAMES)[number],
    header: Header,
    data: ImageArray,
  ): ImageHduInput =>
    compression ? { name, header, data, shape, compression } : { name, header, data, shape };
  const hdus: HduInput[] = [
    { header: primary, data: null },
    plane('IMAGE', planeHeader('IMAGE'), exposure.image.data),
    plane('MASK', maskHeader, exposure.mask.data),
    plane('VARIANCE', planeHeader('VARIANCE'), exposure.variance.data),
  ];
  if (exposure.psf) hdus.push(exposure.psf.toFitsHdu());
  return hdus;
}

/** The exposure encoded as FITS bytes (see {@link exposureToHdus}). */
export function exposureToBytes(
  exposure: Exposure,
  options: WriteExposureOptions = {},
): Uint8Array {
  return fitsToBytes(exposureToHdus(exposure, options));
}

/**
 * The exposure as a stream of FITS byte chunks (the bytes of {@link exposureToBytes},
 * without holding the whole file in memory): `byteLength` is known up front, and each
 * chunk stays valid only until the iteration has advanced twice past it (copy it to
 * keep it longer). For uploads and other writers that take a file piece by piece; the
 * exposure's pixels must not change while the iteration runs.
 */
export function exposureToChunks(
  exposure: Exposure,
  options: WriteExposureOptions = {},
): FitsChunks {
  return fitsChunks(exposureToHdus(exposure, options));
}

/**
 * Writes `exposure` to `path` in the layout of the module comment, atomically (a
 * temporary file renamed into place; nothing is left on failure). Byte-deterministic:
 * no dates are written. Throws ExposureError (EXPOSURE_IO, EXPOSURE_UNKNOWN_MASK_BITS,
 * EXPOSURE_BAD_ARGUMENT).
 */
export async function writeExposure(
  path: string,
  exposure: Exposure,
  options: WriteExposureOptions = {},
): Promise<void> {
  const hdus = exposureToHdus(exposure, options);
  try {
    await writeFits(path, hdus);
  } catch (e) {
    if (isFitsError(e)) {
      throw new ExposureError(
        e.code === 'FITS_IO' ? 'EXPOSURE_IO' : 'EXPOSURE_BAD_ARGUMENT',
        e.message,
        {
          file: path,
          cause: e,
        },
      );
    }
    throw e;
  }
}

/**
 * Reads an exposure written by {@link writeExposure} (or by LSST's afw, for the IMAGE,
 * MASK, VARIANCE planes, WCS, xy0 and mask planes), from a path or from bytes.
 *
 * @throws ExposureError EXPOSURE_MISSING_HDU, EXPOSURE_BAD_WCS, EXPOSURE_SHAPE_MISMATCH,
 *   EXPOSURE_UNKNOWN_MASK_BITS, EXPOSURE_BAD_PSF, EXPOSURE_BAD_HEADER,
 *   EXPOSURE_BAD_ARGUMENT (bbox), EXPOSURE_BAD_FITS, EXPOSURE_IO — each naming the file
 *   and HDU.
 */
export async function readExposure(
  source: string | Uint8Array,
  options: ReadExposureOptions = {},
): Promise<Exposure> {
  const file = typeof source === 'string' ? source : '<bytes>';
  if (typeof source === 'string' && options.bbox) return readExposureBox(source, options.bbox);
  let fits: FitsFile;
  try {
    // Pixels land on shared memory, where the exposure adopts them without a copy.
    fits = await readFits(source, { sharedMemory: true });
  } catch (e) {
    throw fitsFailure(e, { file });
  }
  const exposure = exposureFromFits(fits, file);
  if (!options.bbox) return exposure;
  checkBBox(options.bbox, exposure.bbox, file);
  return exposure.subset(options.bbox);
}

/**
 * Builds an exposure from a parsed FITS file (see {@link readExposure}). Float32 image
 * and variance and int32 mask pixels that are already on SharedArrayBuffer memory (read
 * with `sharedMemory: true`) are adopted, not copied: the exposure then shares them
 * with `fits`.
 */
export function exposureFromFits(fits: FitsFile, file = fits.file): Exposure {
  const names = fits.hdus.map((h) => extName(h.header));
  const planeHdu = (name: string): ImageHdu => {
    const i = names.indexOf(name);
    if (i < 0) {
      throw new ExposureError(
        'EXPOSURE_MISSING_HDU',
        `no HDU has EXTNAME ${name}; an exposure file needs IMAGE, MASK and VARIANCE (found: ${names.map((n, k) => `${k}:${n || '-'}`).join(', ')})`,
        { file, hdu: name },
      );
    }
    const hdu = fits.hdus[i]!;
    if (hdu.type !== 'image' || !hdu.data || hdu.shape.length !== 2) {
      throw new ExposureError('EXPOSURE_BAD_FITS', `HDU ${name} is not a 2-D image`, {
        file,
        hdu: `${i} (${name})`,
      });
    }
    return hdu;
  };
  const image = planeHdu('IMAGE');
  const mask = planeHdu('MASK');
  const variance = planeHdu('VARIANCE');
  const [w, h] = image.shape as [number, number];
  for (const [name, p] of [
    ['MASK', mask],
    ['VARIANCE', variance],
  ] as const) {
    if (p.shape[0] !== w || p.shape[1] !== h) {
      throw new ExposureError(
        'EXPOSURE_SHAPE_MISMATCH',
        `${name} is ${p.shape[0]}x${p.shape[1]} but IMAGE is ${w}x${h}; the planes must have one size`,
        { file, hdu: name },
      );
    }
  }
  const xy0 = readXy0(image.header, { file, hdu: 'IMAGE' });
  const wcs = readWcs(image.header, xy0, { file, hdu: 'IMAGE' });
  const planes = readMaskPlanes(mask.header, { file, hdu: 'MASK' });
  const maskData = toInt32(mask.data!, { file, hdu: 'MASK' });
  const m = new Mask(w, h, { xy0, data: maskData, planes });
  checkMaskBits(m, { file, hdu: 'MASK' });
  const mi = new MaskedImage(
    new ImageF(w, h, { xy0, data: toFloat32(image.data!) }),
    m,
    new ImageF(w, h, { xy0, data: toFloat32(variance.data!) }),
  );
  const psfIndex = names.indexOf(PSF_EXTNAME);
  let psf: Psf | null = null;
  if (psfIndex >= 0) {
    const hdu = fits.hdus[psfIndex]!;
    if (hdu.type !== 'image') {
      throw new ExposureError('EXPOSURE_BAD_PSF', 'the PSF HDU is not an image extension', {
        file,
        hdu: PSF_EXTNAME,
      });
    }
    psf = psfFromFits(hdu.header, hdu.data as ArrayLike<number> | null, hdu.shape, {
      file,
      hdu: PSF_EXTNAME,
    });
  }
  return new Exposure(mi, { wcs, psf, ...primaryInfo(fits.hdus[0]!.header, file) });
}

async function readExposureBox(path: string, bbox: Box2I): Promise<Exposure> {
  const extents = await readFitsHeaders(path);
  const find = (name: string): Header => {
    const e = extents.find((x) => extName(x.header) === name);
    if (!e) {
      throw new ExposureError(
        'EXPOSURE_MISSING_HDU',
        `no HDU has EXTNAME ${name}; an exposure file needs IMAGE, MASK and VARIANCE`,
        { file: path, hdu: name },
      );
    }
    return e.header;
  };
  const sizeOf = (h: Header): [number, number] => {
    const compressed = h.get('ZIMAGE') === true;
    return [
      h.getNumber(compressed ? 'ZNAXIS1' : 'NAXIS1') ?? 0,
      h.getNumber(compressed ? 'ZNAXIS2' : 'NAXIS2') ?? 0,
    ];
  };
  const imageHeader = find('IMAGE');
  const maskHeader = find('MASK');
  const [w, h] = sizeOf(imageHeader);
  for (const name of ['MASK', 'VARIANCE'] as const) {
    const [pw, ph] = sizeOf(find(name));
    if (pw !== w || ph !== h) {
      throw new ExposureError(
        'EXPOSURE_SHAPE_MISMATCH',
        `${name} is ${pw}x${ph} but IMAGE is ${w}x${h}; the planes must have one size`,
        { file: path, hdu: name },
      );
    }
  }
  const fileXy0 = readXy0(imageHeader, { file: path, hdu: 'IMAGE' });
  checkBBox(bbox, new Box2I(fileXy0.x, fileXy0.y, w, h), path);
  const wcs = readWcs(imageHeader, fileXy0, { file: path, hdu: 'IMAGE' });
  const planes = readMaskPlanes(maskHeader, { file: path, hdu: 'MASK' });
  const box = {
    x0: bbox.minX - fileXy0.x,
    y0: bbox.minY - fileXy0.y,
    width: bbox.width,
    height: bbox.height,
  };
  const section = async (name: string): Promise<ImageArray> => {
    try {
      return (await readImageSection(path, name, box)).data;
    } catch (e) {
      throw fitsFailure(e, { file: path, hdu: name });
    }
  };
  const xy0 = { x: bbox.minX, y: bbox.minY };
  const m = new Mask(bbox.width, bbox.height, {
    xy0,
    data: toInt32(await section('MASK'), { file: path, hdu: 'MASK' }),
    planes,
  });
  checkMaskBits(m, { file: path, hdu: 'MASK' });
  const mi = new MaskedImage(
    new ImageF(bbox.width, bbox.height, { xy0, data: toFloat32(await section('IMAGE')) }),
    m,
    new ImageF(bbox.width, bbox.height, { xy0, data: toFloat32(await section('VARIANCE')) }),
  );
  let psf: Psf | null = null;
  const psfExtent = extents.find((x) => extName(x.header) === PSF_EXTNAME);
  if (psfExtent) {
    const shape = sizeOf(psfExtent.header);
    const data =
      shape[0] > 0 && shape[1] > 0
        ? await (async () => {
            try {
              return (
                await readImageSection(path, PSF_EXTNAME, {
                  x0: 0,
                  y0: 0,
                  width: shape[0],
                  height: shape[1],
                })
              ).data;
            } catch (e) {
              throw fitsFailure(e, { file: path, hdu: PSF_EXTNAME });
            }
          })()
        : null;
    psf = psfFromFits(psfExtent.header, data as ArrayLike<number> | null, shape, {
      file: path,
      hdu: PSF_EXTNAME,
    });
  }
  return new Exposure(mi, { wcs, psf, ...primaryInfo(extents[0]!.header, path) });
}

/**
 * Reads a plain single-HDU image with a weight map beside it (SWarp convention: the
 * weight is the inverse variance, in the image's units^-2; 0 means no data). The image
 * is the first HDU with 2-D data of `imagePath`, the weight the first of `weightPath`.
 * Pixels with weight <= 0 or non-finite, or a non-finite image value, get variance
 * +Infinity and the NO_DATA mask bit; other variances are 1 / weight. The WCS and xy0
 * (LTV1/LTV2) come from the image header; the rest of the image header becomes metadata.
 *
 * @throws ExposureError EXPOSURE_MISSING_HDU (no 2-D image), EXPOSURE_SHAPE_MISMATCH,
 *   EXPOSURE_BAD_WCS, EXPOSURE_BAD_FITS, EXPOSURE_IO.
 */
export async function readPlainImageWithWeight(
  imagePath: string,
  weightPath: string,
): Promise<Exposure> {
  const first2d = async (path: string): Promise<ImageHdu & { index: number }> => {
    let fits: FitsFile;
    try {
      fits = await readFits(path, { sharedMemory: true });
    } catch (e) {
      throw fitsFailure(e, { file: path });
    }
    const i = fits.hdus.findIndex((h) => h.type === 'image' && h.data && h.shape.length === 2);
    if (i < 0) {
      throw new ExposureError('EXPOSURE_MISSING_HDU', 'the file has no HDU with a 2-D image', {
        file: path,
        hdu: 0,
      });
    }
    return { ...(fits.hdus[i] as ImageHdu), index: i };
  };
  const image = await first2d(imagePath);
  const weight = await first2d(weightPath);
  const [w, h] = image.shape as [number, number];
  if (weight.shape[0] !== w || weight.shape[1] !== h) {
    throw new ExposureError(
      'EXPOSURE_SHAPE_MISMATCH',
      `the weight map is ${weight.shape[0]}x${weight.shape[1]} but the image is ${w}x${h}; give the weight map made with this image`,
      { file: weightPath, hdu: weight.index },
    );
  }
  const context = { file: imagePath, hdu: image.index };
  const xy0 = readXy0(image.header, context);
  const wcs = readWcs(image.header, xy0, context);
  const planes = new MaskPlaneDict();
  const noData = planes.bitMask('NO_DATA');
  const img = toFloat32(image.data!);
  const wt = weight.data!;
  const n = w * h;
  const variance = allocFloat32(n);
  const mask = allocInt32(n);
  for (let i = 0; i < n; i++) {
    const wi = Number(wt[i]);
    const v = img[i]!;
    if (wi > 0 && Number.isFinite(wi) && Number.isFinite(v)) {
      variance[i] = 1 / wi;
    } else {
      variance[i] = Number.POSITIVE_INFINITY;
      mask[i] = noData;
    }
  }
  const metadata = new Header();
  for (const card of image.header) {
    if (card.kind === 'value' && (RESERVED.has(card.key.toUpperCase()) || WCS_KEY.test(card.key)))
      continue;
    if (card.kind === 'value' && /^(PCOUNT|GCOUNT|BSCALE|BZERO|BLANK|XTENSION)$/.test(card.key))
      continue;
    metadata.append(card);
  }
  const mi = new MaskedImage(
    new ImageF(w, h, { xy0, data: img }),
    new Mask(w, h, { xy0, data: mask, planes }),
    new ImageF(w, h, { xy0, data: variance }),
  );
  return new Exposure(mi, { wcs, metadata });
}

/** Visit info, photometric calibration and metadata from the primary header. */
function primaryInfo(
  header: Header,
  file: string,
): { visitInfo: VisitInfo | null; photoCalib: PhotoCalib | null; metadata: Header } {
  const context = { file, hdu: 0 };
  const visitInfo = readVisitInfo(header, context);
  let photoCalib: PhotoCalib | null = null;
  const num = (key: string): number | undefined => {
    const v = header.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ExposureError('EXPOSURE_BAD_HEADER', `${key} must be a number`, {
        ...context,
        key,
      });
    }
    return v;
  };
  try {
    const mean = num('PHOTCALM');
    const fluxMag0 = num('FLUXMAG0');
    if (mean !== undefined) photoCalib = new PhotoCalib(mean, num('PHOTCALE') ?? 0);
    else if (fluxMag0 !== undefined) photoCalib = PhotoCalib.fromFluxMag0(fluxMag0);
  } catch (e) {
    if (e instanceof ExposureError && e.file === undefined) {
      throw new ExposureError('EXPOSURE_BAD_HEADER', e.message, {
        ...context,
        key: 'PHOTCALM',
        cause: e,
      });
    }
    throw e;
  }
  const metadata = new Header();
  for (const card of header) {
    if (card.kind === 'value' && (RESERVED.has(card.key.toUpperCase()) || WCS_KEY.test(card.key)))
      continue;
    metadata.append(card);
  }
  return { visitInfo, photoCalib, metadata };
}

/** xy0 from the 'A' alternate WCS (WCSNAMEA = PARENT) or else LTV1/LTV2; (0, 0) if absent. */
function readXy0(header: Header, context: ExposureErrorContext): { x: number; y: number } {
  const int = (key: string, sign: number): number | undefined => {
    const v = header.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw new ExposureError(
        'EXPOSURE_BAD_HEADER',
        `${key} must be an integer number of pixels, got ${String(v)}`,
        { ...context, key },
      );
    }
    return sign * v;
  };
  const wcsName = header.get('WCSNAMEA');
  if (typeof wcsName === 'string' && wcsName.trim().toUpperCase() === 'PARENT') {
    const crpix1 = header.get('CRPIX1A') ?? 1;
    const crpix2 = header.get('CRPIX2A') ?? 1;
    const x = int('CRVAL1A', 1);
    const y = int('CRVAL2A', 1);
    if (x !== undefined && y !== undefined && crpix1 === 1 && crpix2 === 1) return { x, y };
  }
  return { x: int('LTV1', -1) ?? 0, y: int('LTV2', -1) ?? 0 };
}

/** The celestial WCS of a plane header, shifted to parent pixels; null when absent. */
function readWcs(
  header: Header,
  xy0: { x: number; y: number },
  context: ExposureErrorContext,
): Wcs | null {
  if (!header.has('CTYPE1') && !header.has('CTYPE2')) return null;
  try {
    return Wcs.fromFitsHeader(header).withShiftedPixelOrigin(xy0.x, xy0.y);
  } catch (e) {
    if (e instanceof GeomError || e instanceof FitsError) {
      const key = e.key;
      throw new ExposureError(
        'EXPOSURE_BAD_WCS',
        `the WCS cannot be used: ${e.message}; fix the header or remove its WCS cards`,
        key === undefined ? { ...context, cause: e } : { ...context, key, cause: e },
      );
    }
    throw e;
  }
}

/** The mask plane dictionary from MP_<NAME> = bit keys (LSST's defaults if there are none). */
function readMaskPlanes(header: Header, context: ExposureErrorContext): MaskPlaneDict {
  const planes: Record<string, number> = {};
  let found = false;
  for (const card of header) {
    if (card.kind !== 'value' || !card.key.toUpperCase().startsWith('MP_')) continue;
    found = true;
    const bit = card.value;
    if (typeof bit !== 'number' || !Number.isInteger(bit)) {
      throw new ExposureError('EXPOSURE_BAD_HEADER', `${card.key} must be an integer bit number`, {
        ...context,
        key: card.key,
      });
    }
    planes[card.key.slice(3)] = bit;
  }
  try {
    return new MaskPlaneDict(found ? planes : DEFAULT_MASK_PLANES);
  } catch (e) {
    throw new ExposureError(
      'EXPOSURE_BAD_HEADER',
      `bad mask plane dictionary: ${(e as Error).message}`,
      {
        ...context,
        cause: e,
      },
    );
  }
}

/** Throws EXPOSURE_UNKNOWN_MASK_BITS when mask pixels carry bits the dictionary lacks. */
function checkMaskBits(mask: Mask, context: ExposureErrorContext): void {
  let allowed = 0;
  for (const bit of Object.values(mask.planes.planes)) allowed |= 1 << bit;
  // Four independent ORs: about twice as fast as one chain on a 4k x 4k mask.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const d = mask.data;
  const n = d.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 |= d[i]!;
    s1 |= d[i + 1]!;
    s2 |= d[i + 2]!;
    s3 |= d[i + 3]!;
  }
  for (; i < n; i++) s0 |= d[i]!;
  const seen = s0 | s1 | s2 | s3;
  const unknown = seen & ~allowed;
  if (unknown !== 0) {
    const bits: number[] = [];
    for (let b = 0; b < 32; b++) if (unknown & (1 << b)) bits.push(b);
    throw new ExposureError(
      'EXPOSURE_UNKNOWN_MASK_BITS',
      `mask pixels use bit(s) ${bits.join(', ')} that no mask plane names (planes: ${Object.entries(
        mask.planes.planes,
      )
        .map(([n, b]) => `${n}=${b}`)
        .join(', ')}); add the planes (MP_<NAME> keys) or clear the bits`,
      context,
    );
  }
}

function checkBBox(bbox: Box2I, full: Box2I, file: string): void {
  if (bbox.isEmpty || !full.containsBox(bbox)) {
    throw new ExposureError(
      'EXPOSURE_BAD_ARGUMENT',
      `bbox ${bbox.toString()} is empty or not inside the stored image ${full.toString()} (parent pixel coordinates)`,
      { file },
    );
  }
}

function toFloat32(data: ImageArray): Float32Array {
  if (data instanceof Float32Array && isShared(data)) return data;
  const out = allocFloat32(data.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    out.set(data);
  }
  return out;
}

function toInt32(data: ImageArray, context: ExposureErrorContext): Int32Array {
  if (
    data instanceof Float32Array ||
    data instanceof Float64Array ||
    data instanceof BigInt64Array ||
    data instanceof BigUint64Array ||
    data instanceof Uint32Array
  ) {
    throw new ExposureError(
      'EXPOSURE_BAD_FITS',
      'the mask must hold 8-, 16- or 32-bit signed integers',
      context,
    );
  }
  if (data instanceof Int32Array && isShared(data)) return data;
  const out = allocInt32(data.length);
  out.set(data);
  return out;
}

/** Wraps a FitsError: missing HDU -> EXPOSURE_MISSING_HDU, I/O -> EXPOSURE_IO, else BAD_FITS. */
function fitsFailure(e: unknown, context: ExposureErrorContext): unknown {
  if (!isFitsError(e)) return e;
  const code =
    e.code === 'FITS_HDU_NOT_FOUND'
      ? 'EXPOSURE_MISSING_HDU'
      : e.code === 'FITS_IO'
        ? 'EXPOSURE_IO'
        : 'EXPOSURE_BAD_FITS';
  const hdu = context.hdu ?? e.hdu;
  return new ExposureError(code, e.message, {
    file: context.file ?? e.file ?? '<bytes>',
    ...(hdu === undefined ? {} : { hdu }),
    cause: e,
  });
}
