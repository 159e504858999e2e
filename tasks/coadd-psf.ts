/** The PSF of a coadd, as the detection and measurement tasks need it. */
import type { Exposure } from '../src/image/exposure.ts';
import type { Psf } from '../src/image/psf.ts';
import { psfGaussianSigma } from '../src/scheduler/coadd-steps.ts';
import { CoaddTaskError } from './errors.ts';

/**
 * The coadd's PSF model (what assembly set: an IMAGE PSF, or a Gaussian for inputs that
 * only give a width). @throws CoaddTaskError when it has no PSF
 */
export function coaddPsfOf(coadd: Exposure, what: string): Psf {
  const psf = coadd.psf;
  if (!psf) {
    throw new CoaddTaskError(
      'TASK_BAD_INPUT',
      `${what} has no PSF; it was not written by assembleCoadd (rerun it)`,
    );
  }
  return psf;
}

/**
 * The coadd's PSF sigma, pixels, for detection smoothing: the Gaussian's model sigma
 * (exactly what assembly set), else the effective sigma of the model's second moments
 * (src/scheduler/coadd-steps.ts psfGaussianSigma). @throws CoaddTaskError when it has
 * no PSF
 */
export function coaddPsfSigmaOf(coadd: Exposure, what: string): number {
  return psfGaussianSigma(coaddPsfOf(coadd, what));
}
