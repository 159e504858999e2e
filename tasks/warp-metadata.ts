/**
 * What a direct warp carries in its metadata (primary FITS header) so that assembly can
 * reproduce `gpu-coadd run`'s coadd PSF exactly: the visit, the number of CCDs warped,
 * and each CCD's PSF sigma in patch pixels (one key per CCD, in detector order, doubles
 * written in their shortest round-trip form, so the values read back are the same bits).
 * The coadd's sigma is the mean of all warps' terms summed in visit then detector order
 * (src/scheduler/coadd-steps.ts coaddPsfSigma).
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

/** The warp facts kept in its metadata. */
export interface WarpFacts {
  readonly visit: number;
  readonly nCcd: number;
  /** Per-CCD PSF sigma, patch pixels, in detector order. */
  readonly psfTerms: readonly number[];
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
  return { visit: num(WARP_VISIT_KEY), nCcd: num(WARP_NCCD_KEY), psfTerms };
}
