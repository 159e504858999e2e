/**
 * The datastore suite, written once and run against every storage backend: local files,
 * S3 (s3rver: GPU_DRP_TEST_S3_URL + AWS_*) and WebDAV (Apache mod_dav:
 * GPU_DRP_TEST_WEBDAV_URL + GPU_DRP_WEBDAV_*). Start the servers with
 * scripts/services/{s3,webdav}.sh. Without them the remote suites are skipped with a
 * message, except under CI=true, where they fail.
 */

import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  AlreadyExistsError,
  ChecksumError,
  checksumOfFile,
  DatasetExistsError,
  Datastore,
  type DatastoreError,
  FileMissingError,
  FormatterError,
  NotFoundError,
  S3Backend,
  StorageError,
  TEMP_RE,
  tempName,
  WebdavBackend,
} from '../../../src/butler/datastore/index.ts';
import type { DatastoreRecord } from '../../../src/butler/refs.ts';
import type { Catalog } from '../../../src/catalog/table.ts';
import { Box2I } from '../../../src/geom/box.ts';
import { DiscreteSkyMap } from '../../../src/geom/skymap.ts';
import type { Exposure } from '../../../src/image/exposure.ts';
import { exposureToBytes } from '../../../src/image/exposure-fits.ts';
import {
  BLOB,
  CALEXP,
  CONFIG,
  DEEP_COADD,
  METADATA,
  makeCatalog,
  makeExposure,
  makeRef,
  SKYMAP,
  SOURCE_TABLE,
  SRC,
  storageTargets,
  VISIT_DATA_ID,
} from './fixtures.ts';

const localRoot = mkdtempSync(join(tmpdir(), 'gpu-drp-datastore-'));
afterAll(() => rmSync(localRoot, { recursive: true, force: true }));

const targets = storageTargets(join(localRoot, 'store'));

function expectSameExposure(a: Exposure, b: Exposure): void {
  expect(b.xy0).toEqual(a.xy0);
  expect([b.width, b.height]).toEqual([a.width, a.height]);
  // Bit-exact planes (NaN and Inf included): compare the bytes.
  expect(
    Buffer.from(b.image.data.buffer, b.image.data.byteOffset, b.image.data.byteLength),
  ).toEqual(Buffer.from(a.image.data.buffer, a.image.data.byteOffset, a.image.data.byteLength));
  expect(Array.from(b.variance.data)).toEqual(Array.from(a.variance.data));
  expect(Array.from(b.mask.data)).toEqual(Array.from(a.mask.data));
  expect(b.mask.planes.planes).toEqual(a.mask.planes.planes);
  expect(b.wcs).not.toBeNull();
  for (const [x, y] of [
    [a.xy0.x, a.xy0.y],
    [a.xy0.x + a.width - 1, a.xy0.y + a.height - 1],
    [a.xy0.x + 17.25, a.xy0.y + 9.5],
  ] as const) {
    const s0 = a.wcs!.pixelToSky(x, y);
    const s1 = b.wcs!.pixelToSky(x, y);
    expect(s1.ra).toBeCloseTo(s0.ra, 11);
    expect(s1.dec).toBeCloseTo(s0.dec, 11);
  }
  expect(b.photoCalib?.calibrationMean).toBe(a.photoCalib?.calibrationMean);
  expect(b.psf?.kind).toBe(a.psf?.kind);
}

function expectSameCatalog(a: Catalog, b: Catalog): void {
  expect(b.length).toBe(a.length);
  expect(b.metadata).toEqual(a.metadata);
  expect(b.columns.map((c) => [c.name, c.kind, c.unit, c.description])).toEqual(
    a.columns.map((c) => [c.name, c.kind, c.unit, c.description]),
  );
  for (const c of a.columns) {
    expect(Array.from(b.column(c.name).data as ArrayLike<unknown>)).toEqual(
      Array.from(c.data as ArrayLike<unknown>),
    );
  }
}

async function caught(p: Promise<unknown>): Promise<DatastoreError> {
  try {
    await p;
  } catch (e) {
    return e as DatastoreError;
  }
  throw new Error('expected the call to fail');
}

/** Every file under the datastore root. */
async function allFiles(ds: Datastore): Promise<string[]> {
  return (await ds.backend.list('')).map((f) => f.path);
}

describe.each(targets)('datastore on $name storage', (target) => {
  if (target.url === null) {
    const why = `${target.name} tests need a server: ${target.howTo}`;
    if (process.env.CI === 'true') {
      it('has a test server configured (required under CI=true)', () => {
        throw new Error(`${why}; under CI=true they must not be skipped`);
      });
    } else {
      console.warn(`[datastore] SKIPPING the ${target.name} suite: ${why}`);
      it.skip(`SKIPPED: ${why}`, () => undefined);
    }
    return;
  }
  const root = target.url;
  const sub = (name: string): string =>
    target.name === 'local' ? join(root, name) : `${root}/${name}`;
  const isLocal = target.name === 'local';
  /** Defaults: LSST's (no checksums, lossless GZIP_2 exposures). */
  let ds: Datastore;
  /** Checksums on, uncompressed exposures, configs as YAML. */
  let dsSum: Datastore;
  /** A second local datastore, for transfers and ingest sources. */
  let other: Datastore;
  const incoming = join(localRoot, `incoming-${target.name}`);

  beforeAll(() => {
    ds = Datastore.fromUrl(sub('main'));
    dsSum = Datastore.fromUrl(sub('sums'), {
      checksum: true,
      recipes: { ExposureF: 'noCompression' },
      formatters: { Config: 'YamlFormatter' },
    });
    other = Datastore.fromUrl(join(localRoot, `other-${target.name}`), { checksum: true });
    mkdirSync(incoming, { recursive: true });
  });

  afterAll(async () => {
    if (isLocal) return;
    for (const d of [ds, dsSum]) {
      for (const f of await d.backend.list('')) await d.backend.remove(f.path);
    }
  });

  it('backend: atomic exclusive writes, whole and ranged reads, sizes, listing, removal', async () => {
    const b = ds.backend;
    const one = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
    const two = Uint8Array.from({ length: 333 }, (_, i) => (i * 13 + 1) & 255);
    await b.writeAtomic('contract/a/x.bin', one);
    await b.writeAtomic('contract/b.bin', two);
    expect(await b.read('contract/a/x.bin')).toEqual(one);
    expect(await b.read('contract/a/x.bin', { start: 10, end: 20 })).toEqual(one.slice(10, 20));
    expect(await b.size('contract/b.bin')).toBe(333);
    expect(await b.exists('contract/b.bin')).toBe(true);
    expect(await b.exists('contract/nope.bin')).toBe(false);
    // An exclusive write never replaces a file, and leaves no temporary behind.
    expect(await caught(b.writeAtomic('contract/a/x.bin', two))).toBeInstanceOf(AlreadyExistsError);
    expect(await b.read('contract/a/x.bin')).toEqual(one);
    await b.writeAtomic('contract/b.bin', one, { overwrite: true });
    expect(await b.read('contract/b.bin')).toEqual(one);
    const listed = await b.list('contract');
    expect(listed.map((f) => [f.path, f.size])).toEqual([
      ['contract/a/x.bin', 1000],
      ['contract/b.bin', 1000],
    ]);
    expect(
      listed.every((f) => f.mtimeMs === null || Math.abs(Date.now() - f.mtimeMs) < 600_000),
    ).toBe(true);
    expect(await b.remove('contract/b.bin')).toBe(true);
    expect(await b.remove('contract/b.bin')).toBe(false);
    expect(await caught(b.read('contract/b.bin'))).toBeInstanceOf(NotFoundError);
    for (const bad of ['../escape.bin', '/abs.bin', 'a//b.bin', 'a/./b.bin']) {
      const e = await caught(b.writeAtomic(bad, one));
      expect(e).toBeInstanceOf(StorageError);
      expect(e.code).toBe('DATASTORE_BAD_URL');
    }
    expect((await b.list('')).filter((f) => TEMP_RE.test(f.path))).toEqual([]);
    // A root that does not exist yet is created by the first write, even a top-level one.
    const fresh = Datastore.fromUrl(sub('fresh/deeper')).backend;
    expect(await fresh.list('')).toEqual([]);
    await fresh.writeAtomic('top.bin', two);
    expect(await fresh.read('top.bin')).toEqual(two);
    expect((await fresh.list('')).map((f) => f.path)).toEqual(['top.bin']);
    await fresh.remove('top.bin');
  });

  it.runIf(target.name === 's3')(
    'S3 multipart uploads (bytes and a file) store the exact bytes',
    async () => {
      const b = new S3Backend(sub('main'), { multipartThreshold: 6 << 20, partSize: 5 << 20 });
      const big = new Uint8Array((11 << 20) + 12345);
      for (let i = 0, s = 7; i < big.length; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        big[i] = s >>> 24;
      }
      const sha = (x: Uint8Array) => createHash('sha256').update(x).digest('hex');
      await b.writeAtomic('multipart/bytes.bin', big);
      const file = join(incoming, 'big.bin');
      await writeFile(file, big);
      await b.copyFrom(file, 'multipart/file.bin');
      for (const p of ['multipart/bytes.bin', 'multipart/file.bin']) {
        expect(await b.size(p)).toBe(big.length);
        expect(sha(await b.read(p))).toBe(sha(big));
      }
      expect(await caught(b.copyFrom(file, 'multipart/file.bin'))).toBeInstanceOf(
        AlreadyExistsError,
      );
      await b.remove('multipart/bytes.bin');
      await b.remove('multipart/file.bin');
    },
  );

  it('ExposureF round trip: pixel-exact, WCS kept, at the template path, GZIP_2 by default', async () => {
    const exp = makeExposure();
    const ref = makeRef(CALEXP, VISIT_DATA_ID);
    const rec = await ds.put(exp, ref);
    expect(rec).toMatchObject({
      datasetId: ref.id,
      formatter: 'ExposureFitsFormatter',
      storageClass: 'ExposureF',
      checksum: null,
      path: 'u/alice/run1/calexp/20240101/i/HSC-I/1228/calexp_HSC_i_HSC-I_1228_42_u_alice_run1.fits',
    });
    expect(rec.size).toBe(await ds.backend.size(rec.path));
    const raw = new TextDecoder('latin1').decode(
      await ds.backend.read(rec.path, { start: 0, end: 20_000 }),
    );
    expect(raw).toContain("ZCMPTYPE= 'GZIP_2");
    expect(ds.uri(rec)).toBe(ds.backend.uri(rec.path));
    expect(
      ds.uri(rec).startsWith(isLocal ? 'file:///' : target.name === 's3' ? 's3://' : 'http://'),
    ).toBe(true);
    expect(await ds.exists(rec)).toBe(true);
    expectSameExposure(exp, await ds.get<Exposure>(rec));
    // Uncompressed recipe, checksummed.
    const rec2 = await dsSum.put(exp, ref);
    expect(
      new TextDecoder('latin1').decode(
        await dsSum.backend.read(rec2.path, { start: 0, end: 20_000 }),
      ),
    ).not.toContain('ZCMPTYPE');
    expect(rec2.size).toBeGreaterThan(rec.size);
    expectSameExposure(exp, await dsSum.get<Exposure>(rec2, { verifyChecksum: true }));
  });

  it('sub-box read of an exposure equals the subset (compressed and plain files)', async () => {
    const exp = makeExposure(64, 50, 3);
    const ref = makeRef(DEEP_COADD, { skymap: 'sim', tract: 7, patch: 12, band: 'r' }, 'coadds');
    const bbox = new Box2I(1010, 2005, 20, 13);
    const want = exp.subset(bbox);
    for (const d of [ds, dsSum]) {
      const rec = await d.put(exp, ref);
      const got = await d.get<Exposure>(rec, { parameters: { bbox } });
      expect(got.bbox).toEqual(bbox);
      expectSameExposure(want, got);
      const e = await caught(d.get(rec, { parameters: { bbox: new Box2I(0, 0, 5, 5) } }));
      expect(e).toBeInstanceOf(FormatterError);
      expect(e.code).toBe('DATASTORE_BAD_PARAMETER');
    }
  });

  it('catalog round trips (SourceCatalog, ArrowAstropy) keep kinds, units, values, metadata', async () => {
    const cat = makeCatalog();
    const rec = await ds.put(cat, makeRef(SRC, VISIT_DATA_ID));
    expect(rec.formatter).toBe('ParquetCatalogFormatter');
    expect(rec.path.endsWith('.parq')).toBe(true);
    expect(new TextDecoder().decode(await ds.backend.read(rec.path, { start: 0, end: 4 }))).toBe(
      'PAR1',
    );
    expectSameCatalog(cat, await ds.get<Catalog>(rec));
    const rec2 = await dsSum.put(cat, makeRef(SOURCE_TABLE, { instrument: 'HSC', visit: 1228 }));
    expectSameCatalog(cat, await dsSum.get<Catalog>(rec2, { verifyChecksum: true }));
    const e = await caught(ds.get(rec, { parameters: { bbox: new Box2I(0, 0, 1, 1) } }));
    expect(e.code).toBe('DATASTORE_BAD_PARAMETER');
  });

  it('JSON and YAML dicts, a sky map and raw bytes round trip', async () => {
    const config = {
      doWrite: true,
      threshold: 5.5,
      planes: ['BAD', 'SAT', null],
      nested: { 'unicode ключ': 'é', empty: {}, list: [] },
    };
    const recJ = await ds.put(config, makeRef(CONFIG, {}));
    expect(recJ.formatter).toBe('JsonFormatter');
    expect(recJ.path).toBe('u/alice/run1/isr_config/isr_config_u_alice_run1.json');
    expect(JSON.parse(new TextDecoder().decode(await ds.backend.read(recJ.path)))).toEqual(config);
    expect(await ds.get(recJ)).toEqual(config);
    const withNaN = { ...config, nan: Number.NaN, inf: Number.NEGATIVE_INFINITY };
    const recY = await dsSum.put(withNaN, makeRef(CONFIG, {}));
    expect(recY.formatter).toBe('YamlFormatter');
    expect(recY.path.endsWith('.yaml')).toBe(true);
    expect(parseYaml(new TextDecoder().decode(await dsSum.backend.read(recY.path)))).toEqual(
      withNaN,
    );
    expect(await dsSum.get(recY, { verifyChecksum: true })).toEqual(withNaN);
    // JSON cannot hold NaN: refused before anything is written.
    const bad = await caught(ds.put(withNaN, makeRef(METADATA, VISIT_DATA_ID)));
    expect(bad.code).toBe('DATASTORE_FORMATTER');
    expect(bad.message).toMatch(/\$\.nan is NaN/);
    const recM = await ds.put(
      { quantum: { startUtc: 'x', cpu: 1.5 } },
      makeRef(METADATA, VISIT_DATA_ID),
    );
    expect(await ds.get(recM)).toEqual({ quantum: { startUtc: 'x', cpu: 1.5 } });

    const sky = new DiscreteSkyMap({ centers: [{ ra: 150.1, dec: 2.2 }], radii: [0.4] });
    const recS = await ds.put(sky, makeRef(SKYMAP, { skymap: 'cosmos' }));
    expect(recS.formatter).toBe('SkyMapJsonFormatter');
    const skyBack = await ds.get<DiscreteSkyMap>(recS);
    expect(skyBack).toBeInstanceOf(DiscreteSkyMap);
    expect(skyBack.config).toEqual(sky.config);
    expect(skyBack.tract(0).bbox).toEqual(sky.tract(0).bbox);
    expect(skyBack.tract(0).numPatches).toEqual(sky.tract(0).numPatches);

    const blob = Uint8Array.from({ length: 4099 }, (_, i) => (i * 31) & 255);
    const recB = await ds.put(blob, makeRef(BLOB, { instrument: 'HSC', visit: 1 }));
    expect(recB.formatter).toBe('BytesFormatter');
    expect(recB.path.endsWith('.bin')).toBe(true);
    expect(await ds.get(recB)).toEqual(blob);
  });

  it('refuses objects its formatter cannot write, before touching storage', async () => {
    const before = await allFiles(ds);
    const e = await caught(
      ds.put({ not: 'an exposure' }, makeRef(CALEXP, { ...VISIT_DATA_ID, visit: 9 })),
    );
    expect(e).toBeInstanceOf(FormatterError);
    expect(e.message).toMatch(/needs an Exposure/);
    expect(await allFiles(ds)).toEqual(before);
  });

  it('a second put of the same dataset is refused and leaves the file as it was', async () => {
    const ref = makeRef(CALEXP, { ...VISIT_DATA_ID, detector: 43 });
    const rec = await ds.put(makeExposure(20, 10), ref);
    const bytes = await ds.backend.read(rec.path);
    for (const again of [ref, { ...ref, id: randomUUID() }]) {
      const e = await caught(ds.put(makeExposure(20, 10, 9), again));
      expect(e).toBeInstanceOf(DatasetExistsError);
      expect(e.code).toBe('DATASTORE_DATASET_EXISTS');
      expect(e.message).toContain(again.id);
    }
    expect(await ds.backend.read(rec.path)).toEqual(bytes);
    // remove() is what the Butler calls when the registry insert fails: idempotent.
    expect(await ds.remove(rec)).toBe(true);
    expect(await ds.remove(rec)).toBe(false);
    expect(await ds.exists(rec)).toBe(false);
  });

  it('a missing file is a FileMissingError naming the dataset, the path and the repair', async () => {
    const ref = makeRef(SRC, { ...VISIT_DATA_ID, detector: 7 });
    const rec = await ds.put(makeCatalog(5), ref);
    await ds.backend.remove(rec.path);
    for (const options of [{}, { verifyChecksum: true }]) {
      const e = await caught(ds.get(rec, options));
      expect(e).toBeInstanceOf(FileMissingError);
      expect(e.code).toBe('DATASTORE_FILE_MISSING');
      expect(e.message).toContain(ref.id);
      expect(e.message).toContain(rec.path);
      expect(e.message).toMatch(/prune-datasets/);
      expect(e.message).toMatch(/ingest/);
    }
  });

  it('checksums: recorded as BLAKE2b-512, corruption and truncation detected', async () => {
    const ref = makeRef(CALEXP, { ...VISIT_DATA_ID, detector: 50 });
    const rec = await dsSum.put(makeExposure(30, 30), ref);
    const bytes = await dsSum.backend.read(rec.path);
    expect(rec.checksum).toBe(`blake2b512:${createHash('blake2b512').update(bytes).digest('hex')}`);
    expect(rec.size).toBe(bytes.length);
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 100]! ^= 0xff;
    await dsSum.backend.writeAtomic(rec.path, corrupt, { overwrite: true });
    const e = await caught(dsSum.get(rec, { verifyChecksum: true }));
    expect(e).toBeInstanceOf(ChecksumError);
    expect(e.code).toBe('DATASTORE_CHECKSUM_MISMATCH');
    expect(e.message).toContain(ref.id);
    // Same size, so only verification catches it; a truncated file is caught always.
    await dsSum.backend.writeAtomic(rec.path, bytes.slice(0, 2880 * 3), { overwrite: true });
    const t = await caught(dsSum.get(rec));
    expect(t).toBeInstanceOf(ChecksumError);
    expect(t.code).toBe('DATASTORE_SIZE_MISMATCH');
    // Checksums are off by default, as in LSST.
    expect(
      (await ds.put(makeCatalog(3), makeRef(SRC, { ...VISIT_DATA_ID, detector: 50 }))).checksum,
    ).toBeNull();
  });

  it('atomicity: a formatter failing halfway leaves no file and no temporary', async () => {
    const before = await allFiles(ds);
    const exp = makeExposure(40, 30);
    exp.mask.data[100] = 1 << 29; // a bit no mask plane names: the FITS writer refuses
    const ref = makeRef(CALEXP, { ...VISIT_DATA_ID, detector: 60 });
    const e = await caught(ds.put(exp, ref));
    expect(e).toBeInstanceOf(FormatterError);
    expect(e.message).toMatch(/mask/i);
    expect(await allFiles(ds)).toEqual(before);
    expect(await ds.backend.exists(ds.pathFor(ref))).toBe(false);
  });

  it.skipIf(target.name === 's3')(
    'atomicity: a storage failure mid-put (a file where a directory must be) leaves nothing',
    async () => {
      const ref = makeRef(CALEXP, { ...VISIT_DATA_ID, detector: 61 }, 'blocked');
      // The run directory exists as a file, so the write cannot make its directories.
      await ds.backend.writeAtomic('blocked', new Uint8Array([1, 2, 3]));
      const before = await allFiles(ds);
      const e = await caught(ds.put(makeExposure(10, 10), ref));
      expect(e).toBeInstanceOf(StorageError);
      expect(e.code).toBe('DATASTORE_IO');
      expect(await allFiles(ds)).toEqual(before);
    },
  );

  it('findLeftovers reports orphans (written, never registered) and temporaries', async () => {
    const lds = Datastore.fromUrl(sub('leftovers'));
    const a = await lds.put(makeCatalog(4), makeRef(SRC, { ...VISIT_DATA_ID, detector: 1 }));
    const b = await lds.put(makeCatalog(4), makeRef(SRC, { ...VISIT_DATA_ID, detector: 2 }));
    // What a crash in the middle of a write leaves.
    const tmp = tempName(a.path);
    await lds.backend.writeAtomic(tmp, new Uint8Array(100));
    // ... and what the FITS writer's own temporary looks like next to ours.
    const slash = b.path.lastIndexOf('/');
    const fitsTmp = `${b.path.slice(0, slash)}/.${tempName(b.path.slice(slash + 1))}.0123456789ab.tmp`;
    await lds.backend.writeAtomic(fitsTmp, new Uint8Array(10));
    await lds.backend.writeAtomic('butler.yaml', new Uint8Array(10));
    const found = await lds.findLeftovers(new Set([a.path]), { exclude: ['butler.yaml'] });
    expect(found.orphans.map((f) => f.path)).toEqual([b.path]);
    expect(found.orphans[0]!.size).toBe(b.size);
    expect(found.tempFiles.map((f) => f.path).sort()).toEqual([tmp, fitsTmp].sort());
    expect((await lds.findLeftovers(new Set([a.path]))).orphans.map((f) => f.path).sort()).toEqual(
      [b.path, 'butler.yaml'].sort(),
    );
    const young = await lds.findLeftovers(new Set([a.path, b.path]), { tempMinAgeMs: 3_600_000 });
    expect(young.tempFiles).toEqual([]);
    expect(await lds.removeFiles([b.path, tmp, fitsTmp, 'butler.yaml'])).toBe(4);
    expect(await lds.findLeftovers(new Set([a.path]))).toEqual({ orphans: [], tempFiles: [] });
    expectSameCatalog(makeCatalog(4), await lds.get<Catalog>(a));
  });

  it('ingest: copy, move, link, direct and auto', async () => {
    const exp = makeExposure(25, 15, 5);
    const fits = exposureToBytes(exp, { compress: 'none' });
    const src = async (name: string, bytes: Uint8Array = fits): Promise<string> => {
      const p = join(incoming, name);
      await writeFile(p, bytes);
      return p;
    };
    const refFor = (detector: number) =>
      makeRef(CALEXP, { ...VISIT_DATA_ID, detector }, 'ingested');

    const copySrc = await src('copy.fits');
    const copyRef = refFor(100);
    const copied = await dsSum.ingest(copySrc, copyRef, 'copy');
    expect(copied.path).toBe(dsSum.pathFor(copyRef));
    expect(copied.size).toBe(fits.length);
    expect(copied.checksum).toBe(await checksumOfFile(copySrc));
    expect((await stat(copySrc)).size).toBe(fits.length);
    expectSameExposure(exp, await dsSum.get<Exposure>(copied, { verifyChecksum: true }));
    expect(await caught(dsSum.ingest(copySrc, copyRef, 'copy'))).toBeInstanceOf(DatasetExistsError);

    const moveSrc = await src('move.fits');
    const moved = await ds.ingest(moveSrc, refFor(101), 'move');
    expect(await stat(moveSrc).catch(() => null)).toBeNull();
    expectSameExposure(exp, await ds.get<Exposure>(moved));

    const linkSrc = await src('link.fits');
    if (isLocal) {
      const linked = await ds.ingest(linkSrc, refFor(102), 'link');
      const local = ds.backend.localPath(linked.path)!;
      expect((await stat(local)).ino).toBe((await stat(linkSrc)).ino);
      expectSameExposure(exp, await ds.get<Exposure>(linked));
    } else {
      const before = await allFiles(ds);
      const e = await caught(ds.ingest(linkSrc, refFor(102), 'link'));
      expect(e.code).toBe('DATASTORE_UNSUPPORTED');
      expect(await allFiles(ds)).toEqual(before);
    }

    const directSrc = await src('direct.fits');
    const direct = await ds.ingest(directSrc, refFor(103), 'direct');
    expect(direct.path).toBe(pathToFileURL(directSrc).toString());
    expect(ds.uri(direct)).toBe(direct.path);
    expectSameExposure(exp, await ds.get<Exposure>(direct));
    expect(await ds.remove(direct)).toBe(false);
    expect((await stat(directSrc)).size).toBe(fits.length);

    // auto: a file already inside a local root is used in place; anything else is copied.
    const autoRef = refFor(104);
    if (isLocal) {
      const inside = join(ds.backend.localPath('external')!, 'x.fits');
      mkdirSync(join(inside, '..'), { recursive: true });
      await writeFile(inside, fits);
      const auto = await ds.ingest(inside, autoRef, 'auto');
      expect(auto.path).toBe('external/x.fits');
      expectSameExposure(exp, await ds.get<Exposure>(auto));
    } else {
      const auto = await ds.ingest(await src('auto.fits'), autoRef, 'auto');
      expect(auto.path).toBe(ds.pathFor(autoRef));
      expectSameExposure(exp, await ds.get<Exposure>(auto));
    }

    // A .yaml config is read as YAML even where configs are written as JSON.
    const yamlSrc = await src('config.yaml', new TextEncoder().encode('a: 1\nb: [x, y]\n'));
    const cfg = await ds.ingest(yamlSrc, makeRef(CONFIG, {}, 'ingested'), 'copy');
    expect(cfg.formatter).toBe('YamlFormatter');
    expect(cfg.path).toBe('ingested/isr_config/isr_config_ingested.yaml');
    expect(await ds.get(cfg)).toEqual({ a: 1, b: ['x', 'y'] });

    const missing = await caught(ds.ingest(join(incoming, 'nope.fits'), refFor(105), 'copy'));
    expect(missing).toBeInstanceOf(StorageError);
    expect(missing.message).toMatch(/nope\.fits/);
  });

  it('transfer between a local datastore and this one, both ways, checksums kept', async () => {
    const exp = makeExposure(33, 21, 8);
    const ref = makeRef(CALEXP, { ...VISIT_DATA_ID, detector: 70 }, 'xfer');
    const recOther = await other.put(exp, ref);
    const here = await ds.transferFrom(other, recOther, ref);
    expect(here.path).toBe(ds.pathFor(ref));
    expect(here.checksum).toBe(recOther.checksum);
    expect(here.size).toBe(recOther.size);
    expect(await ds.backend.read(here.path)).toEqual(await other.backend.read(recOther.path));
    expectSameExposure(exp, await ds.get<Exposure>(here, { verifyChecksum: true }));
    expect(await caught(ds.transferFrom(other, recOther, ref))).toBeInstanceOf(DatasetExistsError);

    const ref2 = makeRef(SRC, { ...VISIT_DATA_ID, detector: 71 }, 'xfer');
    const recHere = await dsSum.put(makeCatalog(17), ref2);
    const back = await other.transferFrom(dsSum, recHere, ref2);
    expect(back.checksum).toBe(recHere.checksum);
    expectSameCatalog(makeCatalog(17), await other.get<Catalog>(back, { verifyChecksum: true }));

    // A corrupt source is not propagated.
    const ref3 = makeRef(SRC, { ...VISIT_DATA_ID, detector: 72 }, 'xfer');
    const rec3 = await dsSum.put(makeCatalog(9), ref3);
    const bytes = await dsSum.backend.read(rec3.path);
    bytes[bytes.length - 20]! ^= 1;
    await dsSum.backend.writeAtomic(rec3.path, bytes, { overwrite: true });
    const e = await caught(other.transferFrom(dsSum, rec3, ref3));
    expect(e).toBeInstanceOf(ChecksumError);
    expect(await other.backend.exists(other.pathFor(ref3))).toBe(false);
  });

  it.skipIf(isLocal)('credentials never appear in URIs or error messages', async () => {
    const secrets: string[] = [];
    const errors: unknown[] = [];
    if (target.name === 'webdav') {
      const password = process.env.GPU_DRP_WEBDAV_PASSWORD ?? '';
      const user = process.env.GPU_DRP_WEBDAV_USER ?? '';
      secrets.push(password, Buffer.from(`${user}:${password}`).toString('base64'));
      // Wrong credentials: an authentication error that does not echo them.
      const wrong = `wrong-${randomUUID()}`;
      secrets.push(wrong);
      const bad = new WebdavBackend(sub('main'), { user, password: wrong });
      const e = await caught(bad.read('anything.bin'));
      expect(e).toBeInstanceOf(StorageError);
      expect(e.code).toBe('DATASTORE_AUTH');
      expect((e as StorageError).status).toBe(401);
      errors.push(e);
      // Credentials written into the URL are stripped from every URI.
      const inUrl = `inurl-${randomUUID()}`;
      secrets.push(inUrl);
      const u = new URL(sub('main'));
      u.username = 'dav';
      u.password = inUrl;
      const withCreds = Datastore.fromUrl(u.toString());
      expect(withCreds.root).not.toContain(inUrl);
      errors.push(await caught(withCreds.get(phantom(withCreds))));
      // An unreachable server.
      const down = Datastore.fromUrl(`webdav://dav:${inUrl}@127.0.0.1:9/dav`);
      errors.push(
        await caught(down.put(new Uint8Array(3), makeRef(BLOB, { instrument: 'x', visit: 1 }))),
      );
    } else {
      const secret = process.env.AWS_SECRET_ACCESS_KEY ?? '';
      if (secret) secrets.push(secret);
      const noBucket = Datastore.fromUrl(`s3://no-such-bucket-${randomUUID().slice(0, 8)}/p`);
      errors.push(
        await caught(noBucket.put(new Uint8Array(3), makeRef(BLOB, { instrument: 'x', visit: 1 }))),
      );
    }
    errors.push(await caught(ds.get(phantom(ds))));
    const dupRef = makeRef(SRC, { ...VISIT_DATA_ID, detector: 999 });
    await ds.put(makeCatalog(2), dupRef);
    errors.push(await caught(ds.put(makeCatalog(2), dupRef)));
    expect(errors.length).toBeGreaterThanOrEqual(3);
    for (const e of errors) {
      expect(e).toBeInstanceOf(Error);
      const text = `${String(e)}\n${(e as Error).stack}\n${JSON.stringify(e)}\n${String((e as Error).cause ?? '')}`;
      for (const s of secrets.filter((x) => x.length > 0)) expect(text).not.toContain(s);
    }
  });
});

/** A record of a file that was never written. */
function phantom(_ds: Datastore): DatastoreRecord {
  return {
    datasetId: randomUUID(),
    path: `never/written/${randomUUID()}.parq`,
    formatter: 'ParquetCatalogFormatter',
    storageClass: 'SourceCatalog',
    checksum: null,
    size: 10,
  };
}
