/**
 * Errors raised by the FITS reader and writer.
 *
 * Every failure caused by the content of a file (or of bytes handed to the reader) is a
 * {@link FitsError} with a stable `code`, so callers (the butler, CLIs, batch wrappers)
 * can branch on the code and report the file, HDU and keyword without parsing messages.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type FitsErrorCode =
  /** The file ends before a header or data unit that its header promises. */
  | 'FITS_TRUNCATED'
  /** A header has no END card before the end of the file. */
  | 'FITS_NO_END'
  /** BITPIX (or ZBITPIX) is not one of 8, 16, 32, 64, -32, -64. */
  | 'FITS_BAD_BITPIX'
  /** NAXISn, PCOUNT, GCOUNT or a table size is negative, not an integer, or absurd. */
  | 'FITS_BAD_SIZE'
  /** A requested HDU (index, EXTNAME, EXTVER) does not exist. */
  | 'FITS_HDU_NOT_FOUND'
  /** A compressed tile could not be decompressed. */
  | 'FITS_DECOMPRESS'
  /** CHECKSUM or DATASUM does not match the bytes. */
  | 'FITS_CHECKSUM'
  /** A header card cannot be parsed or a required keyword is missing or has the wrong type. */
  | 'FITS_BAD_HEADER'
  /** A value cannot be written to a header card (NaN, too long, bad keyword). */
  | 'FITS_BAD_VALUE'
  /** A binary-table column format (TFORMn) is invalid or inconsistent with NAXIS1. */
  | 'FITS_BAD_TABLE'
  /** The file uses a valid FITS feature this reader does not implement. */
  | 'FITS_UNSUPPORTED'
  /** An argument passed by the caller is invalid (bad section box, bad data for writing). */
  | 'FITS_BAD_ARGUMENT'
  /** An operating-system I/O error while reading or writing a file. */
  | 'FITS_IO';

/** Context attached to a {@link FitsError}; all fields optional. */
export interface FitsErrorContext {
  /** Path of the file, or `'<bytes>'` for in-memory input. */
  readonly file?: string;
  /** HDU index (0 = primary) or EXTNAME. */
  readonly hdu?: number | string;
  /** Header keyword involved, e.g. `'NAXIS2'` or `'TFORM3'`. */
  readonly key?: string;
  /** Underlying error (I/O or zlib), if any. */
  readonly cause?: unknown;
}

/** Base class of all FITS errors: `code` is stable, `file`/`hdu`/`key` give context. */
export class FitsError extends Error {
  /** Stable machine-readable code. */
  readonly code: FitsErrorCode;
  /** File path (or `'<bytes>'`), when known. */
  readonly file: string | undefined;
  /** HDU index (0 = primary) or EXTNAME, when known. */
  readonly hdu: number | string | undefined;
  /** Header keyword, when relevant. */
  readonly key: string | undefined;
  /** The message without the file/HDU/key prefix. */
  readonly detail: string;

  constructor(code: FitsErrorCode, message: string, context: FitsErrorContext = {}) {
    const where = describeWhere(context);
    super(where ? `${where}: ${message}` : message, { cause: context.cause });
    this.name = 'FitsError';
    this.code = code;
    this.file = context.file;
    this.hdu = context.hdu;
    this.key = context.key;
    this.detail = message;
  }
}

/**
 * Runs `fn`, adding `context` (file, HDU) to any {@link FitsError} that lacks it, so
 * errors raised deep inside (e.g. by `Header.get`) still name the file and HDU.
 */
export function withContext<T>(context: FitsErrorContext, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FitsError && (e.file === undefined || e.hdu === undefined)) {
      throw new FitsError(e.code, e.detail, {
        ...context,
        ...(e.file !== undefined ? { file: e.file } : {}),
        ...(e.hdu !== undefined ? { hdu: e.hdu } : {}),
        ...(e.key !== undefined ? { key: e.key } : {}),
        cause: e,
      });
    }
    throw e;
  }
}

function describeWhere(context: FitsErrorContext): string {
  const parts: string[] = [];
  if (context.file !== undefined) parts.push(context.file);
  if (context.hdu !== undefined) parts.push(`HDU ${context.hdu}`);
  if (context.key !== undefined) parts.push(`key ${context.key}`);
  return parts.join(', ');
}

/** True when `error` is a {@link FitsError}, optionally with the given code. */
export function isFitsError(error: unknown, code?: FitsErrorCode): error is FitsError {
  return error instanceof FitsError && (code === undefined || error.code === code);
}
