/**
 * Photometric calibration (LSST's PhotoCalib, spatially constant): the factor that turns
 * instrumental counts into nanojansky.
 */

import { ExposureError } from './exposure-errors.ts';

/** AB magnitude of 1 nJy: m_AB = -2.5 log10(f / 3631 Jy) = 31.4 for f = 1 nJy. */
export const AB_MAG_OF_ONE_NJY = 31.4;

/** Flux density of AB magnitude 0, in nJy (3631 Jy). */
export const AB_ZERO_POINT_NJY = 3631e9;

/**
 * A spatially constant photometric calibration: `calibrationMean` nJy per count
 * (per unit of the image's pixel values), with its 1-sigma uncertainty
 * `calibrationErr` (nJy per count). An image already in nJy has mean 1, error 0.
 */
export class PhotoCalib {
  /** nJy per count (> 0). */
  readonly calibrationMean: number;
  /** 1-sigma uncertainty of `calibrationMean`, nJy per count (>= 0). */
  readonly calibrationErr: number;

  constructor(calibrationMean: number, calibrationErr = 0) {
    if (!(Number.isFinite(calibrationMean) && calibrationMean > 0)) {
      throw new ExposureError(
        'EXPOSURE_BAD_ARGUMENT',
        `PhotoCalib mean must be a positive number of nJy per count, got ${calibrationMean}`,
      );
    }
    if (!(Number.isFinite(calibrationErr) && calibrationErr >= 0)) {
      throw new ExposureError(
        'EXPOSURE_BAD_ARGUMENT',
        `PhotoCalib error must be a non-negative number of nJy per count, got ${calibrationErr}`,
      );
    }
    this.calibrationMean = calibrationMean;
    this.calibrationErr = calibrationErr;
  }

  /** A calibration from FLUXMAG0 (counts of a magnitude-0 AB source) and its error. */
  static fromFluxMag0(fluxMag0: number, fluxMag0Err = 0): PhotoCalib {
    if (!(Number.isFinite(fluxMag0) && fluxMag0 > 0)) {
      throw new ExposureError(
        'EXPOSURE_BAD_ARGUMENT',
        `FLUXMAG0 must be a positive number of counts, got ${fluxMag0}`,
      );
    }
    const mean = AB_ZERO_POINT_NJY / fluxMag0;
    return new PhotoCalib(mean, (mean * fluxMag0Err) / fluxMag0);
  }

  /** Counts of a magnitude-0 AB source (FLUXMAG0) = 3631e9 nJy / calibrationMean. */
  get fluxMag0(): number {
    return AB_ZERO_POINT_NJY / this.calibrationMean;
  }

  /** Error of {@link fluxMag0}, counts (first-order propagation). */
  get fluxMag0Err(): number {
    return (this.fluxMag0 * this.calibrationErr) / this.calibrationMean;
  }

  /** Instrumental magnitude zero point: m_AB = zeroPoint - 2.5 log10(counts). */
  get zeroPoint(): number {
    return AB_MAG_OF_ONE_NJY - 2.5 * Math.log10(this.calibrationMean);
  }

  /** Flux in nJy of `counts` (image units). */
  instFluxToNanojansky(counts: number): number {
    return counts * this.calibrationMean;
  }

  /**
   * Flux error in nJy of a measurement `counts` +- `countsErr`, including the
   * calibration's own error (as LSST: errors added in quadrature, relative).
   */
  instFluxErrToNanojansky(counts: number, countsErr: number): number {
    return Math.hypot(countsErr * this.calibrationMean, counts * this.calibrationErr);
  }

  /** AB magnitude of `counts` (NaN for counts <= 0). */
  instFluxToMagnitude(counts: number): number {
    return counts > 0 ? AB_MAG_OF_ONE_NJY - 2.5 * Math.log10(counts * this.calibrationMean) : NaN;
  }

  /** True when both fields are equal. */
  equals(other: PhotoCalib): boolean {
    return (
      this.calibrationMean === other.calibrationMean && this.calibrationErr === other.calibrationErr
    );
  }
}
