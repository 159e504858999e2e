/**
 * Errors raised by the Exposure data model, PSF models and Exposure <-> FITS I/O.
 *
 * Each error has a stable `code` (callers and CLIs branch on it, never on the message),
 * and, where known, the file and HDU at fault. Messages say what to do next.
 */

/** Stable codes of {@link ExposureError}. New codes may be added; none changes meaning. */
export type ExposureErrorCode =
  /** A required HDU (IMAGE, MASK, VARIANCE) is absent from the file. */
  | 'EXPOSURE_MISSING_HDU'
  /** The WCS in the IMAGE header is present but unusable (NaN, singular CD, bad keys). */
  | 'EXPOSURE_BAD_WCS'
  /** Image, mask, variance (or image and weight map) differ in size. */
  | 'EXPOSURE_SHAPE_MISMATCH'
  /** Mask pixels carry bits that no MP_<NAME> key of the MASK header names. */
  | 'EXPOSURE_UNKNOWN_MASK_BITS'
  /** The PSF extension (or a PSF constructor argument) is invalid. */
  | 'EXPOSURE_BAD_PSF'
  /** A metadata key (visit info, photometric calibration, xy0) has a bad value. */
  | 'EXPOSURE_BAD_HEADER'
  /** An argument passed by the caller is invalid (bbox outside the image, bad option). */
  | 'EXPOSURE_BAD_ARGUMENT'
  /** The file is not FITS, is truncated or corrupt (the FITS reader's error is the cause). */
  | 'EXPOSURE_BAD_FITS'
  /** The file cannot be opened, read or written (operating-system error). */
  | 'EXPOSURE_IO';

/** Context attached to an {@link ExposureError}. */
export interface ExposureErrorContext {
  /** Path of the file involved. */
  readonly file?: string;
  /** HDU index or EXTNAME involved. */
  readonly hdu?: number | string;
  /** Header keyword involved. */
  readonly key?: string;
  /** The underlying error (FitsError, WcsError, I/O error). */
  readonly cause?: unknown;
}

/** Base class of Exposure/PSF errors: stable `code`, plus `file`, `hdu`, `key` context. */
export class ExposureError extends Error {
  /** Stable machine-readable code. */
  readonly code: ExposureErrorCode;
  /** File path, when known. */
  readonly file: string | undefined;
  /** HDU index or EXTNAME, when known. */
  readonly hdu: number | string | undefined;
  /** Header keyword, when relevant. */
  readonly key: string | undefined;

  constructor(code: ExposureErrorCode, message: string, context: ExposureErrorContext = {}) {
    const where: string[] = [];
    if (context.file !== undefined) where.push(context.file);
    if (context.hdu !== undefined) where.push(`HDU ${context.hdu}`);
    if (context.key !== undefined) where.push(`key ${context.key}`);
    super(where.length > 0 ? `${where.join(', ')}: ${message}` : message, {
      cause: context.cause,
    });
    this.name = 'ExposureError';
    this.code = code;
    this.file = context.file;
    this.hdu = context.hdu;
    this.key = context.key;
  }
}

/** True when `error` is an {@link ExposureError}, optionally with the given code. */
export function isExposureError(error: unknown, code?: ExposureErrorCode): error is ExposureError {
  return error instanceof ExposureError && (code === undefined || error.code === code);
}
