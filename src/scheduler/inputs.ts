/**
 * Input discovery: files, directories (searched for *.fits, *.fits.fz) and what each
 * calexp is (visit, detector, band, WCS, pixel box, PSF width), read from its headers
 * and one pixel, never from the whole image. Unreadable inputs are reported, not fatal
 * (unless the caller is strict).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageSection } from '../fits/section.ts';
import { Box2I } from '../geom/box.ts';
import type { Wcs } from '../geom/wcs.ts';
import { readExposure } from '../image/exposure-fits.ts';

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
}

/** An input that was skipped, and why. */
export interface SkippedInput {
  readonly path: string;
  readonly reason: string;
}

/** Expand files and directories into FITS paths (sorted, de-duplicated). */
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
        if (/\.fits(\.fz)?$/i.test(name) || (await stat(child)).isDirectory()) await walk(child);
      }
    } else {
      files.add(p);
    }
  };
  for (const p of paths) await walk(p);
  return { files: [...files].sort(), skipped };
}

/** What a calexp is, from its headers (reads one pixel of each plane). */
export async function describeInput(path: string): Promise<InputInfo> {
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
  return { inputs, skipped };
}
