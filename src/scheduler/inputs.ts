/**
 * Input discovery: files, globs and directories (searched for *.fits, *.fits.fz) and
 * what each input is (visit, detector, band, WCS, pixel box, PSF width), read from its
 * headers and one pixel, never from the whole image. Two kinds of input:
 * - LSST-like calexps: MEF with IMAGE, MASK, VARIANCE; WCS in the IMAGE header; VISIT,
 *   DETECTOR and BAND (or FILTER) in the primary header;
 * - plain single-HDU images with a weight map beside them, SWarp's convention:
 *   `name.fits` + `name.weight.fits` (inverse variance; 0 = no data). VISIT, DETECTOR
 *   (or CCDNUM) and BAND/FILTER are read from the image header when present; an image
 *   without VISIT is its own visit (numbered after the largest VISIT seen, in path
 *   order), without DETECTOR detector 0, without BAND/FILTER band "unknown".
 * Unreadable inputs are reported, not fatal (unless the caller is strict).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Header } from '../fits/header.ts';
import { readImageSection } from '../fits/section.ts';
import { Box2I } from '../geom/box.ts';
import { Wcs } from '../geom/wcs.ts';
import { readExposure } from '../image/exposure-fits.ts';
import type { Psf } from '../image/psf.ts';

/** One usable calexp, as planning needs it. */
export interface InputInfo {
  readonly path: string;
  readonly visit: number;
  readonly detector: number;
  readonly band: string;
  readonly wcs: Wcs;
  /** Pixel box in the CCD's parent coordinates. */
  readonly bbox: Box2I;
  /** Gaussian-equivalent PSF sigma, pixels (null when the file has no PSF). */
  readonly psfSigma: number | null;
  /** The PSF model (its kernel image feeds the coadd PSF); null: none (or sigma only). */
  readonly psf?: Psf | null;
  /** The weight map of a plain image (SWarp convention); absent for calexps. */
  readonly weightPath?: string;
}

/** Suffixes of weight maps beside plain images (SWarp's default first). */
const WEIGHT_SUFFIXES = ['.weight.fits', '.weight.fits.fz', '.wht.fits', '.wht.fits.fz'];

/** The weight map beside `path`, if there is one. */
export function weightMapOf(path: string): string | null {
  const stem = path.replace(/\.fits?(\.fz)?$/i, '');
  for (const suffix of WEIGHT_SUFFIXES) {
    const w = stem + suffix;
    if (existsSync(w)) return w;
  }
  return null;
}

function isWeightMap(path: string): boolean {
  return /\.(weight|wht)\.fits?(\.fz)?$/i.test(path);
}

const GLOB = /[*?[]/;

/** Regular expression of one glob path segment (`*`, `?`, `[...]`). */
function segmentRegex(seg: string): RegExp {
  let r = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') r += '[^/]*';
    else if (c === '?') r += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) r += '\\[';
      else {
        r += `[${seg
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else r += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${r}$`);
}

/** Paths matching a glob pattern (`*`, `?`, `[...]`, `**` for any depth), sorted. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const segs = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  const out: string[] = [];
  const walk = async (dir: string, i: number): Promise<void> => {
    if (i === segs.length) {
      out.push(dir);
      return;
    }
    const seg = segs[i] as string;
    if (seg === '') return walk('/', i + 1);
    if (!GLOB.test(seg)) {
      const next = dir === '' ? seg : join(dir, seg);
      if (i === segs.length - 1 ? existsSync(next) : await isDir(next)) await walk(next, i + 1);
      return;
    }
    let names: string[];
    try {
      names = (await readdir(dir === '' ? '.' : dir)).sort();
    } catch {
      return;
    }
    if (seg === '**') {
      await walk(dir, i + 1);
      for (const name of names) {
        const child = dir === '' ? name : join(dir, name);
        if (!name.startsWith('.') && (await isDir(child))) await walk(child, i);
      }
      return;
    }
    const re = segmentRegex(seg);
    for (const name of names) {
      if (!re.test(name) || (name.startsWith('.') && !seg.startsWith('.'))) continue;
      const child = dir === '' ? name : join(dir, name);
      if (i === segs.length - 1 || (await isDir(child))) await walk(child, i + 1);
    }
  };
  await walk('', 0);
  return [...new Set(out)].sort();
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** An input that was skipped, and why. */
export interface SkippedInput {
  readonly path: string;
  readonly reason: string;
}

/** Expand files, globs and directories into FITS paths (sorted, de-duplicated; weight maps left out). */
export async function expandInputs(
  paths: readonly string[],
): Promise<{ files: string[]; skipped: SkippedInput[] }> {
  const files = new Set<string>();
  const skipped: SkippedInput[] = [];
  const walk = async (p: string): Promise<void> => {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch (e) {
      skipped.push({ path: p, reason: `cannot read it: ${(e as Error).message}` });
      return;
    }
    if (st.isDirectory()) {
      for (const name of (await readdir(p)).sort()) {
        const child = join(p, name);
        if (isWeightMap(name)) continue;
        if (/\.fits(\.fz)?$/i.test(name) || (await stat(child)).isDirectory()) await walk(child);
      }
    } else {
      files.add(p);
    }
  };
  for (const p of paths) {
    if (GLOB.test(p) && !existsSync(p)) {
      const matches = (await expandGlob(p)).filter((m) => !isWeightMap(m));
      if (matches.length === 0) skipped.push({ path: p, reason: 'the pattern matches no file' });
      for (const m of matches) await walk(m);
    } else await walk(p);
  }
  return { files: [...files].sort(), skipped };
}

/** What a calexp is, from its headers (reads one pixel of each plane). */
export async function describeInput(path: string): Promise<InputInfo> {
  const weightPath = weightMapOf(path);
  if (weightPath) return describePlain(path, weightPath);
  const e = await readExposure(path, { bbox: new Box2I(0, 0, 1, 1) }).catch(async () =>
    readExposure(path),
  );
  const vi = e.visitInfo;
  if (!e.wcs) throw new Error('it has no WCS in its IMAGE header');
  if (!vi) throw new Error('it has no visit information (VISIT, DETECTOR, BAND keys)');
  const full = await fullBox(path);
  return {
    path,
    visit: vi.visit,
    detector: vi.detector,
    band: vi.band,
    wcs: e.wcs,
    bbox: full,
    psfSigma: e.psf ? e.psf.sigma : null,
    psf: e.psf ?? null,
  };
}

/** A plain image with a weight map: identity and WCS from the image's header. */
async function describePlain(path: string, weightPath: string): Promise<InputInfo> {
  const s = await readImageSection(path, 0, { x0: 0, y0: 0, width: 1, height: 1 }).catch(
    async (e: unknown) => {
      // A compressed image keeps its data in HDU 1.
      if (/\.fz$/i.test(path))
        return readImageSection(path, 1, { x0: 0, y0: 0, width: 1, height: 1 });
      throw e;
    },
  );
  const h = s.header;
  const num = (k: string) => {
    const v = h.get(k);
    return typeof v === 'number' ? v : undefined;
  };
  const str = (k: string) => {
    const v = h.get(k);
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  if (h.get('CTYPE1') === undefined) throw new Error('it has no WCS in its header');
  const xy0 = { x: -(num('LTV1') ?? 0), y: -(num('LTV2') ?? 0) };
  const wcs = Wcs.fromFitsHeader(h as Header).withShiftedPixelOrigin(xy0.x, xy0.y);
  const w = num('ZNAXIS1') ?? num('NAXIS1') ?? 0;
  const ht = num('ZNAXIS2') ?? num('NAXIS2') ?? 0;
  const fwhm = num('SEEING') ?? num('FWHM');
  return {
    path,
    weightPath,
    visit: num('VISIT') ?? -1,
    detector: num('DETECTOR') ?? num('CCDNUM') ?? 0,
    band: str('BAND') ?? str('FILTER') ?? 'unknown',
    wcs,
    bbox: new Box2I(xy0.x, xy0.y, w, ht),
    psfSigma: fwhm !== undefined && fwhm > 0 ? fwhm / 2.3548200450309493 : null,
  };
}

/** The full pixel box of the calexp: its size, and xy0 from LTV1/LTV2 (LSST's convention). */
async function fullBox(path: string): Promise<Box2I> {
  const s = await readImageSection(path, 'IMAGE', { x0: 0, y0: 0, width: 1, height: 1 });
  const num = (k: string) => {
    const v = s.header.get(k);
    return typeof v === 'number' ? v : undefined;
  };
  const w = num('ZNAXIS1') ?? num('NAXIS1') ?? 0;
  const h = num('ZNAXIS2') ?? num('NAXIS2') ?? 0;
  return new Box2I(-(num('LTV1') ?? 0), -(num('LTV2') ?? 0), w, h);
}

/** Describe every input; failures become skipped entries (or throw when `strict`). */
export async function scanInputs(
  paths: readonly string[],
  strict = false,
): Promise<{ inputs: InputInfo[]; skipped: SkippedInput[] }> {
  const { files, skipped } = await expandInputs(paths);
  const inputs: InputInfo[] = [];
  for (const f of files) {
    try {
      inputs.push(await describeInput(f));
    } catch (e) {
      if (strict) throw e;
      skipped.push({ path: f, reason: (e as Error).message });
    }
  }
  // Plain images without VISIT: each its own visit, after the largest one seen.
  let next = Math.max(0, ...inputs.map((i) => i.visit)) + 1;
  for (let k = 0; k < inputs.length; k++) {
    const i = inputs[k] as InputInfo;
    if (i.visit < 0) inputs[k] = { ...i, visit: next++ };
  }
  return { inputs, skipped };
}
