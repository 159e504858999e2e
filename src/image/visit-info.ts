/**
 * Visit information of an exposure (LSST's VisitInfo plus the data-ID values visit,
 * detector, band and physical filter) and its FITS header keys.
 */

import type { Header } from '../fits/header.ts';
import { ExposureError } from './exposure-errors.ts';

/**
 * What was observed and how. Numbers that are unknown are NaN (and are not written to
 * FITS); strings that are unknown are `''`.
 */
export interface VisitInfo {
  /** Visit id (data-ID `visit`). Header key VISIT. */
  readonly visit: number;
  /** Detector id (data-ID `detector`). Header key DETECTOR. */
  readonly detector: number;
  /** Abstract band, e.g. `'r'`. Header key BAND. */
  readonly band: string;
  /** Physical filter, e.g. `'r_57'`. Header key FILTER. */
  readonly physicalFilter: string;
  /** Exposure time, seconds. Header key EXPTIME. */
  readonly exposureTime: number;
  /**
   * MJD (TAI) of the **middle** of the exposure, days. Written as MJD-AVG; MJD-OBS holds
   * the start (mid - exposureTime / 2), as the FITS standard defines it.
   */
  readonly mjd: number;
  /** Instrument name, e.g. `'LSSTCam'`. Header key INSTRUME. */
  readonly instrument: string;
  /** Boresight right ascension, degrees (ICRS). Header key BORE-RA. */
  readonly boresightRa: number;
  /** Boresight declination, degrees (ICRS). Header key BORE-DEC. */
  readonly boresightDec: number;
  /**
   * Rotation angle of the focal plane on the sky, degrees: position angle (north through
   * east) of the focal plane's +y axis (LSST's boresightRotAngle with SKY rotType).
   * Header key ROTPA.
   */
  readonly rotationAngle: number;
}

/** Header keys written and read for {@link VisitInfo}, in write order. */
export const VISIT_INFO_KEYS = [
  'VISIT',
  'DETECTOR',
  'BAND',
  'FILTER',
  'EXPTIME',
  'MJD-OBS',
  'MJD-AVG',
  'INSTRUME',
  'BORE-RA',
  'BORE-DEC',
  'ROTPA',
] as const;

const SECONDS_PER_DAY = 86_400;

/** Writes `info` into `header` (keys of {@link VISIT_INFO_KEYS}; NaN numbers skipped). */
export function writeVisitInfo(header: Header, info: VisitInfo): void {
  const num = (key: string, v: number, comment: string): void => {
    if (Number.isFinite(v)) header.set(key, v, comment);
  };
  num('VISIT', info.visit, 'visit id');
  num('DETECTOR', info.detector, 'detector id');
  header.set('BAND', info.band, 'abstract band');
  header.set('FILTER', info.physicalFilter, 'physical filter');
  num('EXPTIME', info.exposureTime, '[s] exposure time');
  num('MJD-OBS', info.mjd - info.exposureTime / 2 / SECONDS_PER_DAY, '[d] MJD (TAI) of start');
  num('MJD-AVG', info.mjd, '[d] MJD (TAI) of mid-exposure');
  header.set('INSTRUME', info.instrument, 'instrument');
  num('BORE-RA', info.boresightRa, '[deg] boresight right ascension (ICRS)');
  num('BORE-DEC', info.boresightDec, '[deg] boresight declination (ICRS)');
  num('ROTPA', info.rotationAngle, '[deg] sky position angle of focal-plane +y');
}

/**
 * Reads a {@link VisitInfo} from `header`, or null when it has none of the keys.
 * MJD of mid-exposure comes from MJD-AVG, else MJD-OBS + EXPTIME / 2.
 * Throws EXPOSURE_BAD_HEADER for a key of the wrong type.
 */
export function readVisitInfo(
  header: Header,
  context: { file?: string; hdu?: number | string } = {},
): VisitInfo | null {
  if (!VISIT_INFO_KEYS.some((k) => header.has(k))) return null;
  const num = (key: string): number => {
    const v = header.get(key);
    if (v === undefined) return NaN;
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    throw new ExposureError(
      'EXPOSURE_BAD_HEADER',
      `expected a number, found ${JSON.stringify(String(v))}; fix or delete the card`,
      { ...context, key },
    );
  };
  const str = (key: string): string => {
    const v = header.get(key);
    if (v === undefined) return '';
    if (typeof v === 'string') return v.trimEnd();
    throw new ExposureError(
      'EXPOSURE_BAD_HEADER',
      `expected a string, found ${String(v)}; fix or delete the card`,
      { ...context, key },
    );
  };
  const exposureTime = num('EXPTIME');
  let mjd = num('MJD-AVG');
  if (Number.isNaN(mjd)) {
    const start = num('MJD-OBS');
    mjd = start + (Number.isFinite(exposureTime) ? exposureTime / 2 / SECONDS_PER_DAY : 0);
  }
  return {
    visit: num('VISIT'),
    detector: num('DETECTOR'),
    band: str('BAND'),
    physicalFilter: str('FILTER'),
    exposureTime,
    mjd,
    instrument: str('INSTRUME'),
    boresightRa: num('BORE-RA'),
    boresightDec: num('BORE-DEC'),
    rotationAngle: num('ROTPA'),
  };
}
