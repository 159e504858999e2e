/**
 * Schema versions: a repository written at schema version 1 (made here with the version 1
 * migration only, plus data written with raw SQL) is upgraded on open; newer schemas and
 * other universes are refused. Run per database.
 */

import { expect, it } from 'vitest';
import { DimensionUniverse } from '../../../src/butler/dimensions/index.ts';
import {
  type OpenDatabase,
  openPostgres,
  openSqlite,
} from '../../../src/butler/registry/dialect.ts';
import { Executor } from '../../../src/butler/registry/exec.ts';
import {
  MIGRATIONS,
  parseRegistryUrl,
  Registry,
  SCHEMA_VERSION,
  SchemaVersionError,
} from '../../../src/butler/registry/index.ts';
import { inspectSchema, migrate } from '../../../src/butler/registry/schema.ts';
import { q } from '../../../src/butler/registry/sql.ts';
import { describeEachDatabase } from './databases.ts';

async function rawOpen(url: string): Promise<OpenDatabase> {
  const loc = parseRegistryUrl(url);
  return loc.kind === 'sqlite'
    ? openSqlite(loc.path, { create: true, busyTimeoutMs: 5000 })
    : openPostgres(loc.url);
}

/** Runs `fn` in one transaction on one connection. */
async function withTx<T>(open: OpenDatabase, fn: (x: Executor) => Promise<T>): Promise<T> {
  return open.db.connection().execute(async (conn) => {
    const x = new Executor(conn, open.dialect);
    await x.exec(open.dialect.beginWrite);
    const r = await fn(x);
    await x.exec('COMMIT');
    return r;
  });
}

describeEachDatabase('registry migrations', (ctx) => {
  it('has an ordered migration list ending at the current version', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
    );
  });

  it('upgrades a version 1 repository when opening it and keeps its data', async () => {
    const url = await ctx.newUrl();
    const universe = DimensionUniverse.load();
    const raw = await rawOpen(url);
    try {
      await withTx(raw, async (x) => {
        await migrate(x, universe, 0, SCHEMA_VERSION - 1);
        await x.run(
          q`INSERT INTO collection (name, type, doc) VALUES (${'old/run'}, ${'RUN'}, ${'from v1'})`,
        );
        await x.run(q`INSERT INTO instrument (name, detector_max) VALUES (${'OldCam'}, ${4})`);
      });
      const before = await inspectSchema(new Executor(raw.db, raw.dialect));
      expect(before.version).toBe(SCHEMA_VERSION - 1);
      const tables = (await new Executor(raw.db, raw.dialect).run(raw.dialect.listTables)).map(
        (r) => r.name,
      );
      expect(tables).not.toContain('datastore_record');
    } finally {
      await raw.db.destroy();
    }
    const reg = ctx.track(await Registry.open(url));
    expect(await reg.getCollectionType('old/run')).toBe('RUN');
    expect(await reg.queryDimensionRecords('instrument')).toEqual([
      { name: 'OldCam', detector_max: 4 },
    ]);
    // The version 2 feature works: datasets with datastore records.
    await reg.insertDimensionData('detector', [{ instrument: 'OldCam', id: 1 }]);
    await reg.registerDatasetType({
      name: 'bias',
      dimensions: ['instrument', 'detector'],
      storageClass: 'ExposureF',
    });
    const [ref] = await reg.insertDatasets(
      'bias',
      [{ instrument: 'OldCam', detector: 1 }],
      'old/run',
    );
    await reg.insertDatastoreRecords([
      {
        datasetId: ref!.id,
        path: 'old/run/bias/bias_OldCam_1.fits',
        formatter: 'F',
        storageClass: 'ExposureF',
        checksum: null,
        size: 3,
      },
    ]);
    expect(await reg.getDatastoreRecords([ref!.id])).toHaveLength(1);
    await reg.close();
    const after = await rawOpen(url);
    try {
      const state = await inspectSchema(new Executor(after.db, after.dialect));
      expect(state.version).toBe(SCHEMA_VERSION);
      expect(state.attributes.get('universe_version')).toBe('1');
    } finally {
      await after.db.destroy();
    }
  });

  it('refuses a repository written by a newer gpu-drp, and one of another universe', async () => {
    const url = await ctx.newUrl();
    const reg = await Registry.open(url, { create: true });
    await reg.close();
    const otherUniverse = DimensionUniverse.fromConfig({
      ...DimensionUniverse.load().config,
      version: 2,
    });
    const wrongUniverse = await Registry.open(url, { universe: otherUniverse }).catch(
      (e: unknown) => e,
    );
    expect(wrongUniverse).toBeInstanceOf(SchemaVersionError);
    expect((wrongUniverse as Error).message).toMatch(
      /uses dimensions universe gpu-drp v1, not gpu-drp v2/,
    );
    const raw = await rawOpen(url);
    try {
      await withTx(raw, (x) =>
        x.run(
          q`UPDATE butler_attributes SET value = ${String(SCHEMA_VERSION + 1)} WHERE name = ${'schema_version'}`,
        ),
      );
    } finally {
      await raw.db.destroy();
    }
    const err = await Registry.open(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaVersionError);
    expect((err as SchemaVersionError).code).toBe('SCHEMA_VERSION');
    expect((err as Error).message).toMatch(
      new RegExp(`schema version ${SCHEMA_VERSION + 1}.*Upgrade gpu-drp`),
    );
  });
});
