/**
 * Datastore parts that need no server: formatter edge cases (structured-data checks,
 * Parquet files from other writers), the formatter registry, URL dispatch, credential
 * lookup and redaction, PROPFIND parsing, checksum strings.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checksumOf,
  FormatterError,
  FormatterRegistry,
  jsonFormatter,
  LocalBackend,
  openBackend,
  openFileUri,
  parquetToCatalog,
  parseChecksum,
  parseMultistatus,
  parseNetrc,
  redactSecrets,
  redactUrl,
  S3Backend,
  StorageError,
  structuredDataProblem,
  WebdavBackend,
  webdavCredentials,
  webdavHttpUrl,
  yamlFormatter,
} from '../../../src/butler/datastore/index.ts';
import { BLOB, CALEXP, CONFIG, SOURCE_TABLE } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-datastore-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('structured data (JSON/YAML formatters)', () => {
  it('names the first value that is not plain data', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(structuredDataProblem({ a: [1, { b: undefined }] }, false)).toBe(
      '$.a[1].b is a undefined',
    );
    expect(structuredDataProblem({ big: 10n }, false)).toBe('$.big is a bigint');
    expect(structuredDataProblem({ when: new Date(0) }, false)).toMatch(
      /\$\.when is a Date instance/,
    );
    expect(structuredDataProblem(cyclic, false)).toMatch(/\$\.self is a cycle/);
    expect(structuredDataProblem({ x: Number.NaN }, false)).toMatch(/NaN/);
    expect(structuredDataProblem({ x: Number.NaN }, true)).toBeNull();
    // The same object twice (not a cycle) is fine.
    const shared = { k: 1 };
    expect(structuredDataProblem({ a: shared, b: shared }, false)).toBeNull();
  });

  it('YAML keeps strings that look like other types, and non-finite numbers', async () => {
    const v = { s: ['yes', 'null', '1.5', '0x10', ''], n: [Number.POSITIVE_INFINITY, -0.5] };
    const back = await yamlFormatter.fromBytes(yamlFormatter.toBytes(v) as Uint8Array);
    expect(back).toEqual(v);
  });

  it('undecodable files are DATASTORE_BAD_FILE', async () => {
    const e = await jsonFormatter.fromBytes(new TextEncoder().encode('{nope')).catch((x) => x);
    expect(e).toBeInstanceOf(FormatterError);
    expect(e.code).toBe('DATASTORE_BAD_FILE');
  });
});

describe('Parquet catalogs from other writers', () => {
  const file = (columns: Parameters<typeof parquetWriteBuffer>[0]['columnData']) =>
    new Uint8Array(parquetWriteBuffer({ columnData: columns }));

  it('nullable float columns read nulls as NaN; units default to empty', async () => {
    const cat = await parquetToCatalog(
      file([
        { name: 'flux', data: [1.5, null, 3], type: 'DOUBLE', nullable: true },
        { name: 'n', data: Int32Array.from([1, 2, 3]), type: 'INT32', nullable: false },
      ]),
    );
    expect(cat.column('flux').kind).toBe('float64');
    expect(Array.from(cat.column('flux').data as Float64Array)).toEqual([1.5, Number.NaN, 3]);
    expect(cat.column('n').unit).toBe('');
    expect(cat.metadata).toEqual({});
  });

  it('nulls in integer columns and unsupported types are refused with the column name', async () => {
    const nulls = await parquetToCatalog(
      file([{ name: 'n', data: [1, null], type: 'INT32', nullable: true }]),
    ).catch((e) => e);
    expect(nulls).toBeInstanceOf(FormatterError);
    expect(nulls.message).toMatch(/column 'n' is null in row 1/);
    const ts = await parquetToCatalog(
      file([{ name: 't', data: [new Date(0)], type: 'TIMESTAMP', nullable: false }]),
    ).catch((e) => e);
    expect(ts).toBeInstanceOf(FormatterError);
    expect(ts.message).toMatch(/column 't'/);
    const junk = await parquetToCatalog(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])).catch(
      (e) => e,
    );
    expect(junk.code).toBe('DATASTORE_BAD_FILE');
  });
});

describe('formatter registry', () => {
  it('picks by storage class, honours overrides, falls back to bytes, refuses unknown names', () => {
    const r = new FormatterRegistry({ overrides: { Config: 'YamlFormatter' } });
    expect(r.forDatasetType(CALEXP).name).toBe('ExposureFitsFormatter');
    expect(r.forDatasetType(SOURCE_TABLE).name).toBe('ParquetCatalogFormatter');
    expect(r.forDatasetType(CONFIG).name).toBe('YamlFormatter');
    expect(r.forDatasetType(BLOB).name).toBe('BytesFormatter');
    expect(new FormatterRegistry().forIngest(CONFIG, '.yml').name).toBe('YamlFormatter');
    expect(() => r.get('NoSuchFormatter')).toThrow(/no such formatter/);
    expect(() => new FormatterRegistry({ overrides: { Config: 'Nope' } })).toThrow(FormatterError);
  });
});

describe('storage URLs', () => {
  it('dispatches by scheme', () => {
    expect(openBackend(dir)).toBeInstanceOf(LocalBackend);
    expect(openBackend(`file://${dir}`).root).toBe(`file://${dir}`);
    expect(openBackend('s3://bucket/a/b')).toBeInstanceOf(S3Backend);
    expect((openBackend('s3://bucket/a/b') as S3Backend).prefix).toBe('a/b/');
    expect(openBackend('webdav://h:8080/dav/x').root).toBe('http://h:8080/dav/x/');
    expect(openBackend('davs://h/dav').root).toBe('https://h/dav/');
    expect(openBackend('https://h/dav')).toBeInstanceOf(WebdavBackend);
    expect(() => openBackend('gopher://h/x')).toThrow(StorageError);
    expect(webdavHttpUrl('webdav://u:p@h:1/x').toString()).toBe('http://u:p@h:1/x');
  });

  it('splits absolute file URIs of direct ingests', () => {
    const { backend, name } = openFileUri('s3://bkt/some/dir/f.fits');
    expect(backend.root).toBe('s3://bkt/some/dir/');
    expect(name).toBe('f.fits');
    const local = openFileUri('/data/raw/a b#1.fits');
    expect(local.name).toBe('a b#1.fits');
    expect(local.backend.localPath(local.name)).toBe('/data/raw/a b#1.fits');
  });
});

describe('credentials', () => {
  it('.netrc: the host entry, else default', () => {
    const text = `machine other login x password y
machine dav.example.org
  login alice
  password s3cr3t
default login anon password guest`;
    expect(parseNetrc(text, 'dav.example.org')).toEqual({ user: 'alice', password: 's3cr3t' });
    expect(parseNetrc(text, 'elsewhere')).toEqual({ user: 'anon', password: 'guest' });
    expect(parseNetrc('machine a login b', 'a')).toBeNull();
  });

  it('environment first, then $NETRC, then the URL', () => {
    const saved = { ...process.env };
    try {
      const netrc = join(dir, 'netrc');
      writeFileSync(netrc, 'machine h login fromnetrc password pw1\n');
      delete process.env.GPU_DRP_WEBDAV_USER;
      delete process.env.GPU_DRP_WEBDAV_PASSWORD;
      process.env.NETRC = netrc;
      expect(webdavCredentials(new URL('http://u:p@h/x'))).toEqual({
        user: 'fromnetrc',
        password: 'pw1',
      });
      expect(webdavCredentials(new URL('http://u:p%40ss@other/x'))).toEqual({
        user: 'u',
        password: 'p@ss',
      });
      process.env.GPU_DRP_WEBDAV_USER = 'envuser';
      process.env.GPU_DRP_WEBDAV_PASSWORD = 'envpw';
      expect(webdavCredentials(new URL('http://u:p@h/x'))).toEqual({
        user: 'envuser',
        password: 'envpw',
      });
    } finally {
      for (const k of ['GPU_DRP_WEBDAV_USER', 'GPU_DRP_WEBDAV_PASSWORD', 'NETRC']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('redaction removes userinfo, secret query parameters and known secrets', () => {
    expect(redactUrl('https://bob:hunter2@h/x?X-Amz-Signature=abc&a=1')).toBe(
      'https://***@h/x?X-Amz-Signature=***&a=1',
    );
    expect(redactUrl('not a url //bob:hunter2@h')).not.toContain('hunter2');
    const b64 = Buffer.from('bob:hunter2').toString('base64');
    const text = redactSecrets(`failed http://bob:hunter2@h with Basic ${b64} hunter2`, [
      'hunter2',
      b64,
    ]);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(b64);
  });

  it('a WebDAV root given with credentials in the URL never shows them', () => {
    const b = new WebdavBackend('davs://alice:topsecret@h/dav/root');
    expect(b.root).toBe('https://h/dav/root/');
    expect(b.uri('a/b.fits')).toBe('https://h/dav/root/a/b.fits');
  });
});

describe('PROPFIND multistatus parsing', () => {
  it('reads hrefs, sizes, times and collections under any namespace prefix', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:lp1="DAV:">
<D:response><D:href>/dav/root/</D:href><D:propstat><D:prop>
<lp1:resourcetype><D:collection/></lp1:resourcetype></D:prop></D:propstat></D:response>
<D:response><D:href>/dav/root/a%20b/x&amp;y.fits</D:href><D:propstat><D:prop>
<lp1:resourcetype/><lp1:getcontentlength>2880</lp1:getcontentlength>
<lp1:getlastmodified>Fri, 27 Nov 2026 16:00:02 GMT</lp1:getlastmodified></D:prop></D:propstat></D:response>
</D:multistatus>`;
    const entries = parseMultistatus(xml);
    expect(entries).toEqual([
      { href: '/dav/root/', collection: true, size: 0, mtimeMs: null },
      {
        href: '/dav/root/a%20b/x&y.fits',
        collection: false,
        size: 2880,
        mtimeMs: Date.UTC(2026, 10, 27, 16, 0, 2),
      },
    ]);
  });
});

describe('checksum strings', () => {
  it('BLAKE2b-512 by default, other algorithms by prefix', () => {
    const bytes = new TextEncoder().encode('abc');
    const c = checksumOf(bytes);
    expect(c).toMatch(/^blake2b512:[0-9a-f]{128}$/);
    expect(c.slice(11, 27)).toBe('ba80a53f981c4d0d');
    expect(parseChecksum(c.slice(11))).toEqual({ algorithm: 'blake2b512', hex: c.slice(11) });
    expect(parseChecksum('SHA256:AB')).toEqual({ algorithm: 'sha256', hex: 'ab' });
    expect(parseChecksum('nosuchhash:00')).toBeNull();
  });
});
