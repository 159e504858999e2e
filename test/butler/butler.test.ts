/**
 * The Butler end to end, one suite for every (registry, datastore) pairing that can run
 * here: SQLite + local files, PostgreSQL + S3 (s3rver), PostgreSQL + WebDAV (Apache).
 * Servers come from the test command (scripts/services/up.sh); under CI=true a missing
 * one fails, elsewhere its suite is skipped with the reason.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Butler } from '../../src/butler/butler.ts';
import { FileMissingError } from '../../src/butler/datastore/index.ts';
import { DatasetNotFoundError, RepositoryConfigError } from '../../src/butler/errors.ts';
import type { DataId, DatasetRef } from '../../src/butler/refs.ts';
import { Catalog } from '../../src/catalog/table.ts';
import { Box2I } from '../../src/geom/box.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import { type TestDatabase, testDatabases } from './registry/databases.ts';

const fixtures = new URL('../../fixtures/sim/', import.meta.url).pathname;
const calexpPath = join(fixtures, 'calexp/1000/calexp_SimCam_r_1000_000.fits');

interface Pairing {
  readonly name: string;
  readonly db: TestDatabase;
  /** Datastore root for a new repository, or null for the repository directory. */
  datastore(): string | null;
  readonly unavailable: string | null;
}

function pairings(): Pairing[] {
  const [sqlite, postgres] = testDatabases() as [TestDatabase, TestDatabase];
  const s3 = process.env.GPU_DRP_TEST_S3_URL;
  const dav = process.env.GPU_DRP_TEST_WEBDAV_URL;
  const tag = () => `butler-${randomBytes(4).toString('hex')}`;
  return [
    { name: 'sqlite + local', db: sqlite, datastore: () => null, unavailable: null },
    {
      name: 'postgres + s3',
      db: postgres,
      datastore: () => `${s3}/${tag()}`,
      unavailable: postgres.unavailable ?? (s3 ? null : 'GPU_DRP_TEST_S3_URL is not set'),
    },
    {
      name: 'postgres + webdav',
      db: postgres,
      datastore: () => `${dav}/${tag()}`,
      unavailable: postgres.unavailable ?? (dav ? null : 'GPU_DRP_TEST_WEBDAV_URL is not set'),
    },
  ];
}

const DATA_ID: DataId = { instrument: 'SimCam', visit: 1000, detector: 0 };

/** Dimension records for the data IDs the tests use. */
async function addRecords(b: Butler): Promise<void> {
  const r = b.registry;
  await r.insertDimensionData('instrument', [{ name: 'SimCam' }], { skipExisting: true });
  await r.insertDimensionData(
    'physical_filter',
    [{ instrument: 'SimCam', name: 'r_sim', band: 'r' }],
    { skipExisting: true },
  );
  await r.insertDimensionData(
    'detector',
    [0, 1].map((id) => ({ instrument: 'SimCam', id, full_name: `D${id}` })),
    { skipExisting: true },
  );
  await r.insertDimensionData(
    'visit',
    [1000, 1001].map((id) => ({
      instrument: 'SimCam',
      id,
      physical_filter: 'r_sim',
      day_obs: 20261127,
      exposure_time: id === 1000 ? 30 : 15,
    })),
    { skipExisting: true },
  );
  for (const t of [
    {
      name: 'calexp',
      storageClass: 'ExposureF',
      dimensions: ['instrument', 'visit', 'detector'],
    },
    { name: 'src', storageClass: 'SourceCatalog', dimensions: ['instrument', 'visit', 'detector'] },
    {
      name: 'visitSummary',
      storageClass: 'StructuredDataDict',
      dimensions: ['instrument', 'visit'],
    },
  ])
    await b.registerDatasetType(t);
}

for (const p of pairings()) {
  describe(`Butler (${p.name})`, () => {
    if (p.unavailable !== null) {
      if (process.env.CI === 'true')
        it('has its servers', () => {
          throw new Error(`${p.name} cannot run: ${p.unavailable}`);
        });
      else {
        console.warn(`[butler] ${p.name} skipped: ${p.unavailable}`);
        it.skip(`${p.name}: ${p.unavailable}`, () => {});
      }
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-butler-'));
    const open: Butler[] = [];
    beforeAll(() => p.db.setup());
    afterAll(async () => {
      for (const b of open) await b.close();
      await p.db.teardown();
      rmSync(dir, { recursive: true, force: true });
    });
    let n = 0;
    const newButler = async () => {
      const ds = p.datastore();
      const b = await Butler.create(join(dir, `repo${n++}`), {
        registry: p.db.name === 'sqlite' ? 'sqlite:gpu_drp.sqlite3' : await p.db.newUrl(),
        ...(ds ? { datastore: ds } : {}),
        checksum: true,
      });
      open.push(b);
      await addRecords(b);
      return b;
    };

    it('put and get: an exposure pixel for pixel, a sub-box, a catalog and a dict; data IDs expanded', async () => {
      const b = await newButler();
      const exposure = await readExposure(calexpPath);
      const ref = await b.put(exposure, 'calexp', DATA_ID, { run: 'u/test/run1' });
      expect(ref.dataId).toMatchObject({ ...DATA_ID, physical_filter: 'r_sim', band: 'r' });
      const back = await b.get<typeof exposure>('calexp', DATA_ID, { collections: 'u/test/run1' });
      expect(back.image.data).toEqual(exposure.image.data);
      expect(back.mask.data).toEqual(exposure.mask.data);
      expect(back.variance.data).toEqual(exposure.variance.data);
      expect(back.wcs?.pixelToSky(10, 20)).toEqual(exposure.wcs?.pixelToSky(10, 20));
      const box = new Box2I(exposure.bbox.minX + 10, exposure.bbox.minY + 20, 30, 40);
      const part = await b.get<typeof exposure>(ref, undefined, {
        parameters: { bbox: box },
        verifyChecksum: true,
      });
      expect(part.image.data).toEqual(exposure.subset(box).image.data);

      const cat = new Catalog([
        {
          name: 'id',
          kind: 'int64',
          unit: '',
          description: 'id',
          data: new BigInt64Array([1n, 2n, 3n]),
        },
        {
          name: 'flux',
          kind: 'float64',
          unit: 'nJy',
          description: 'flux',
          data: new Float64Array([1.5, 2.5, -3]),
        },
      ]);
      await b.put(cat, 'src', DATA_ID, { run: 'u/test/run1' });
      const catBack = await b.get<Catalog>('src', DATA_ID, { collections: ['u/test/run1'] });
      expect(Array.from(catBack.column('flux').data as Float64Array)).toEqual([1.5, 2.5, -3]);

      const dict = { seeing: 0.7, ccds: [0, 1], name: 'v1000' };
      await b.put(
        dict,
        'visitSummary',
        { instrument: 'SimCam', visit: 1000 },
        { run: 'u/test/run1' },
      );
      expect(
        await b.get(
          'visitSummary',
          { instrument: 'SimCam', visit: 1000 },
          { collections: 'u/test/run1' },
        ),
      ).toEqual(dict);
      // Queries see them, with where-clauses over record fields.
      const refs = await b.queryDatasets(['calexp', 'src', 'visitSummary'], {
        collections: 'u/test/run1',
        where: 'visit.exposure_time > 20',
      });
      expect(refs.map((r) => r.datasetType.name).sort()).toEqual(['calexp', 'src', 'visitSummary']);
    });

    it('refuses a second put of the same dataset in a run, and leaves the first intact', async () => {
      const b = await newButler();
      const d = { a: 1 };
      const ref = await b.put(
        d,
        'visitSummary',
        { instrument: 'SimCam', visit: 1000 },
        { run: 'r' },
      );
      await expect(
        b.put({ a: 2 }, 'visitSummary', { instrument: 'SimCam', visit: 1000 }, { run: 'r' }),
      ).rejects.toThrow(/already in run r/);
      expect(await b.get(ref)).toEqual(d);
    });

    it('a registry failure after the file was written removes the file (nothing half-registered)', async () => {
      const b = await newButler();
      const first = await b.put(
        { a: 1 },
        'visitSummary',
        { instrument: 'SimCam', visit: 1000 },
        {
          run: 'r1',
        },
      );
      // Same dataset id in another run: the file is written, then the insert fails.
      await expect(
        b.put(
          { a: 2 },
          'visitSummary',
          { instrument: 'SimCam', visit: 1001 },
          { run: 'r2', id: first.id },
        ),
      ).rejects.toThrow();
      expect(
        await b.exists(
          'visitSummary',
          { instrument: 'SimCam', visit: 1001 },
          { collections: 'r2' },
        ),
      ).toEqual({
        registered: false,
        stored: false,
      });
      const check = await b.check();
      expect(check.orphans).toEqual([]);
      expect(check.tempFiles).toEqual([]);
      expect(check.missing).toEqual([]);
    });

    it('a file lost under a registered dataset: exists says so, get is a typed error, check lists it', async () => {
      const b = await newButler();
      const ref = await b.put(
        { a: 1 },
        'visitSummary',
        { instrument: 'SimCam', visit: 1000 },
        {
          run: 'r',
        },
      );
      const [record] = await b.registry.getDatastoreRecords([ref.id]);
      await b.datastore.remove(record!);
      expect(await b.exists(ref)).toEqual({ registered: true, stored: false });
      await expect(b.get(ref)).rejects.toBeInstanceOf(FileMissingError);
      await expect(b.get(ref)).rejects.toThrow(/prune-datasets|re-ingest/);
      expect((await b.check()).missing.map((m) => m.datasetId)).toEqual([ref.id]);
      // Repair: prune it.
      await b.pruneDatasets([ref], { purge: true });
      expect((await b.check()).missing).toEqual([]);
      await expect(
        b.get('visitSummary', { instrument: 'SimCam', visit: 1000 }, { collections: 'r' }),
      ).rejects.toBeInstanceOf(DatasetNotFoundError);
    });

    it('a crash between the file write and the registry insert: check finds the orphan, --fix removes it', async () => {
      const b = await newButler();
      const type = await b.registry.getDatasetType('visitSummary');
      const dataId = await b.registry.expandDataId({ instrument: 'SimCam', visit: 1001 });
      // What put does before inserting rows, then "crash".
      const orphanRef: DatasetRef = {
        id: '01a21dd1-0000-7000-8000-000000000001',
        datasetType: type,
        dataId,
        run: 'crashed',
      };
      const record = await b.datastore.put({ half: true }, orphanRef);
      const found = await b.check();
      expect(found.orphans.map((f) => f.path)).toEqual([record.path]);
      // A registered dataset is never reported.
      await b.put(
        { ok: 1 },
        'visitSummary',
        { instrument: 'SimCam', visit: 1000 },
        { run: 'fine' },
      );
      expect((await b.check()).orphans.map((f) => f.path)).toEqual([record.path]);
      await b.check({ fix: true });
      expect((await b.check()).orphans).toEqual([]);
      expect(await b.datastore.exists(record)).toBe(false);
    });

    it('chained collections search in order; findFirst; removeRuns takes rows and files', async () => {
      const b = await newButler();
      const id = { instrument: 'SimCam', visit: 1000 };
      await b.put({ v: 'old' }, 'visitSummary', id, { run: 'runs/old' });
      await b.put({ v: 'new' }, 'visitSummary', id, { run: 'runs/new' });
      await b.registry.registerCollection('chain', 'CHAINED');
      await b.registry.setCollectionChain('chain', ['runs/new', 'runs/old']);
      expect(await b.get('visitSummary', id, { collections: 'chain' })).toEqual({ v: 'new' });
      await b.registry.setCollectionChain('chain', ['runs/old', 'runs/new']);
      expect(await b.get('visitSummary', id, { collections: 'chain' })).toEqual({ v: 'old' });
      const all = await b.queryDatasets('visitSummary', { collections: 'chain' });
      expect(all).toHaveLength(2);
      const first = await b.queryDatasets('visitSummary', {
        collections: 'chain',
        findFirst: true,
      });
      expect(first.map((r) => r.run)).toEqual(['runs/old']);
      const [rec] = await b.registry.getDatastoreRecords([(first[0] as DatasetRef).id]);
      await b.registry.setCollectionChain('chain', ['runs/new']);
      expect(await b.removeRuns(['runs/old'])).toBe(1);
      expect(await b.datastore.exists(rec!)).toBe(false);
      expect(await b.get('visitSummary', id, { collections: 'chain' })).toEqual({ v: 'new' });
    });

    it('export to a directory, import into a new repository: same ids, data IDs, records and bytes', async () => {
      const a = await newButler();
      const exposure = await readExposure(calexpPath);
      const ref = await a.put(exposure, 'calexp', DATA_ID, { run: 'exp/run' });
      await a.put(
        { k: 1 },
        'visitSummary',
        { instrument: 'SimCam', visit: 1000 },
        { run: 'exp/run' },
      );
      const refs = await a.queryDatasets(['calexp', 'visitSummary'], { collections: 'exp/run' });
      const file = join(dir, `export-${n}.yaml`);
      const out = join(dir, `export-${n}`);
      await a.export(file, refs, { directory: out });
      const ds = p.datastore();
      const b = await Butler.create(join(dir, `import${n++}`), {
        registry: p.db.name === 'sqlite' ? 'sqlite:gpu_drp.sqlite3' : await p.db.newUrl(),
        ...(ds ? { datastore: ds } : {}),
      });
      open.push(b);
      const imported = await b.import(file, { directory: out });
      expect(imported.map((r) => r.id).sort()).toEqual(refs.map((r) => r.id).sort());
      const back = await b.get<typeof exposure>(ref.id === imported[0]?.id ? imported[0] : ref);
      expect(back.image.data).toEqual(exposure.image.data);
      expect(
        await b.get(
          'visitSummary',
          { instrument: 'SimCam', visit: 1000 },
          { collections: 'exp/run' },
        ),
      ).toEqual({
        k: 1,
      });
      // Dimension records came along: the where-clause on a record field works there.
      expect(
        (
          await b.queryDatasets('calexp', {
            collections: 'exp/run',
            where: 'visit.exposure_time = 30',
          })
        ).length,
      ).toBe(1);
    });

    it('transferFrom another repository (facility to facility): files verified, ids kept, re-run is a no-op', async () => {
      const src = await newButler();
      const dst = await newButler();
      await src.put(
        { x: 1 },
        'visitSummary',
        { instrument: 'SimCam', visit: 1000 },
        { run: 't/run' },
      );
      await src.put(
        { x: 2 },
        'visitSummary',
        { instrument: 'SimCam', visit: 1001 },
        { run: 't/run' },
      );
      const refs = await src.queryDatasets('visitSummary', { collections: 't/run' });
      const r1 = await dst.transferFrom(src, refs);
      expect(r1.transferred).toHaveLength(2);
      const r2 = await dst.transferFrom(src, refs);
      expect(r2).toMatchObject({ transferred: [], skipped: expect.any(Array) });
      expect(r2.skipped).toHaveLength(2);
      const got = await dst.queryDatasets('visitSummary', { collections: 't/run' });
      expect(got.map((r) => r.id).sort()).toEqual(refs.map((r) => r.id).sort());
      expect(
        await dst.get(
          'visitSummary',
          { instrument: 'SimCam', visit: 1001 },
          { collections: 't/run' },
        ),
      ).toEqual({
        x: 2,
      });
    });
  });
}

describe('Butler repositories', () => {
  it('open says how to create a repository when there is none; create refuses to overwrite one', async () => {
    const d = mkdtempSync(join(tmpdir(), 'gpu-drp-norepo-'));
    try {
      await expect(Butler.open(d)).rejects.toThrow(/no repository at .*butler create/);
      const b = await Butler.create(join(d, 'r'));
      await b.close();
      expect(existsSync(join(d, 'r', 'butler.yaml'))).toBe(true);
      await expect(Butler.create(join(d, 'r'))).rejects.toBeInstanceOf(RepositoryConfigError);
      // Opening by the config file works too, and a relative SQLite path follows the repository.
      const again = await Butler.open(join(d, 'r', 'butler.yaml'));
      await again.close();
      unlinkSync(join(d, 'r', 'butler.yaml'));
      await expect(Butler.open(join(d, 'r'))).rejects.toBeInstanceOf(RepositoryConfigError);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
