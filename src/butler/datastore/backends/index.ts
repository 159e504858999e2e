/**
 * Storage backends by URL: a plain path or `file:///...` (local files), `s3://bucket/prefix`,
 * `webdav://host:port/path`, `davs://host/path`, `http(s)://host/path` (WebDAV).
 */

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { redactUrl, StorageError } from '../errors.ts';
import { LocalBackend } from './local.ts';
import { S3Backend } from './s3.ts';
import type { StorageBackend } from './types.ts';
import { WebdavBackend } from './webdav.ts';

export { type BasicCredentials, parseNetrc, webdavCredentials } from './credentials.ts';
export { LocalBackend } from './local.ts';
export { MULTIPART_PART_SIZE, MULTIPART_THRESHOLD, S3Backend } from './s3.ts';
export {
  type BackendKind,
  type ByteRange,
  checkRelativePath,
  type StorageBackend,
  type StoredFile,
  TEMP_MARK,
  TEMP_RE,
  tempName,
  type WriteOptions,
} from './types.ts';
export { parseMultistatus, WebdavBackend, webdavHttpUrl } from './webdav.ts';

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** True if `s` is an absolute URI (`scheme://...`) rather than a path. */
export function isUri(s: string): boolean {
  return SCHEME_RE.test(s);
}

/** The storage backend for a datastore root (see the module comment). */
export function openBackend(url: string): StorageBackend {
  const m = SCHEME_RE.exec(url);
  if (!m) {
    if (url.trim() === '') {
      throw new StorageError(
        'DATASTORE_BAD_URL',
        url,
        'the datastore root is empty; give a path or URL',
      );
    }
    return new LocalBackend(resolve(url));
  }
  const scheme = m[1]!.toLowerCase();
  switch (scheme) {
    case 'file':
      return new LocalBackend(fileURLToPath(url));
    case 's3':
      return new S3Backend(url);
    case 'webdav':
    case 'webdavs':
    case 'dav':
    case 'davs':
    case 'http':
    case 'https':
      return new WebdavBackend(url);
    default:
      throw new StorageError(
        'DATASTORE_BAD_URL',
        redactUrl(url),
        `no storage backend for '${scheme}://' URLs (${redactUrl(url)}); use a path, file://, s3://, webdav://, davs:// or http(s)://`,
      );
  }
}

/**
 * Splits an absolute file URI or absolute local path (a 'direct' ingest record) into a
 * backend rooted at its directory and the file name.
 */
export function openFileUri(uri: string): { backend: StorageBackend; name: string } {
  const asUrl = isUri(uri) ? uri : isAbsolute(uri) ? pathToFileURL(uri).toString() : null;
  if (asUrl === null) {
    throw new StorageError(
      'DATASTORE_BAD_URL',
      uri,
      `'${uri}' is neither a URI nor an absolute path`,
    );
  }
  const u = new URL(asUrl);
  const slash = u.pathname.lastIndexOf('/');
  const name = decodeURIComponent(u.pathname.slice(slash + 1));
  const dir = new URL(asUrl);
  dir.pathname = u.pathname.slice(0, slash + 1);
  if (name === '') {
    throw new StorageError(
      'DATASTORE_BAD_URL',
      redactUrl(uri),
      `'${redactUrl(uri)}' names a directory, not a file`,
    );
  }
  // Credentials in the URL are kept for the backend (WebDAV reads them) but never shown.
  const root = u.protocol === 's3:' ? `s3://${u.hostname}${dir.pathname}` : dir.toString();
  return { backend: openBackend(root), name };
}
