/**
 * Errors raised by the geometry layer (angles, WCS, skymap).
 *
 * Every error carries a stable machine-readable `code` (callers and CLIs switch on it,
 * never on the message), the offending FITS `key` or parameter name when there is one,
 * and a message that says what to do next.
 */

/** Stable error codes of the WCS code paths. */
export type WcsErrorCode =
  | 'WCS_SINGULAR_CD'
  | 'WCS_BAD_KEY'
  | 'WCS_MISSING_KEY'
  | 'WCS_UNSUPPORTED_PROJECTION'
  | 'WCS_UNSUPPORTED_FRAME'
  | 'WCS_NO_CONVERGENCE'
  | 'WCS_BAD_ARGUMENT';

/** Stable error codes of the skymap code paths. */
export type SkyMapErrorCode = 'SKYMAP_BAD_CONFIG' | 'SKYMAP_NO_SUCH_TRACT' | 'SKYMAP_NO_SUCH_PATCH';

/** Every code a {@link GeomError} can carry. */
export type GeomErrorCode = WcsErrorCode | SkyMapErrorCode;

/** Base class of every error thrown by `src/geom`. */
export class GeomError extends Error {
  /** Stable identifier of the failure, e.g. `'WCS_SINGULAR_CD'`. */
  readonly code: GeomErrorCode;
  /** FITS keyword or parameter name at fault, when one is known. */
  readonly key: string | undefined;

  constructor(code: GeomErrorCode, message: string, key?: string) {
    super(message);
    this.name = 'GeomError';
    this.code = code;
    this.key = key;
  }
}

/** A WCS could not be built, read, written or evaluated. */
export class WcsError extends GeomError {
  declare readonly code: WcsErrorCode;

  constructor(code: WcsErrorCode, message: string, key?: string) {
    super(code, message, key);
    this.name = 'WcsError';
  }
}

/** A skymap was misconfigured or asked for a tract or patch it does not have. */
export class SkyMapError extends GeomError {
  declare readonly code: SkyMapErrorCode;

  constructor(code: SkyMapErrorCode, message: string, key?: string) {
    super(code, message, key);
    this.name = 'SkyMapError';
  }
}
