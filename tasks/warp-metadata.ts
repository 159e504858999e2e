/**
 * What a direct warp carries in its metadata (primary FITS header) so that assembly can
 * reproduce `gpu-coadd run`'s coadd PSF exactly: the visit, the number of CCDs warped,
 * each CCD's PSF sigma in patch pixels (one key per CCD, in detector order, doubles
 * written in their shortest round-trip form, so the values read back are the same bits),
 * and the weight of the warp's PSF image (WARPPSFA: patch pixels covered by its CCDs
 * that have a PSF model; 0 when none has). The warp's PSF HDU then holds the visit's
 * kernel image on the patch grid (src/scheduler/coadd-steps.ts visitPsf; float64, read
 * back as the same bits), and assembly averages those images (coaddPsf); without any,
 * the coadd PSF is a Gaussian whose sigma is the mean of all warps' sigma terms summed
 * in visit then detector order (coaddPsfSigma).
 */
import type { Header } from '../src/fits/header.ts';
import { CoaddTaskError } from './errors.ts';

/** Visit of the warp. */
export const WARP_VISIT_KEY = 'WARPVIS';
/** Number of CCDs warped together. */
export const WARP_NCCD_KEY = 'WARPNCCD';
/** Number of PSF terms (CCDs with a PSF). */
export const WARP_NPSF_KEY = 'WARPNPSF';
/** Key of PSF term k (1-based, 4 digits): sigma x CCD scale / patch scale, patch pixels. */
export function psfTermKey(k: number): string {
  return `PSFT${String(k).padStart(4, '0')}`;
}
/** Most PSF terms one warp can carry (4-digit keys). */
export const MAX_PSF_TERMS = 9999;
/** Weight of the warp's PSF kernel image in the coadd PSF: patch pixels (0: none). */
export const WARP_PSF_AREA_KEY = 'WARPPSFA';

/** The warp facts kept in its metadata. */
export interface WarpFacts {
  readonly visit: number;
  readonly nCcd: number;
  /** Per-CCD PSF sigma, patch pixels, in detector order. */
  readonly psfTerms: readonly number[];
  /**
   * Patch pixels covered by the CCDs whose PSF images make the warp's PSF (its weight in
   * the coadd PSF); 0 when the warp's PSF is only a Gaussian of the mean sigma.
   */
  readonly psfArea: number;
}

/** Writes `facts` into `header`. */
export function setWarpFacts(header: Header, facts: WarpFacts): void {
  if (facts.psfTerms.length > MAX_PSF_TERMS) {
    throw new CoaddTaskError(
      'TASK_BAD_INPUT',
      `${facts.psfTerms.length} CCDs in one warp; at most ${MAX_PSF_TERMS} are supported`,
    );
  }
  header.set(WARP_VISIT_KEY, facts.visit, 'visit of this direct warp');
  header.set(WARP_NCCD_KEY, facts.nCcd, 'CCDs warped together');
  header.set(WARP_NPSF_KEY, facts.psfTerms.length, 'CCD PSF sigmas that follow (patch px)');
  facts.psfTerms.forEach((t, i) => {
    header.set(psfTermKey(i + 1), t, '[pixel] CCD PSF sigma on the patch grid');
  });
  header.set(WARP_PSF_AREA_KEY, facts.psfArea, '[pixel] weight of the PSF image (patch px)');
}

/** Reads the facts back. @throws CoaddTaskError TASK_BAD_INPUT when keys are missing */
export function getWarpFacts(header: Header, what = 'the warp'): WarpFacts {
  const num = (key: string): number => {
    const v = header.get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new CoaddTaskError(
        'TASK_BAD_INPUT',
        `${what} has no numeric ${key} in its metadata; it was not written by MakeDirectWarpTask (rerun makeDirectWarp)`,
      );
    }
    return v;
  };
  const n = num(WARP_NPSF_KEY);
  const psfTerms: number[] = [];
  for (let k = 1; k <= n; k++) psfTerms.push(num(psfTermKey(k)));
  // Warps written before the key existed carry a Gaussian PSF only.
  const psfArea = header.get(WARP_PSF_AREA_KEY) === undefined ? 0 : num(WARP_PSF_AREA_KEY);
  return { visit: num(WARP_VISIT_KEY), nCcd: num(WARP_NCCD_KEY), psfTerms, psfArea };
}
