/** The Gaussian sigma of a coadd's PSF. */
import type { Exposure } from '../src/image/exposure.ts';
import { GaussianPsf } from '../src/image/psf.ts';
import { CoaddTaskError } from './errors.ts';

/**
 * The coadd's PSF sigma, pixels: the Gaussian's model sigma (exactly what assembly set),
 * else the effective sigma of another model. @throws CoaddTaskError when it has no PSF
 */
export function coaddPsfSigmaOf(coadd: Exposure, what: string): number {
  const psf = coadd.psf;
  if (!psf) {
    throw new CoaddTaskError(
      'TASK_BAD_INPUT',
      `${what} has no PSF; it was not written by assembleCoadd (rerun it)`,
    );
  }
  return psf instanceof GaussianPsf ? psf.modelSigma : psf.sigma;
}
