/**
 * The storage-backend contract of the datastore: one interface over local files, S3 and
 * WebDAV. Paths are relative to the backend's root, `/`-separated, with no empty, `.`
 * or `..` segments (checked by {@link checkRelativePath}).
 */

import { randomUUID } from 'node:crypto';
import { StorageError } from '../errors.ts';

/** A byte range `[start, end)` (0-based byte offsets; `end` exclusive). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** One stored file, as listed by {@link StorageBackend.list}. */
export interface StoredFile {
  /** Path relative to the backend root. */
  readonly path: string;
  /** Size, bytes. */
  readonly size: number;
  /** Last modification time, ms since the Unix epoch (null when the storage does not say). */
  readonly mtimeMs: number | null;
}

/** Options of writes. */
export interface WriteOptions {
  /** Replace an existing file (default false: the write fails with AlreadyExistsError). */
  readonly overwrite?: boolean;
}

/** Which storage a backend talks to. */
export type BackendKind = 'file' | 's3' | 'webdav';

/**
 * A storage backend. Every method throws StorageError (codes DATASTORE_IO,
 * DATASTORE_AUTH, DATASTORE_UNSUPPORTED), NotFoundError for a missing path and
 * AlreadyExistsError when an exclusive write finds its target; messages carry redacted
 * URIs only.
 */
export interface StorageBackend {
  readonly kind: BackendKind;
  /** The root as a URI, credentials removed. */
  readonly root: string;
  /** Bytes of `path` (all, or `range`). */
  read(path: string, range?: ByteRange): Promise<Uint8Array>;
  /**
   * Writes `bytes` to `path` so that the file is either absent or complete: a temporary
   * `<path>.tmp-<uuid>` renamed into place (files), one PUT (S3, multipart above a
   * threshold, then a HEAD to verify the size), or PUT to a temporary name and MOVE
   * (WebDAV). Parent directories are created. The data is on stable storage (fsync)
   * when it returns.
   */
  writeAtomic(path: string, bytes: Uint8Array, options?: WriteOptions): Promise<void>;
  /** Whether `path` exists (as a file). */
  exists(path: string): Promise<boolean>;
  /** Size of `path`, bytes. */
  size(path: string): Promise<number>;
  /** Deletes `path`; false when there was nothing to delete. */
  remove(path: string): Promise<boolean>;
  /** Every file under `prefix` (a directory path, '' for all), recursively. */
  list(prefix?: string): Promise<StoredFile[]>;
  /** Copies a local file to `path` (atomically, as {@link writeAtomic}). */
  copyFrom(localPath: string, path: string, options?: WriteOptions): Promise<void>;
  /** Moves a local file to `path` (rename where possible, else copy then delete). */
  moveFrom(localPath: string, path: string, options?: WriteOptions): Promise<void>;
  /** Hard-links (else symlinks) a local file to `path`; local backends only. */
  linkFrom(localPath: string, path: string): Promise<void>;
  /** Absolute URI of `path`, credentials removed. */
  uri(path: string): string;
  /** The local file-system path of `path`, or null when the storage is remote. */
  localPath(path: string): string | null;
}

/** Marker in temporary names: `<path>.tmp-<uuid>`. */
export const TEMP_MARK = '.tmp-';

/**
 * Matches a temporary name made by {@link tempName}, and the FITS writer's own temporary
 * next to it (`.<name>.tmp-<uuid>.<hex>.tmp`, see src/fits/writer.ts).
 */
export const TEMP_RE =
  /\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[0-9a-f]+\.tmp)?$/;

/** A fresh temporary name next to `path`. */
export function tempName(path: string): string {
  return `${path}${TEMP_MARK}${randomUUID()}`;
}

/**
 * Checks that `path` is a clean relative path (see the module comment); `allowEmpty`
 * admits '' (the root, for listings). Returns the path without a trailing slash.
 */
export function checkRelativePath(path: string, root: string, allowEmpty = false): string {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  if (p === '' && allowEmpty) return p;
  const segs = p.split('/');
  if (
    p === '' ||
    p.startsWith('/') ||
    p.includes('\\') ||
    p.includes('\0') ||
    segs.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new StorageError(
      'DATASTORE_BAD_URL',
      root,
      `'${path}' is not a clean relative path inside ${root} (no leading /, no empty, . or .. segments)`,
    );
  }
  return p;
}
