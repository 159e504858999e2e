/** Errors of source catalogs: bad column definitions and failed writes, with a next step. */

/** Stable codes of {@link CatalogError}. */
export type CatalogErrorCode = 'CATALOG_BAD_COLUMN' | 'CATALOG_IO';

/** A catalog could not be built or written; the message says what to do. */
export class CatalogError extends Error {
  readonly code: CatalogErrorCode;
  constructor(code: CatalogErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CatalogError';
    this.code = code;
  }
}
