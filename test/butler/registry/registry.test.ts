/**
 * The registry suite (dataset types, collections, dimension records, datasets, datastore
 * records, transactions, ids, injection), run once per database.
 */

import { expect, it } from 'vitest';
import { DimensionUniverse } from '../../../src/butler/dimensions/index.ts';
import type { DataId, DatasetRef } from '../../../src/butler/refs.ts';
import {
  CollectionCycleError,
  CollectionInUseError,
  CollectionTypeError,
  ConflictingDefinitionError,
  canonicalDatasetName,
  DataIdError,
  DatastoreRecordsExistError,
  MissingCollectionError,
  MissingDatasetError,
  MissingDatasetTypeError,
  type Registry,
  RegistryArgumentError,
  Registry as RegistryClass,
  RepositoryNotFoundError,
  uuid5,
} from '../../../src/butler/registry/index.ts';
import { describeEachDatabase } from './databases.ts';

const CAM = 'SimCam';
const UUID5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** instrument, 3 filters, 4 detectors, 6 visits (exposure time 10*(i+1) s), no regions. */
async function basicDimensions(reg: Registry): Promise<void> {
  await reg.insertDimensionData('instrument', [
    { name: CAM, visit_max: 9999, detector_max: 4, class_name: 'x.SimCam' },
  ]);
  await reg.insertDimensionData('physical_filter', [
    { instrument: CAM, name: 'r_sim', band: 'r' },
    { instrument: CAM, name: 'g_sim', band: 'g' },
    { instrument: CAM, name: 'r2_sim', band: 'r' },
  ]);
  await reg.insertDimensionData(
    'detector',
    [0, 1, 2, 3].map((id) => ({
      instrument: CAM,
      id,
      full_name: `S${id}`,
      purpose: id === 3 ? 'WAVEFRONT' : 'SCIENCE',
    })),
  );
  await reg.insertDimensionData(
    'visit',
    [0, 1, 2, 3, 4, 5].map((i) => ({
      instrument: CAM,
      id: 100 + i,
      physical_filter: ['r_sim', 'g_sim', 'r2_sim'][i % 3],
      day_obs: 20260101 + Math.floor(i / 2),
      exposure_time: 10 * (i + 1),
    })),
  );
}

async function calexpSetup(reg: Registry): Promise<void> {
  await basicDimensions(reg);
  await reg.registerDatasetType({
    name: 'calexp',
    dimensions: ['instrument', 'visit', 'detector'],
    storageClass: 'ExposureF',
  });
}

function ccd(visit: number, detector: number): DataId {
  return { instrument: CAM, visit, detector };
}

function allCcds(): DataId[] {
  const out: DataId[] = [];
  for (let v = 100; v < 106; v++) for (let d = 0; d < 4; d++) out.push(ccd(v, d));
  return out;
}

function keyOf(r: DatasetRef): string {
  return `${r.dataId.visit}/${r.dataId.detector}@${r.run}`;
}

describeEachDatabase('registry', (ctx) => {
  it('creates a repository, refuses to open a missing one, and reopens with its universe', async () => {
    const url = await ctx.newUrl();
    await expect(RegistryClass.open(url)).rejects.toBeInstanceOf(RepositoryNotFoundError);
    const reg = ctx.track(await RegistryClass.open(url, { create: true }));
    await reg.registerRun('r1');
    await reg.close();
    const again = ctx.track(await RegistryClass.open(url));
    expect(again.universe.namespace).toBe('gpu-drp');
    expect(again.universe.version).toBe(1);
    expect(again.universe.dimensionNames).toEqual(DimensionUniverse.load().dimensionNames);
    expect(await again.getCollectionType('r1')).toBe('RUN');
  });

  it('registers dataset types, normalizes dimensions and refuses conflicting definitions', async () => {
    const reg = await ctx.newRegistry();
    const calexp = {
      name: 'calexp',
      dimensions: ['instrument', 'visit', 'detector', 'band'],
      storageClass: 'ExposureF',
    };
    expect(await reg.registerDatasetType(calexp)).toBe(true);
    expect(await reg.registerDatasetType(calexp)).toBe(false);
    expect(await reg.getDatasetType('calexp')).toEqual({
      name: 'calexp',
      dimensions: ['instrument', 'detector', 'visit'],
      storageClass: 'ExposureF',
    });
    // Same normalized dimensions: the same definition.
    expect(
      await reg.registerDatasetType({
        name: 'calexp',
        dimensions: ['detector', 'visit'],
        storageClass: 'ExposureF',
      }),
    ).toBe(false);
    await expect(
      reg.registerDatasetType({
        name: 'calexp',
        dimensions: ['instrument', 'visit', 'detector'],
        storageClass: 'ExposureI',
      }),
    ).rejects.toThrow(/storage class ExposureF vs ExposureI/);
    await expect(
      reg.registerDatasetType({
        name: 'calexp',
        dimensions: ['instrument', 'visit'],
        storageClass: 'ExposureF',
      }),
    ).rejects.toBeInstanceOf(ConflictingDefinitionError);
    expect(
      await reg.registerDatasetType({
        name: 'deepCoadd',
        dimensions: ['skymap', 'tract', 'patch', 'band'],
        storageClass: 'ExposureF',
      }),
    ).toBe(true);
    expect(
      await reg.registerDatasetType({
        name: 'bias',
        dimensions: ['instrument', 'detector'],
        storageClass: 'ExposureF',
        isCalibration: true,
      }),
    ).toBe(true);
    expect((await reg.getDatasetType('deepCoadd')).dimensions).toEqual([
      'band',
      'skymap',
      'tract',
      'patch',
    ]);
    expect((await reg.getDatasetType('bias')).isCalibration).toBe(true);
    const err = await reg.getDatasetType('calexpp').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingDatasetTypeError);
    expect((err as MissingDatasetTypeError).code).toBe('MISSING_DATASET_TYPE');
    expect((err as MissingDatasetTypeError).known).toEqual(['bias', 'calexp', 'deepCoadd']);
    expect((await reg.queryDatasetTypes('*Coadd')).map((t) => t.name)).toEqual(['deepCoadd']);
    expect((await reg.queryDatasetTypes(/^c/)).map((t) => t.name)).toEqual(['calexp']);
    expect((await reg.queryDatasetTypes()).map((t) => t.name)).toEqual([
      'bias',
      'calexp',
      'deepCoadd',
    ]);
    await expect(
      reg.registerDatasetType({ name: 'bad name', dimensions: [], storageClass: 'X' }),
    ).rejects.toBeInstanceOf(RegistryArgumentError);
    await expect(
      reg.registerDatasetType({ name: 'x', dimensions: ['visitt'], storageClass: 'X' }),
    ).rejects.toThrow(/unknown dimension element 'visitt'/);
  });

  it('registers runs, tagged and chained collections and refuses type clashes', async () => {
    const reg = await ctx.newRegistry();
    expect(await reg.registerRun('u/alice/run1', 'first run')).toBe(true);
    expect(await reg.registerRun('u/alice/run1')).toBe(false);
    expect(await reg.registerCollection('tagged', 'TAGGED')).toBe(true);
    await expect(reg.registerCollection('tagged', 'RUN')).rejects.toThrow(
      /exists as TAGGED, not RUN/,
    );
    expect(await reg.getCollectionType('u/alice/run1')).toBe('RUN');
    const missing = await reg.getCollectionType('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MissingCollectionError);
    expect((missing as MissingCollectionError).code).toBe('MISSING_COLLECTION');
    await expect(reg.registerRun('bad*name')).rejects.toBeInstanceOf(RegistryArgumentError);
    const list = await reg.queryCollections();
    expect(list).toEqual([
      { name: 'tagged', type: 'TAGGED' },
      { name: 'u/alice/run1', type: 'RUN', doc: 'first run' },
    ]);
  });

  it('edits chains in every mode, nests them and refuses cycles', async () => {
    const reg = await ctx.newRegistry();
    for (const r of ['a', 'b', 'c', 'd']) await reg.registerRun(r);
    await reg.registerCollection('outer', 'CHAINED');
    await reg.registerCollection('inner', 'CHAINED');
    await reg.setCollectionChain('inner', ['b', 'c']);
    await reg.setCollectionChain('outer', ['a', 'inner', 'd']);
    expect(await reg.getCollectionChain('outer')).toEqual(['a', 'inner', 'd']);
    await reg.setCollectionChain('outer', ['d'], { mode: 'prepend' });
    expect(await reg.getCollectionChain('outer')).toEqual(['d', 'a', 'inner']);
    await reg.setCollectionChain('outer', ['d', 'b'], { mode: 'extend' });
    expect(await reg.getCollectionChain('outer')).toEqual(['a', 'inner', 'd', 'b']);
    await reg.setCollectionChain('outer', ['b'], { mode: 'remove' });
    expect(await reg.getCollectionChain('outer')).toEqual(['a', 'inner', 'd']);
    await reg.setCollectionChain('outer', [], { mode: 'pop' });
    expect(await reg.getCollectionChain('outer')).toEqual(['inner', 'd']);
    await reg.setCollectionChain('outer', ['-1'], { mode: 'pop' });
    expect(await reg.getCollectionChain('outer')).toEqual(['inner']);
    await expect(reg.setCollectionChain('outer', ['5'], { mode: 'pop' })).rejects.toBeInstanceOf(
      RegistryArgumentError,
    );
    // Cycles: directly and through a nested chain.
    await expect(reg.setCollectionChain('outer', ['outer'])).rejects.toBeInstanceOf(
      CollectionCycleError,
    );
    await expect(reg.setCollectionChain('inner', ['b', 'outer'])).rejects.toBeInstanceOf(
      CollectionCycleError,
    );
    expect(await reg.getCollectionChain('inner')).toEqual(['b', 'c']);
    await expect(reg.setCollectionChain('a', ['b'])).rejects.toBeInstanceOf(CollectionTypeError);
    await expect(reg.setCollectionChain('outer', ['zzz'])).rejects.toBeInstanceOf(
      MissingCollectionError,
    );
    const flat = await reg.queryCollections({ pattern: 'out*', flattenChains: true });
    expect(flat.map((c) => c.name)).toEqual(['outer', 'inner', 'b', 'c']);
    expect(flat[0]!.children).toEqual(['inner']);
    expect((await reg.queryCollections({ types: ['CHAINED'] })).map((c) => c.name)).toEqual([
      'inner',
      'outer',
    ]);
    // In use by a chain: removal refused; removeRuns unlinks.
    const inUse = await reg.removeCollection('b').catch((e: unknown) => e);
    expect(inUse).toBeInstanceOf(CollectionInUseError);
    expect((inUse as CollectionInUseError).parents).toEqual(['inner']);
    await reg.removeRuns(['b']);
    expect(await reg.getCollectionChain('inner')).toEqual(['c']);
    await reg.removeCollection('outer');
    await expect(reg.getCollectionType('outer')).rejects.toBeInstanceOf(MissingCollectionError);
    expect(await reg.getCollectionChain('inner')).toEqual(['c']);
  });

  it('inserts, finds and gets datasets with expanded data IDs', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    await reg.registerRun('run1');
    const refs = await reg.insertDatasets('calexp', allCcds(), 'run1');
    expect(refs).toHaveLength(24);
    expect(refs[0]!.id).toMatch(UUID7);
    expect(new Set(refs.map((r) => r.id)).size).toBe(24);
    expect(refs[5]!.dataId).toEqual({
      instrument: CAM,
      band: 'g',
      physical_filter: 'g_sim',
      detector: 1,
      day_obs: 20260101,
      visit: 101,
    });
    const found = await reg.findDataset(
      'calexp',
      { instrument: CAM, visit: 101, detector: 1 },
      { collections: 'run1' },
    );
    expect(found).toEqual(refs[5]);
    // Implied values may be given (and must agree); string data ID values are converted.
    expect(
      await reg.findDataset(
        'calexp',
        { instrument: CAM, visit: '101', detector: 1, band: 'g' },
        { collections: ['run1'] },
      ),
    ).toEqual(refs[5]);
    expect(
      await reg.findDataset(
        'calexp',
        { instrument: CAM, visit: 101, detector: 1, band: 'r' },
        { collections: 'run1' },
      ),
    ).toBeNull();
    expect(await reg.getDataset(refs[7]!.id)).toEqual(refs[7]);
    expect(await reg.getDataset('00000000-0000-7000-8000-000000000000')).toBeNull();
    const dup = await reg.insertDatasets('calexp', [ccd(100, 0)], 'run1').catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(ConflictingDefinitionError);
    expect((dup as Error).message).toMatch(
      /run 'run1' already holds a 'calexp' dataset with data ID .*visit: 100/,
    );
    await expect(reg.insertDatasets('calexp', [ccd(100, 0), ccd(100, 0)], 'run2')).rejects.toThrow(
      MissingCollectionError,
    );
    await reg.registerRun('run2');
    await expect(reg.insertDatasets('calexp', [ccd(100, 0), ccd(100, 0)], 'run2')).rejects.toThrow(
      /appears twice/,
    );
    // Nothing of the failed inserts is left behind.
    expect(await reg.queryDatasets('calexp', { collections: 'run2' })).toEqual([]);
    await expect(reg.insertDatasets('nope', [ccd(100, 0)], 'run1')).rejects.toBeInstanceOf(
      MissingDatasetTypeError,
    );
    await reg.registerCollection('tag', 'TAGGED');
    await expect(reg.insertDatasets('calexp', [ccd(100, 0)], 'tag')).rejects.toBeInstanceOf(
      CollectionTypeError,
    );
  });

  it('validates data IDs: missing, unknown and badly typed keys, missing records, contradictions', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    await reg.registerRun('run1');
    const errOf = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e as DataIdError,
      );
    const missing = await errOf(
      reg.insertDatasets('calexp', [{ instrument: CAM, visit: 100 }], 'run1'),
    );
    expect(missing).toBeInstanceOf(DataIdError);
    expect(missing!.code).toBe('DATAID_MISSING_KEYS');
    expect(missing!.keys).toEqual(['detector']);
    const unknown = await errOf(
      reg.insertDatasets('calexp', [{ ...ccd(100, 0), filter: 'r' }], 'run1'),
    );
    expect(unknown!.code).toBe('DATAID_UNKNOWN_KEYS');
    expect(unknown!.keys).toEqual(['filter']);
    const notOfType = await errOf(
      reg.insertDatasets('calexp', [{ ...ccd(100, 0), tract: 1 }], 'run1'),
    );
    expect(notOfType!.code).toBe('DATAID_UNKNOWN_KEYS');
    for (const bad of ['../../etc', '1; DROP TABLE dataset', 1.5, '', null]) {
      const e = await errOf(
        reg.insertDatasets(
          'calexp',
          [{ instrument: CAM, visit: bad as never, detector: 0 }],
          'run1',
        ),
      );
      expect(e).toBeInstanceOf(DataIdError);
      expect(['DATAID_BAD_VALUE', 'DATAID_MISSING_KEYS']).toContain(e!.code);
    }
    const noRecord = await errOf(reg.insertDatasets('calexp', [ccd(999, 0)], 'run1'));
    expect(noRecord!.code).toBe('DATAID_NO_RECORD');
    expect(noRecord!.message).toMatch(/no visit record for \{instrument: "SimCam", visit: 999\}/);
    const contradiction = await errOf(reg.expandDataId({ ...ccd(100, 0), band: 'g' }));
    expect(contradiction!.code).toBe('DATAID_INCONSISTENT');
    expect(await reg.expandDataId({ instrument: CAM, visit: 102 })).toEqual({
      instrument: CAM,
      band: 'r',
      physical_filter: 'r2_sim',
      day_obs: 20260102,
      visit: 102,
    });
    expect(await reg.queryDatasets('calexp', { collections: 'run1' })).toEqual([]);
  });

  it('searches chains in order and keeps the first dataset per data ID with findFirst', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    for (const r of ['old', 'new', 'extra']) await reg.registerRun(r);
    await reg.insertDatasets('calexp', allCcds(), 'old');
    await reg.insertDatasets('calexp', [ccd(100, 0), ccd(101, 1)], 'new');
    await reg.insertDatasets('calexp', [ccd(100, 0), ccd(105, 3)], 'extra');
    await reg.registerCollection('inner', 'CHAINED');
    await reg.registerCollection('chain', 'CHAINED');
    await reg.setCollectionChain('inner', ['new', 'old']);
    await reg.setCollectionChain('chain', ['extra', 'inner']);
    const ff = await reg.queryDatasets('calexp', { collections: 'chain', findFirst: true });
    expect(ff).toHaveLength(24);
    const runOf = new Map(ff.map((r) => [`${r.dataId.visit}/${r.dataId.detector}`, r.run]));
    expect(runOf.get('100/0')).toBe('extra');
    expect(runOf.get('105/3')).toBe('extra');
    expect(runOf.get('101/1')).toBe('new');
    expect(runOf.get('102/2')).toBe('old');
    expect((await reg.findDataset('calexp', ccd(100, 0), { collections: ['inner'] }))!.run).toBe(
      'new',
    );
    expect(
      (await reg.findDataset('calexp', ccd(100, 0), { collections: ['old', 'chain'] }))!.run,
    ).toBe('old');
    const all = await reg.queryDatasets('calexp', { collections: 'chain' });
    expect(all).toHaveLength(28);
    expect(
      all.filter((r) => r.dataId.visit === 100 && r.dataId.detector === 0).map((r) => r.run),
    ).toEqual(['extra', 'new', 'old']);
    const globbed = await reg.queryDatasets('calexp', { collections: 'ne*' });
    expect(globbed.map(keyOf)).toEqual(['100/0@new', '101/1@new']);
    await expect(
      reg.queryDatasets('calexp', { collections: 'ne*', findFirst: true }),
    ).rejects.toBeInstanceOf(RegistryArgumentError);
    expect(
      await reg.queryDatasets('calexp', { collections: 'chain', findFirst: true, limit: 3 }),
    ).toHaveLength(3);
  });

  it('associates with and disassociates from TAGGED collections', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    await reg.registerRun('a');
    await reg.registerRun('b');
    await reg.registerCollection('best', 'TAGGED');
    const ra = await reg.insertDatasets('calexp', [ccd(100, 0), ccd(100, 1)], 'a');
    const rb = await reg.insertDatasets('calexp', [ccd(100, 0)], 'b');
    await reg.associate('best', ra);
    await reg.associate('best', ra); // idempotent
    const tagged = await reg.queryDatasets('calexp', { collections: 'best' });
    expect(tagged.map((r) => r.id).sort()).toEqual(ra.map((r) => r.id).sort());
    expect(tagged.every((r) => r.run === 'a')).toBe(true);
    await expect(reg.associate('best', rb)).rejects.toBeInstanceOf(ConflictingDefinitionError);
    await expect(reg.associate('a', rb)).rejects.toBeInstanceOf(CollectionTypeError);
    const ghost = { ...ra[0]!, id: '01890000-0000-7000-8000-000000000001' };
    await expect(reg.associate('best', [ghost])).rejects.toBeInstanceOf(MissingDatasetError);
    await reg.disassociate('best', [ra[0]!]);
    expect((await reg.queryDatasets('calexp', { collections: 'best' })).map((r) => r.id)).toEqual([
      ra[1]!.id,
    ]);
    await reg.associate('best', rb);
    expect((await reg.findDataset('calexp', ccd(100, 0), { collections: 'best' }))!.run).toBe('b');
    // Removing a dataset takes it out of every collection.
    await reg.removeDatasets([rb[0]!]);
    expect(await reg.findDataset('calexp', ccd(100, 0), { collections: 'best' })).toBeNull();
    expect(await reg.getDataset(rb[0]!.id)).toBeNull();
    await reg.removeCollection('best');
    expect((await reg.queryDatasets('calexp', { collections: 'a' })).length).toBe(2);
  });

  it('makes deterministic UUIDv5 ids and keeps ids on import', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    await reg.registerRun('r1');
    await reg.registerRun('r2');
    const a = await reg.insertDatasets('calexp', [ccd(100, 0), ccd(101, 2)], 'r1', {
      idMode: 'DATAID_TYPE_RUN',
    });
    const b = await reg.insertDatasets('calexp', [ccd(100, 0), ccd(101, 2)], 'r2', {
      idMode: 'DATAID_TYPE_RUN',
    });
    expect(a[0]!.id).toMatch(UUID5);
    expect(a[0]!.id).toBe(
      uuid5(canonicalDatasetName('calexp', { instrument: CAM, detector: 0, visit: 100 }, 'r1')),
    );
    expect(a[0]!.id).not.toBe(b[0]!.id);
    // Same inputs, same ids: remove the run and ingest again.
    await reg.removeRuns(['r1']);
    await reg.registerRun('r1');
    const again = await reg.insertDatasets('calexp', [ccd(101, 2), ccd(100, 0)], 'r1', {
      idMode: 'DATAID_TYPE_RUN',
    });
    expect(again.map((r) => r.id)).toEqual([a[1]!.id, a[0]!.id]);
    const t1 = await reg.insertDatasets('calexp', [ccd(102, 0)], 'r1', { idMode: 'DATAID_TYPE' });
    // DATAID_TYPE ignores the run, so the same data ID in another run collides on the id.
    const clash = await reg
      .insertDatasets('calexp', [ccd(102, 0)], 'r2', { idMode: 'DATAID_TYPE' })
      .catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(ConflictingDefinitionError);
    expect((clash as Error).message).toMatch(/DATAID_TYPE_RUN/);
    expect(t1[0]!.id).toBe(
      uuid5(canonicalDatasetName('calexp', { instrument: CAM, detector: 0, visit: 102 }, null)),
    );
    // Import keeps ids, is idempotent, and refuses conflicting details.
    const other = ctx.track(await RegistryClass.open(await ctx.newUrl(), { create: true }));
    await calexpSetup(other);
    await other.registerRun('r1');
    await other.importDatasets(again);
    await other.importDatasets(again);
    expect(
      (await other.queryDatasets('calexp', { collections: 'r1' })).map((r) => r.id).sort(),
    ).toEqual(again.map((r) => r.id).sort());
    await expect(
      other.importDatasets([{ ...again[0]!, dataId: ccd(103, 1) }]),
    ).rejects.toBeInstanceOf(ConflictingDefinitionError);
    // A dimensionless dataset (a task's config) re-imported: a no-op too.
    await other.registerDatasetType({
      name: 'task_config',
      dimensions: [],
      storageClass: 'Config',
    });
    const [cfg] = await other.insertDatasets('task_config', [{}], 'r1');
    await other.importDatasets([cfg!]);
    expect(
      (await other.queryDatasets('task_config', { collections: 'r1' })).map((r) => r.id),
    ).toEqual([cfg!.id]);
    const explicit = await reg.insertDatasets('calexp', [ccd(104, 1)], 'r2', {
      ids: ['0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B'],
    });
    expect(explicit[0]!.id).toBe('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
  });

  it('handles dimensionless dataset types (one per run, like a task config)', async () => {
    const reg = await ctx.newRegistry();
    await reg.registerDatasetType({ name: 'task_config', dimensions: [], storageClass: 'Config' });
    for (const r of ['a', 'b']) await reg.registerRun(r);
    const [ca] = await reg.insertDatasets('task_config', [{}], 'a');
    const [cb] = await reg.insertDatasets('task_config', [{}], 'b');
    expect(ca!.dataId).toEqual({});
    await expect(reg.insertDatasets('task_config', [{}], 'a')).rejects.toThrow(
      /run 'a' already holds a 'task_config' dataset with data ID \{\}/,
    );
    await reg.registerCollection('chain', 'CHAINED');
    await reg.setCollectionChain('chain', ['b', 'a']);
    expect((await reg.findDataset('task_config', {}, { collections: 'chain' }))!.id).toBe(cb!.id);
    const ff = await reg.queryDatasets('task_config', { collections: 'chain', findFirst: true });
    expect(ff.map((r) => r.run)).toEqual(['b']);
    await reg.registerCollection('best', 'TAGGED');
    await reg.associate('best', [ca!]);
    await expect(reg.associate('best', [cb!])).rejects.toBeInstanceOf(ConflictingDefinitionError);
    expect(
      (await reg.queryDatasets('task_config', { collections: 'best' })).map((r) => r.id),
    ).toEqual([ca!.id]);
  });

  it('keeps datastore records and refuses to drop datasets that still have them', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    await reg.registerRun('run');
    const refs = await reg.insertDatasets('calexp', [ccd(100, 0), ccd(100, 1)], 'run');
    const rec = {
      datasetId: refs[0]!.id,
      path: 'run/calexp/100/calexp_SimCam_100_0_run.fits',
      formatter: 'ExposureFitsFormatter',
      storageClass: 'ExposureF',
      checksum: 'blake2b:abc',
      size: 1234,
    };
    const comp = {
      ...rec,
      path: 'run/calexp/100/wcs.json',
      component: 'wcs',
      checksum: null,
      size: 10,
    };
    await reg.insertDatastoreRecords([rec, comp]);
    expect(await reg.getDatastoreRecords([refs[0]!.id, refs[1]!.id])).toEqual([rec, comp]);
    await expect(reg.insertDatastoreRecords([rec])).rejects.toBeInstanceOf(
      ConflictingDefinitionError,
    );
    await expect(
      reg.insertDatastoreRecords([{ ...rec, datasetId: '01890000-0000-7000-8000-0000000000ff' }]),
    ).rejects.toBeInstanceOf(MissingDatasetError);
    await expect(reg.removeDatasets([refs[0]!])).rejects.toBeInstanceOf(DatastoreRecordsExistError);
    await expect(reg.removeRuns(['run'])).rejects.toBeInstanceOf(DatastoreRecordsExistError);
    await reg.removeDatastoreRecords([refs[0]!.id]);
    expect(await reg.getDatastoreRecords([refs[0]!.id])).toEqual([]);
    await reg.removeRuns(['run']);
    expect(await reg.getDataset(refs[0]!.id)).toBeNull();
  });

  it('writes datasets and datastore records in one transaction and rolls everything back on error', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    const boom = new Error('datastore write failed');
    await expect(
      reg.transaction(async (tx) => {
        await tx.registerRun('tx-run');
        const refs = await tx.insertDatasets('calexp', [ccd(100, 0)], 'tx-run');
        await tx.insertDatastoreRecords([
          {
            datasetId: refs[0]!.id,
            path: 'p',
            formatter: 'f',
            storageClass: 'ExposureF',
            checksum: null,
            size: 1,
          },
        ]);
        expect(
          await tx.findDataset('calexp', ccd(100, 0), { collections: 'tx-run' }),
        ).not.toBeNull();
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(reg.getCollectionType('tx-run')).rejects.toBeInstanceOf(MissingCollectionError);
    // Nested: a failed inner step rolls back to its savepoint; the outer part commits.
    const refs = await reg.transaction(async (tx) => {
      await tx.registerRun('kept');
      const kept = await tx.insertDatasets('calexp', [ccd(100, 0)], 'kept');
      await expect(
        tx.transaction(async (inner) => {
          await inner.insertDatasets('calexp', [ccd(100, 1)], 'kept');
          await inner.insertDatasets('calexp', [ccd(100, 0)], 'kept');
        }),
      ).rejects.toBeInstanceOf(ConflictingDefinitionError);
      return kept;
    });
    const inRun = await reg.queryDatasets('calexp', { collections: 'kept' });
    expect(inRun.map((r) => r.id)).toEqual([refs[0]!.id]);
  });

  it('inserts, syncs and queries dimension records; band and day_obs follow the records', async () => {
    const reg = await ctx.newRegistry();
    await basicDimensions(reg);
    expect((await reg.queryDimensionRecords('band')).map((r) => r.name)).toEqual(['g', 'r']);
    expect((await reg.queryDimensionRecords('day_obs')).map((r) => r.id)).toEqual([
      20260101, 20260102, 20260103,
    ]);
    const dup = await reg
      .insertDimensionData('detector', [{ instrument: CAM, id: 0, full_name: 'X' }])
      .catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(ConflictingDefinitionError);
    expect((dup as Error).message).toMatch(/skipExisting/);
    await reg.insertDimensionData(
      'detector',
      [
        { instrument: CAM, id: 0, full_name: 'X' },
        { instrument: CAM, id: 9 },
      ],
      {
        skipExisting: true,
      },
    );
    const dets = await reg.queryDimensionRecords('detector', { where: 'detector IN (0, 9)' });
    expect(dets).toEqual([
      { instrument: CAM, id: 0, full_name: 'S0', purpose: 'SCIENCE' },
      { instrument: CAM, id: 9 },
    ]);
    expect(
      await reg.syncDimensionData('detector', {
        instrument: CAM,
        id: 0,
        full_name: 'S0',
        purpose: 'SCIENCE',
      }),
    ).toBe(false);
    expect(
      await reg.syncDimensionData('detector', { instrument: CAM, id: 10, full_name: 'S10' }),
    ).toBe(true);
    await expect(
      reg.syncDimensionData('detector', { instrument: CAM, id: 10, full_name: 'S11' }),
    ).rejects.toThrow(/full_name: stored "S10", given "S11"/);
    const fk = await reg
      .insertDimensionData('visit', [
        { instrument: CAM, id: 500, physical_filter: 'z_sim', day_obs: 20260101 },
      ])
      .catch((e: unknown) => e);
    expect(fk).toBeInstanceOf(DataIdError);
    expect((fk as DataIdError).code).toBe('DATAID_NO_RECORD');
    await expect(
      reg.insertDimensionData('visit', [
        { instrument: CAM, id: 501, physical_filter: 'r_sim', day_obs: 20260101, colour: 1 },
      ]),
    ).rejects.toThrow(/unknown fields 'colour'/);
    await expect(
      reg.insertDimensionData('visit', [
        {
          instrument: CAM,
          id: 501,
          physical_filter: 'r_sim',
          day_obs: 20260101,
          exposure_time: 'long',
        },
      ]),
    ).rejects.toThrow(/visit.exposure_time must be a finite number/);
    await reg.insertDimensionData('exposure', [
      {
        instrument: CAM,
        id: 7,
        physical_filter: 'g_sim',
        day_obs: 20260301,
        datetime_begin: '2026-03-01 22:00:00.500Z',
        exposure_time: 30,
      },
    ]);
    const [exp] = await reg.queryDimensionRecords('exposure');
    expect(exp).toEqual({
      instrument: CAM,
      id: 7,
      physical_filter: 'g_sim',
      day_obs: 20260301,
      exposure_time: 30,
      datetime_begin: '2026-03-01T22:00:00.5',
    });
    const recs = await reg.queryDimensionRecords('visit', {
      where: "band = 'r' AND visit.exposure_time >= 30",
    });
    expect(recs.map((r) => r.id)).toEqual([102, 103, 105]);
    expect(await reg.queryDimensionRecords('physical_filter', { dataId: { band: 'r' } })).toEqual([
      { instrument: CAM, name: 'r2_sim', band: 'r' },
      { instrument: CAM, name: 'r_sim', band: 'r' },
    ]);
  });

  it('keeps hostile values as bound parameters', async () => {
    const reg = await ctx.newRegistry();
    await calexpSetup(reg);
    const evil = "x'); DROP TABLE dataset; --";
    await reg.insertDimensionData('instrument', [
      { name: evil, class_name: `"; DROP TABLE collection; --` },
    ]);
    await reg.insertDimensionData('detector', [{ instrument: evil, id: 1, full_name: "R'22" }]);
    expect(await reg.queryDimensionRecords('detector', { dataId: { instrument: evil } })).toEqual([
      { instrument: evil, id: 1, full_name: "R'22" },
    ]);
    await reg.registerRun("run'; DELETE FROM collection; --");
    await reg.registerRun('run');
    await reg.insertDatasets('calexp', [ccd(100, 0)], 'run');
    expect(
      await reg.findDataset(
        'calexp',
        { instrument: evil, visit: 100, detector: 0 },
        { collections: 'run' },
      ),
    ).toBeNull();
    expect(
      await reg.queryDatasets('calexp', {
        collections: 'run',
        where: 'band = :b',
        bind: { b: "r' OR '1'='1" },
      }),
    ).toEqual([]);
    expect(
      await reg.queryDatasets('calexp', {
        collections: 'run',
        where: "band = 'r''; DROP TABLE dataset; --'",
      }),
    ).toEqual([]);
    expect(
      await reg.queryDatasets('calexp', {
        collections: 'run',
        dataId: { instrument: `${CAM}' OR 1=1 --` },
      }),
    ).toEqual([]);
    await expect(
      reg.queryDatasets('calexp', { collections: 'run', where: 'visit = 1; DROP TABLE dataset' }),
    ).rejects.toMatchObject({
      code: 'WHERE_SYNTAX',
    });
    // Everything is still there.
    expect(await reg.queryDatasets('calexp', { collections: 'run' })).toHaveLength(1);
    expect((await reg.queryCollections()).map((c) => c.name)).toEqual([
      'run',
      "run'; DELETE FROM collection; --",
    ]);
  });
});
