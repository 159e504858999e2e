/**
 * The peers of gpu-coadd in the end-to-end benchmark: SWarp (resample + CLIPPED
 * combine) followed by Source Extractor (detection + measurement on SWarp's coadd),
 * both the Debian builds (`swarp` installs `/usr/bin/SWarp`; `source-extractor`).
 *
 * - {@link findPeers}: the executables on PATH and their versions.
 * - {@link convertCalexps}: our calexps (MEF: IMAGE, MASK, VARIANCE) as SWarp inputs, a
 *   single-HDU image and a weight map per CCD, done once per data cache (not timed).
 * - {@link swarpArgs}, {@link writeSextractorFiles} / {@link sextractorArgs}: the command
 *   lines, with settings matched to gpu-coadd's (see each for how).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Header } from '../../src/fits/header.ts';
import { writeFits } from '../../src/fits/writer.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import type { InputInfo } from '../../src/scheduler/inputs.ts';
import { E2eError } from './errors.ts';
import { sipToTpv } from './tpv.ts';

/** An installed tool. */
export interface Tool {
  /** Absolute path of the executable. */
  readonly path: string;
  /** Its version line, e.g. "SWarp version 2.41.5 (2021-01-27)". */
  readonly version: string;
}

/** The installed peers; null members are not installed. */
export interface Peers {
  readonly swarp: Tool | null;
  readonly sextractor: Tool | null;
}

/** The first of `names` found on PATH, or null. */
export function which(names: readonly string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

function toolAt(path: string | null): Tool | null {
  if (!path) return null;
  const r = spawnSync(path, ['-v'], { encoding: 'utf8' });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => /version/i.test(l));
  return { path, version: line?.trim() ?? 'unknown version' };
}

/** SWarp (`swarp` or Debian's `SWarp`) and Source Extractor (`source-extractor` or `sex`) on PATH. */
export function findPeers(): Peers {
  return {
    swarp: toolAt(which(['swarp', 'SWarp'])),
    sextractor: toolAt(which(['source-extractor', 'sex'])),
  };
}

/** Mask planes whose pixels get weight 0 in the SWarp inputs. */
export const PEER_BAD_PLANES = ['NO_DATA', 'BAD', 'SAT', 'CR', 'EDGE'] as const;

/** One converted calexp. */
export interface ConvertedInput {
  /** The calexp it came from. */
  readonly source: string;
  /** Single-HDU float32 image (TAN + TPV WCS). */
  readonly image: string;
  /** Its weight map: `<image without .fits>.weight.fits`. */
  readonly weight: string;
  /** Largest SIP -> TPV position error, pixels. */
  readonly tpvErrorPixels: number;
}

/** What {@link convertCalexps} did. */
export interface Conversion {
  readonly inputs: readonly ConvertedInput[];
  /** Wall time of the conversion, ms (0 when reused from the cache). */
  readonly ms: number;
  readonly reused: boolean;
}

/** Bump when the converted files change meaning, so caches are redone. */
const CONVERSION_VERSION = 1;

/**
 * SWarp inputs for `inputs` in `dir`: per calexp `<visit>_<detector>.fits`, the IMAGE
 * plane with the WCS cards (SIP rewritten as TPV, which SWarp reads; see tpv.ts), and
 * `<visit>_<detector>.weight.fits`, the inverse variance, 0 where the mask has any of
 * {@link PEER_BAD_PLANES} or the variance is not finite and positive (there the image
 * value is written as 0 too). xy0 must be 0 (LTV1/LTV2 absent or 0; the simulator's are),
 * so CRPIX needs no shift. Pixel units stay nJy (the calexps are calibrated, PHOTCALM 1),
 * so SWarp's flux scale is 1. Done once: a stamp file records what was converted and
 * later calls reuse it.
 */
export async function convertCalexps(
  inputs: readonly InputInfo[],
  dir: string,
): Promise<Conversion> {
  const stampPath = join(dir, 'converted.json');
  const want = inputs.map((i) => i.path);
  if (existsSync(stampPath)) {
    try {
      const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as {
        version: number;
        inputs: ConvertedInput[];
      };
      const have = stamp.inputs.map((i) => i.source);
      if (
        stamp.version === CONVERSION_VERSION &&
        have.length === want.length &&
        have.every((p, k) => p === want[k]) &&
        stamp.inputs.every((i) => existsSync(i.image) && existsSync(i.weight))
      ) {
        return { inputs: stamp.inputs, ms: 0, reused: true };
      }
    } catch {
      // A bad stamp: convert again.
    }
  }
  const t0 = performance.now();
  mkdirSync(dir, { recursive: true });
  const out: ConvertedInput[] = [];
  for (const info of inputs) {
    const e = await readExposure(info.path);
    const mi = e.maskedImage;
    const { xy0 } = mi.image;
    if (xy0.x !== 0 || xy0.y !== 0) {
      throw new E2eError(
        'E2E_BAD_DATA',
        `${info.path} has xy0 = (${xy0.x}, ${xy0.y}) (LTV1/LTV2); the SWarp conversion assumes whole CCDs with xy0 = 0`,
      );
    }
    const wcs = e.wcs ?? info.wcs;
    const tpv = sipToTpv(wcs, info.bbox);
    const n = mi.width * mi.height;
    const img = new Float32Array(n);
    const wt = new Float32Array(n);
    const bad = mi.mask.bitMask(...PEER_BAD_PLANES.filter((p) => p in mi.mask.planes.planes));
    const src = mi.image.data;
    const var_ = mi.variance.data;
    const mask = mi.mask.data;
    for (let i = 0; i < n; i++) {
      const v = var_[i]!;
      const x = src[i]!;
      if ((mask[i]! & bad) === 0 && v > 0 && Number.isFinite(v) && Number.isFinite(x)) {
        img[i] = x;
        wt[i] = 1 / v;
      }
    }
    const header = new Header();
    for (const c of tpv.cards) header.set(c.key, c.value, c.comment);
    header.set('BUNIT', 'nJy', 'calibrated flux per pixel (as the calexp)');
    header.set('VISIT', info.visit, 'visit id');
    header.set('DETECTOR', info.detector, 'detector id');
    header.set('BAND', info.band, 'abstract band');
    const stem = `${info.visit}_${String(info.detector).padStart(3, '0')}`;
    const image = join(dir, `${stem}.fits`);
    const weight = join(dir, `${stem}.weight.fits`);
    await writeFits(image, [{ data: img, shape: [mi.width, mi.height], header }]);
    const wh = new Header();
    wh.set('BUNIT', 'nJy-2', 'inverse variance; 0 = no data');
    await writeFits(weight, [{ data: wt, shape: [mi.width, mi.height], header: wh }]);
    out.push({ source: info.path, image, weight, tpvErrorPixels: tpv.maxErrorPixels });
  }
  const tmp = `${stampPath}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ version: CONVERSION_VERSION, inputs: out }, null, 1)}\n`);
  renameSync(tmp, stampPath);
  return { inputs: out, ms: performance.now() - t0, reused: false };
}

/** Settings of the peer runs. */
export interface PeerSettings {
  /** Threads for SWarp and Source Extractor. */
  readonly threads: number;
  /** Detection threshold in units of the PSF-smoothed noise (gpu-coadd's --threshold). */
  readonly threshold: number;
  /** PSF Gaussian sigma on the coadd, pixels (the mean over inputs, as gpu-coadd). */
  readonly psfSigma: number;
}

/**
 * SWarp's arguments: an empty configuration file (internal defaults) overridden on the
 * command line, the images from a list file. Output grid from `<imageOut minus .fits>.head`
 * beside the output image (written by the caller: the same file gpu-coadd's --grid reads).
 * Matched to gpu-coadd: LANCZOS3 for image and weights, no oversampling (same pixel
 * scale), CLIPPED combine (SWarp's defaults CLIP_SIGMA 4, CLIP_AMPFRAC 0.3) with the
 * inverse-variance maps as weights, no background subtraction (the calexps are
 * background-subtracted and gpu-coadd subtracts none), flux scale 1 (nJy in, nJy out)
 * and no astrometric flux scaling (FSCALASTRO_TYPE NONE: input and output pixels are
 * both 0.2 arcsec; the SIP distortion changes pixel areas by at most 0.3% in `medium`,
 * which gpu-coadd's per-pixel area factor corrects and SWarp then does not).
 */
export function swarpArgs(o: {
  listFile: string;
  configFile: string;
  imageOut: string;
  weightOut: string;
  scratch: string;
  threads: number;
}): string[] {
  const set: Record<string, string> = {
    IMAGEOUT_NAME: o.imageOut,
    WEIGHTOUT_NAME: o.weightOut,
    HEADER_SUFFIX: '.head',
    WEIGHT_TYPE: 'MAP_WEIGHT',
    WEIGHT_SUFFIX: '.weight.fits',
    COMBINE: 'Y',
    COMBINE_TYPE: 'CLIPPED',
    CELESTIAL_TYPE: 'NATIVE',
    PROJECTION_TYPE: 'TAN',
    RESAMPLE: 'Y',
    RESAMPLE_DIR: o.scratch,
    RESAMPLING_TYPE: 'LANCZOS3',
    OVERSAMPLING: '1',
    INTERPOLATE: 'N',
    FSCALASTRO_TYPE: 'NONE',
    FSCALE_KEYWORD: 'NOTHING',
    FSCALE_DEFAULT: '1.0',
    SUBTRACT_BACK: 'N',
    VMEM_DIR: o.scratch,
    VMEM_MAX: '16384',
    MEM_MAX: '2048',
    COMBINE_BUFSIZE: '1024',
    DELETE_TMPFILES: 'Y',
    COPY_KEYWORDS: 'BUNIT',
    WRITE_FILEINFO: 'N',
    WRITE_XML: 'N',
    VERBOSE_TYPE: 'QUIET',
    NTHREADS: String(o.threads),
  };
  const args = [`@${o.listFile}`, '-c', o.configFile];
  for (const [k, v] of Object.entries(set)) args.push(`-${k}`, v);
  return args;
}

/** Source Extractor's output columns. */
export const SEXTRACTOR_PARAMS = [
  'NUMBER',
  'X_IMAGE',
  'Y_IMAGE',
  'ALPHA_J2000',
  'DELTA_J2000',
  'FLUX_AUTO',
  'FLUXERR_AUTO',
  'FLUX_APER(4)',
  'FLUXERR_APER(4)',
  'FLAGS',
] as const;

/** What {@link writeSextractorFiles} wrote and derived. */
export interface SextractorFiles {
  readonly config: string;
  readonly params: string;
  readonly filter: string;
  /** DETECT_THRESH in Source Extractor's units (unfiltered background RMS). */
  readonly detectThresh: number;
  /** Filter half-size, pixels. */
  readonly filterHalfSize: number;
}

/**
 * The configuration files for Source Extractor in `dir`: an empty config (internal
 * defaults), the parameter list and a normalized Gaussian filter of the PSF sigma
 * (half-size ceil(3 sigma), at most 15: its 31-pixel cap). Source Extractor compares the
 * filtered image with the RMS of the unfiltered background, gpu-coadd the smoothed
 * image with the smoothed noise; for white noise the smoothed noise is
 * sqrt(sum k^2) / sum k of the unfiltered one, so DETECT_THRESH = threshold x that.
 */
export function writeSextractorFiles(dir: string, s: PeerSettings): SextractorFiles {
  mkdirSync(dir, { recursive: true });
  const sigma = s.psfSigma;
  const h = Math.min(15, Math.ceil(3 * sigma));
  const rows: string[] = ['CONV NORM', `# Gaussian, sigma ${sigma.toFixed(4)} pixels`];
  let sum = 0;
  let sum2 = 0;
  for (let y = -h; y <= h; y++) {
    const row: string[] = [];
    for (let x = -h; x <= h; x++) {
      const k = Number(Math.exp(-(x * x + y * y) / (2 * sigma * sigma)).toPrecision(6));
      sum += k;
      sum2 += k * k;
      row.push(String(k));
    }
    rows.push(row.join(' '));
  }
  const filter = join(dir, 'psf.conv');
  writeFileSync(filter, `${rows.join('\n')}\n`);
  const params = join(dir, 'e2e.param');
  writeFileSync(params, `${SEXTRACTOR_PARAMS.join('\n')}\n`);
  const config = join(dir, 'e2e.sex');
  writeFileSync(config, '# all settings are given on the command line (bench/e2e/peers.ts)\n');
  return {
    config,
    params,
    filter,
    detectThresh: (s.threshold * Math.sqrt(sum2)) / sum,
    filterHalfSize: h,
  };
}

/**
 * Source Extractor's arguments for SWarp's coadd `image` and weight map `weight`.
 * Matched to gpu-coadd's detect + measure: the PSF filter and threshold of
 * {@link writeSextractorFiles}, minimum area 1 pixel (minPixels 1), no cleaning (ours
 * has none), no background subtraction (BACK_TYPE MANUAL, 0: the coadd of
 * background-subtracted calexps, as gpu-coadd assumes; the background RMS is still
 * measured, and the weight map scales it per pixel), apertures of radius 3, 6, 9, 12
 * pixels (ours), default deblending, no saturation level (a coadd), large pixel and
 * object stacks (so a 4000 x 4000 field loses nothing), FITS_1.0 catalog.
 */
export function sextractorArgs(o: {
  image: string;
  weight: string;
  catalog: string;
  files: SextractorFiles;
  psfSigma: number;
  pixelScaleArcsec: number;
  threads: number;
}): string[] {
  const set: Record<string, string> = {
    CATALOG_NAME: o.catalog,
    CATALOG_TYPE: 'FITS_1.0',
    PARAMETERS_NAME: o.files.params,
    DETECT_TYPE: 'CCD',
    DETECT_MINAREA: '1',
    DETECT_THRESH: o.files.detectThresh.toFixed(4),
    ANALYSIS_THRESH: o.files.detectThresh.toFixed(4),
    THRESH_TYPE: 'RELATIVE',
    FILTER: 'Y',
    FILTER_NAME: o.files.filter,
    DEBLEND_NTHRESH: '32',
    DEBLEND_MINCONT: '0.005',
    CLEAN: 'N',
    MASK_TYPE: 'CORRECT',
    WEIGHT_TYPE: 'MAP_WEIGHT',
    WEIGHT_IMAGE: o.weight,
    PHOT_APERTURES: '6,12,18,24',
    PHOT_AUTOPARAMS: '2.5,3.5',
    SATUR_LEVEL: '1e10',
    MAG_ZEROPOINT: '31.4',
    GAIN: '0',
    PIXEL_SCALE: '0',
    SEEING_FWHM: (2.3548 * o.psfSigma * o.pixelScaleArcsec).toFixed(3),
    BACK_TYPE: 'MANUAL',
    BACK_VALUE: '0.0',
    BACK_SIZE: '128',
    BACK_FILTERSIZE: '3',
    BACKPHOTO_TYPE: 'GLOBAL',
    CHECKIMAGE_TYPE: 'NONE',
    MEMORY_OBJSTACK: '30000',
    MEMORY_PIXSTACK: '3000000',
    MEMORY_BUFSIZE: '4096',
    VERBOSE_TYPE: 'QUIET',
    WRITE_XML: 'N',
    NTHREADS: String(o.threads),
  };
  const args = [o.image, '-c', o.files.config];
  for (const [k, v] of Object.entries(set)) args.push(`-${k}`, v);
  return args;
}

/** The list file SWarp reads its images from (`@file`), one path per line. */
export function writeImageList(path: string, inputs: readonly ConvertedInput[]): string {
  writeFileSync(path, `${inputs.map((i) => i.image).join('\n')}\n`);
  return path;
}

/** Name of the output `.head` SWarp looks for beside `imageOut` (`x.fits` -> `x.head`). */
export function headFor(imageOut: string): string {
  return imageOut.replace(/\.fits$/i, '.head');
}
