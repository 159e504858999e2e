/**
 * WebDAV backend: `webdav://host:port/path` (plain HTTP), `davs://host/path` (HTTPS) and
 * `http(s)://host/path` URLs, spoken with fetch.
 *
 * Atomic writes: PUT to `<name>.tmp-<uuid>` in the target collection, then MOVE it onto
 * the final name with `Overwrite: F` (the server refuses with 412 if the name exists), so
 * a reader sees no file or the whole file. Parent collections are created first with
 * MKCOL (a PUT into a missing collection is refused with 409). Listings use PROPFIND
 * with `Depth: infinity` (Apache needs `DavDepthInfinity On`). Credentials: see
 * credentials.ts; they travel in an Authorization header only, and never appear in URIs
 * or messages.
 */

import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { AlreadyExistsError, NotFoundError, redactSecrets, StorageError } from '../errors.ts';
import { type BasicCredentials, webdavCredentials } from './credentials.ts';
import {
  type ByteRange,
  checkRelativePath,
  type StorageBackend,
  type StoredFile,
  tempName,
  type WriteOptions,
} from './types.ts';

/** The http(s) URL a WebDAV datastore URL stands for (webdav: -> http:, davs: -> https:). */
export function webdavHttpUrl(url: string): URL {
  const u = new URL(url);
  if (u.protocol === 'webdav:' || u.protocol === 'dav:')
    return new URL(`http:${url.slice(u.protocol.length)}`);
  if (u.protocol === 'davs:' || u.protocol === 'webdavs:')
    return new URL(`https:${url.slice(u.protocol.length)}`);
  if (u.protocol === 'http:' || u.protocol === 'https:') return u;
  throw new StorageError('DATASTORE_BAD_URL', url, `'${u.protocol}' is not a WebDAV URL scheme`);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return XML_ENTITIES[e] ?? m;
  });
}

/** Text of the first `<ns:name>` element in `xml` (any namespace prefix), or null. */
function element(xml: string, name: string): string | null {
  const m = new RegExp(`<(?:[\\w.-]+:)?${name}\\b[^>]*>([\\s\\S]*?)</(?:[\\w.-]+:)?${name}>`).exec(
    xml,
  );
  return m ? unescapeXml(m[1]!.trim()) : null;
}

/** Entries of a PROPFIND multistatus body: href, whether a collection, size, mtime. */
export function parseMultistatus(
  xml: string,
): Array<{ href: string; collection: boolean; size: number; mtimeMs: number | null }> {
  const out: Array<{ href: string; collection: boolean; size: number; mtimeMs: number | null }> =
    [];
  const re = /<(?:[\w.-]+:)?response\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?response>/g;
  for (const m of xml.matchAll(re)) {
    const body = m[1]!;
    const href = element(body, 'href');
    if (href === null) continue;
    const collection = /<(?:[\w.-]+:)?collection\b[^>]*\/?>/.test(body);
    const len = element(body, 'getcontentlength');
    const mod = element(body, 'getlastmodified');
    const t = mod ? Date.parse(mod) : Number.NaN;
    out.push({
      href,
      collection,
      size: len ? Number(len) : 0,
      mtimeMs: Number.isFinite(t) ? t : null,
    });
  }
  return out;
}

/** A request body fetch accepts. */
type BodyInit = NonNullable<RequestInit['body']>;

const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>' +
  '<D:resourcetype/><D:getcontentlength/><D:getlastmodified/></D:prop></D:propfind>';

/** WebDAV {@link StorageBackend}. */
export class WebdavBackend implements StorageBackend {
  readonly kind = 'webdav' as const;
  readonly root: string;
  /** Base http(s) URL of the root, without credentials and without a trailing slash. */
  private readonly base: string;
  private readonly basePath: string;
  private readonly auth: string | null;
  private readonly secrets: string[];
  private readonly knownCollections = new Set<string>();

  /** `url`: see the module comment; `credentials` override the environment lookup. */
  constructor(url: string, credentials?: BasicCredentials | null) {
    const http = webdavHttpUrl(url);
    const creds = credentials === undefined ? webdavCredentials(http) : credentials;
    http.username = '';
    http.password = '';
    http.search = '';
    http.hash = '';
    this.base = http.toString().replace(/\/+$/, '');
    this.basePath = new URL(this.base).pathname.replace(/\/+$/, '');
    this.root = `${this.base}/`;
    this.auth = creds
      ? `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`
      : null;
    this.secrets = creds
      ? [creds.password, `${creds.user}:${creds.password}`, this.auth!.slice(6)]
      : [];
  }

  private href(path: string, allowEmpty = false): string {
    const p = checkRelativePath(path, this.root, allowEmpty);
    return p === '' ? this.base : `${this.base}/${p.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** One HTTP request; network failures become StorageError (no credentials in them). */
  private async request(
    method: string,
    url: string,
    op: string,
    path: string,
    init: { headers?: Record<string, string>; body?: BodyInit; duplex?: 'half' } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.auth) headers.Authorization = this.auth;
    try {
      return await fetch(url, {
        method,
        headers,
        redirect: 'manual',
        ...(init.body === undefined ? {} : { body: init.body }),
        ...(init.duplex ? { duplex: init.duplex } : {}),
      } as RequestInit);
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = redactSecrets(
        cause?.message ?? cause?.code ?? (e as Error).message ?? String(e),
        this.secrets,
      );
      throw new StorageError(
        'DATASTORE_IO',
        this.uri(path),
        `cannot ${op} ${this.uri(path)}: ${why}; check that the WebDAV server at ${this.root} is up and reachable`,
      );
    }
  }

  private async failure(op: string, path: string, res: Response): Promise<StorageError> {
    await res.body?.cancel().catch(() => undefined);
    const uri = this.uri(path);
    if (res.status === 404) return new NotFoundError(uri);
    const auth = res.status === 401 || res.status === 403;
    const hint = auth
      ? 'check the WebDAV credentials (GPU_DRP_WEBDAV_USER / GPU_DRP_WEBDAV_PASSWORD or ~/.netrc) and the server permissions'
      : res.status === 507
        ? 'the server is out of space'
        : 'check the WebDAV server and its logs';
    return new StorageError(
      auth ? 'DATASTORE_AUTH' : 'DATASTORE_IO',
      uri,
      `cannot ${op} ${uri}: HTTP ${res.status} ${redactSecrets(res.statusText, this.secrets)}; ${hint}`,
      { status: res.status },
    );
  }

  async read(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range && range.end <= range.start) return new Uint8Array(0);
    const headers: Record<string, string> = range
      ? { Range: `bytes=${range.start}-${range.end - 1}` }
      : {};
    const res = await this.request('GET', this.href(path), 'read', path, { headers });
    if (res.status !== 200 && res.status !== 206) throw await this.failure('read', path, res);
    const bytes = new Uint8Array(await res.arrayBuffer());
    // A server that ignores Range answers 200 with everything.
    if (range && res.status === 200) return bytes.slice(range.start, range.end);
    return bytes;
  }

  /** Creates the collection `dir` (relative, '' = root) and any missing parents. */
  private async ensureCollection(dir: string): Promise<void> {
    if (dir === '' || this.knownCollections.has(dir)) return;
    const res = await this.request('MKCOL', `${this.href(dir)}/`, 'create the collection', dir);
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 409) {
      // The parent is missing: create it, then this one.
      const slash = dir.lastIndexOf('/');
      await this.ensureCollection(slash < 0 ? '' : dir.slice(0, slash));
      if (slash < 0) await this.ensureRoot();
      const again = await this.request('MKCOL', `${this.href(dir)}/`, 'create the collection', dir);
      if (again.status !== 201 && again.status !== 405) {
        throw await this.failure('create the collection', dir, again);
      }
      await again.body?.cancel().catch(() => undefined);
    } else if (res.status !== 201 && res.status !== 405) {
      // 405 Method Not Allowed: the collection exists already.
      throw await this.failure('create the collection', dir, res);
    }
    this.knownCollections.add(dir);
  }

  /** Creates the root collection and its missing parents (top-down from the server root). */
  private async ensureRoot(): Promise<void> {
    const segs = this.basePath.split('/').filter((s) => s !== '');
    const origin = new URL(this.base).origin;
    let p = '';
    for (const s of segs) {
      p += `/${s}`;
      const res = await this.request('MKCOL', `${origin}${p}/`, 'create the collection', '');
      await res.body?.cancel().catch(() => undefined);
      // Levels above the share may refuse (403, 405): only bad credentials stop us here.
      if (res.status === 401) throw await this.failure('create the root', '', res);
    }
  }

  private parentOf(path: string): string {
    const slash = path.lastIndexOf('/');
    return slash < 0 ? '' : path.slice(0, slash);
  }

  /** PUTs `body` to a temporary name and MOVEs it to `path`. */
  private async putAndMove(
    path: string,
    body: () => BodyInit,
    size: number,
    options: WriteOptions,
  ): Promise<void> {
    const p = checkRelativePath(path, this.root);
    const overwrite = options.overwrite ?? false;
    await this.ensureCollection(this.parentOf(p));
    if (!overwrite && (await this.exists(p))) throw new AlreadyExistsError(this.uri(p));
    const tmp = tempName(p);
    let moved = false;
    try {
      let res = await this.request('PUT', this.href(tmp), 'write', tmp, {
        headers: { 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' },
        body: body(),
        duplex: 'half',
      });
      if (res.status === 409 || res.status === 404) {
        // The collection vanished (or a cached one was removed): make it again once.
        await res.body?.cancel().catch(() => undefined);
        this.knownCollections.clear();
        const parent = this.parentOf(p);
        if (parent === '') await this.ensureRoot();
        else await this.ensureCollection(parent);
        res = await this.request('PUT', this.href(tmp), 'write', tmp, {
          headers: { 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' },
          body: body(),
          duplex: 'half',
        });
      }
      if (res.status !== 201 && res.status !== 204 && res.status !== 200) {
        throw await this.failure('write', p, res);
      }
      await res.body?.cancel().catch(() => undefined);
      const mv = await this.request('MOVE', this.href(tmp), 'move into place', p, {
        headers: { Destination: this.href(p), Overwrite: overwrite ? 'T' : 'F' },
      });
      if (mv.status === 412) {
        await mv.body?.cancel().catch(() => undefined);
        throw new AlreadyExistsError(this.uri(p));
      }
      if (mv.status !== 201 && mv.status !== 204)
        throw await this.failure('move into place', p, mv);
      await mv.body?.cancel().catch(() => undefined);
      moved = true;
    } finally {
      if (!moved) await this.remove(tmp).catch(() => undefined);
    }
    const stored = await this.size(p);
    if (stored !== size) {
      await this.remove(p).catch(() => undefined);
      throw new StorageError(
        'DATASTORE_IO',
        this.uri(p),
        `write of ${this.uri(p)} stored ${stored} bytes instead of ${size}; the file was removed, try again`,
      );
    }
  }

  async writeAtomic(path: string, bytes: Uint8Array, options: WriteOptions = {}): Promise<void> {
    await this.putAndMove(path, () => bytes as unknown as BodyInit, bytes.length, options);
  }

  private async head(path: string): Promise<number | null> {
    const res = await this.request('HEAD', this.href(path), 'stat', path);
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404) return null;
    if (res.status !== 200) throw await this.failure('stat', path, res);
    return Number(res.headers.get('content-length') ?? '0');
  }

  async exists(path: string): Promise<boolean> {
    return (await this.head(path)) !== null;
  }

  async size(path: string): Promise<number> {
    const n = await this.head(path);
    if (n === null) throw new NotFoundError(this.uri(path));
    return n;
  }

  async remove(path: string): Promise<boolean> {
    const res = await this.request('DELETE', this.href(path), 'remove', path);
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404) return false;
    if (res.status !== 200 && res.status !== 204) throw await this.failure('remove', path, res);
    return true;
  }

  async list(prefix = ''): Promise<StoredFile[]> {
    const p = checkRelativePath(prefix, this.root, true);
    const res = await this.request('PROPFIND', `${this.href(p, true)}/`, 'list', p, {
      headers: { Depth: 'infinity', 'Content-Type': 'application/xml; charset=utf-8' },
      body: PROPFIND_BODY,
    });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return [];
    }
    if (res.status !== 207) throw await this.failure('list', p, res);
    const xml = await res.text();
    const out: StoredFile[] = [];
    const baseWithSlash = `${this.basePath}/`;
    for (const e of parseMultistatus(xml)) {
      if (e.collection) continue;
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(e.href, this.base).pathname);
      } catch {
        continue;
      }
      const decodedBase = decodeURIComponent(baseWithSlash);
      if (!pathname.startsWith(decodedBase)) continue;
      out.push({ path: pathname.slice(decodedBase.length), size: e.size, mtimeMs: e.mtimeMs });
    }
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }

  async copyFrom(localPath: string, path: string, options: WriteOptions = {}): Promise<void> {
    const st = await stat(localPath);
    await this.putAndMove(
      path,
      () => Readable.toWeb(createReadStream(localPath)) as unknown as BodyInit,
      st.size,
      options,
    );
  }

  async moveFrom(localPath: string, path: string, options: WriteOptions = {}): Promise<void> {
    await this.copyFrom(localPath, path, options);
    await unlink(localPath);
  }

  async linkFrom(_localPath: string, path: string): Promise<void> {
    throw new StorageError(
      'DATASTORE_UNSUPPORTED',
      this.uri(path),
      `cannot link into ${this.root}: links exist only on local file systems; ingest with 'copy' or 'move'`,
    );
  }

  uri(path: string): string {
    return this.href(path, true);
  }

  localPath(): null {
    return null;
  }
}
