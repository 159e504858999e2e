/**
 * Errors of the Butler's file datastore (templates, formatters, storage backends).
 *
 * Every error has a stable `code` (callers and CLIs branch on it, never on the message)
 * and a message that says what to do next. Messages never carry credentials: URLs are
 * passed through {@link redactUrl} (and known secrets through {@link redactSecrets})
 * before they are put into a message, and errors from HTTP/S3 clients are summarized
 * rather than attached as `cause` (their request objects may hold Authorization headers).
 */

/** Stable codes of {@link DatastoreError}. New codes may be added; none changes meaning. */
export type DatastoreErrorCode =
  /** The target file of a put/ingest/transfer already exists (the dataset was stored before). */
  | 'DATASTORE_DATASET_EXISTS'
  /** A record points to a file that is not there. */
  | 'DATASTORE_FILE_MISSING'
  /** The file's checksum differs from the one recorded. */
  | 'DATASTORE_CHECKSUM_MISMATCH'
  /** The file's size differs from the one recorded. */
  | 'DATASTORE_SIZE_MISMATCH'
  /** A file template is malformed (syntax, literal text that would escape the root). */
  | 'DATASTORE_BAD_TEMPLATE'
  /** A file template cannot give unique paths for a dataset type (misses a dimension or `run`). */
  | 'DATASTORE_TEMPLATE_NOT_UNIQUE'
  /** A data ID lacks a value that the template requires, or a value is unusable. */
  | 'DATASTORE_TEMPLATE_VALUE'
  /** No formatter of that name, or the object is not what the formatter writes. */
  | 'DATASTORE_FORMATTER'
  /** The file's bytes cannot be decoded by the recorded formatter (corrupt or wrong format). */
  | 'DATASTORE_BAD_FILE'
  /** A read parameter the formatter does not support, or a bad value for one. */
  | 'DATASTORE_BAD_PARAMETER'
  /** A datastore URL that no backend understands, or a malformed one. */
  | 'DATASTORE_BAD_URL'
  /** The storage refused the credentials (HTTP 401/403). */
  | 'DATASTORE_AUTH'
  /** An operation the backend cannot do (e.g. hard links on S3). */
  | 'DATASTORE_UNSUPPORTED'
  /** Any other storage failure (disk full, permission denied, server error, network). */
  | 'DATASTORE_IO';

/** Base class of datastore errors: a stable `code` and a message with a next step. */
export class DatastoreError extends Error {
  /** Stable machine-readable code. */
  readonly code: DatastoreErrorCode;
  constructor(code: DatastoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatastoreError';
    this.code = code;
  }
}

/** A put, ingest or transfer would overwrite an existing file; nothing was written. */
export class DatasetExistsError extends DatastoreError {
  /** Dataset id being stored. */
  readonly datasetId: string;
  /** The existing file (relative path or redacted URI). */
  readonly path: string;
  constructor(datasetId: string, path: string) {
    super(
      'DATASTORE_DATASET_EXISTS',
      `dataset ${datasetId}: the file ${path} already exists; a dataset is written once. ` +
        'If it is left over from a failed write (no registry entry points to it), remove it ' +
        '(see Datastore.findLeftovers) and put again; otherwise store the new dataset in another RUN',
    );
    this.name = 'DatasetExistsError';
    this.datasetId = datasetId;
    this.path = path;
  }
}

/** The file a record points to is missing. */
export class FileMissingError extends DatastoreError {
  /** Dataset id of the record. */
  readonly datasetId: string;
  /** The missing file (record path or redacted URI). */
  readonly path: string;
  constructor(datasetId: string, path: string) {
    super(
      'DATASTORE_FILE_MISSING',
      `dataset ${datasetId}: its file ${path} is missing from the datastore. ` +
        'Restore the file from a backup or re-ingest it (butler ingest-files), or drop the ' +
        'dataset from the registry (butler prune-datasets) if it is gone for good',
    );
    this.name = 'FileMissingError';
    this.datasetId = datasetId;
    this.path = path;
  }
}

/** The stored file differs from what was recorded (checksum or size). */
export class ChecksumError extends DatastoreError {
  /** Dataset id of the record. */
  readonly datasetId: string;
  /** The file (record path or redacted URI). */
  readonly path: string;
  /** What was recorded (checksum string, or size in bytes as a string). */
  readonly expected: string;
  /** What the file has now. */
  readonly actual: string;
  constructor(
    code: 'DATASTORE_CHECKSUM_MISMATCH' | 'DATASTORE_SIZE_MISMATCH',
    datasetId: string,
    path: string,
    expected: string,
    actual: string,
  ) {
    const what = code === 'DATASTORE_SIZE_MISMATCH' ? 'size' : 'checksum';
    super(
      code,
      `dataset ${datasetId}: the ${what} of ${path} is ${actual} but ${expected} was recorded; ` +
        'the file was changed or corrupted after it was written. Restore it from a backup or ' +
        're-create the dataset (butler prune-datasets, then re-run the task that made it)',
    );
    this.name = 'ChecksumError';
    this.datasetId = datasetId;
    this.path = path;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A file template is malformed, or cannot be applied to a dataset. */
export class TemplateError extends DatastoreError {
  /** The template text. */
  readonly template: string;
  constructor(
    code: 'DATASTORE_BAD_TEMPLATE' | 'DATASTORE_TEMPLATE_NOT_UNIQUE' | 'DATASTORE_TEMPLATE_VALUE',
    template: string,
    message: string,
  ) {
    super(code, `file template '${template}': ${message}`);
    this.name = 'TemplateError';
    this.template = template;
  }
}

/** Formatter lookup, encoding or decoding failed. */
export class FormatterError extends DatastoreError {
  /** Formatter name involved. */
  readonly formatter: string;
  constructor(
    code: 'DATASTORE_FORMATTER' | 'DATASTORE_BAD_FILE' | 'DATASTORE_BAD_PARAMETER',
    formatter: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${formatter}: ${message}`, options);
    this.name = 'FormatterError';
    this.formatter = formatter;
  }
}

/** A storage operation failed (local disk, S3, WebDAV). */
export class StorageError extends DatastoreError {
  /** The storage location involved (redacted URI). */
  readonly uri: string;
  /** HTTP status when the storage answered with one. */
  readonly status: number | null;
  constructor(
    code: 'DATASTORE_BAD_URL' | 'DATASTORE_AUTH' | 'DATASTORE_UNSUPPORTED' | 'DATASTORE_IO',
    uri: string,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.uri = uri;
    this.status = options?.status ?? null;
  }
}

/**
 * Raised by backends when a path does not exist; the datastore turns it into a
 * {@link FileMissingError} naming the dataset.
 */
export class NotFoundError extends StorageError {
  constructor(uri: string) {
    super('DATASTORE_IO', uri, `${uri} does not exist`);
    this.name = 'NotFoundError';
  }
}

/** Raised by backends when an exclusive write finds the target present. */
export class AlreadyExistsError extends StorageError {
  constructor(uri: string) {
    super('DATASTORE_IO', uri, `${uri} already exists`);
    this.name = 'AlreadyExistsError';
  }
}

/** True if `e` is a {@link DatastoreError} (any subclass). */
export function isDatastoreError(e: unknown): e is DatastoreError {
  return e instanceof DatastoreError;
}

/**
 * `url` without credentials: userinfo becomes `***` and query parameters that look like
 * secrets (signatures, tokens, keys, passwords) are replaced by `***`. Strings that do not
 * parse as URLs are returned with any `user:pass@` removed.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@\s]*@/g, '//***@');
  }
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  for (const key of [...u.searchParams.keys()]) {
    if (/sig|token|key|secret|pass|credential|auth/i.test(key)) u.searchParams.set(key, '***');
  }
  return u.toString();
}

/**
 * `text` with every occurrence of each secret (and of its base64 and URL encodings)
 * replaced by `***`, and any `scheme://user:pass@` userinfo removed. Used on messages of
 * errors that come from HTTP/S3 clients before they are shown.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1***@');
  for (const s of secrets) {
    if (s.length < 3) continue;
    for (const form of [s, encodeURIComponent(s), Buffer.from(s).toString('base64')]) {
      out = out.split(form).join('***');
    }
  }
  return out;
}
