/**
 * Queries over the simulator's geometry (6 visits x 4 CCDs with WCS-derived regions, one
 * tract of 4 x 4 patches): where-clauses, the automatic spatial join between CCD / visit
 * regions and patches (checked against overlaps computed in the tract's pixel plane),
 * literal-region OVERLAPS, find-first, EXPLAIN. Run once per database.
 */

import { beforeEach, expect, it } from 'vitest';
import { ExprError } from '../../../src/butler/expr/index.ts';
import type { DataId } from '../../../src/butler/refs.ts';
import type { Registry } from '../../../src/butler/registry/index.ts';
import { describeEachDatabase } from './databases.ts';
import {
  INSTRUMENT,
  insertSimGeometry,
  type SimGeometry,
  SKYMAP,
  simGeometry,
} from './fixtures.ts';

const geometry = simGeometry();

function pointInConvex(
  poly: ReadonlyArray<readonly [number, number]>,
  x: number,
  y: number,
): boolean {
  let sign = 0;
  for (let i = 0; i < poly.length; i++) {
    const [ax, ay] = poly[i]!;
    const [bx, by] = poly[(i + 1) % poly.length]!;
    const c = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    if (c === 0) continue;
    if (sign === 0) sign = Math.sign(c);
    else if (Math.sign(c) !== sign) return false;
  }
  return true;
}

/** CCDs containing a sky point, computed in the tract's pixel plane. */
function ccdsContaining(g: SimGeometry, ra: number, dec: number): string[] {
  const wcs = g.skymap.tract(0).wcs;
  const p = wcs.skyToPixel(ra, dec);
  return g.ccds
    .filter((c) =>
      pointInConvex(
        c.corners.map(([r, d]) => {
          const q = wcs.skyToPixel(r, d);
          return [q.x, q.y] as const;
        }),
        p.x,
        p.y,
      ),
    )
    .map((c) => `${c.visit}/${c.detector}`)
    .sort();
}

function ccdKey(d: DataId): string {
  return `${d.visit}/${d.detector}`;
}

describeEachDatabase('registry queries', (ctx) => {
  let reg: Registry;
  let g: SimGeometry;

  beforeEach(async () => {
    g = geometry;
    reg = await ctx.newRegistry();
    await insertSimGeometry(reg, g);
    await reg.registerDatasetType({
      name: 'calexp',
      dimensions: ['instrument', 'visit', 'detector'],
      storageClass: 'ExposureF',
    });
    await reg.registerDatasetType({
      name: 'deepCoadd',
      dimensions: ['skymap', 'tract', 'patch', 'band'],
      storageClass: 'ExposureF',
    });
    await reg.registerRun('sim/run');
    await reg.insertDatasets(
      'calexp',
      g.ccds.map((c) => ({ instrument: INSTRUMENT, visit: c.visit, detector: c.detector })),
      'sim/run',
    );
  });

  it('finds the CCD-patch overlaps the WCSs give (spatial join of visit_detector_region and patch)', async () => {
    const ids = await reg.queryDataIds(['tract', 'patch', 'visit', 'detector']);
    const got = new Set(ids.map((d) => `${d.visit}/${d.detector}/${d.tract}/${d.patch}`));
    expect(g.overlaps.size).toBeGreaterThan(30);
    expect(g.overlaps.size).toBeLessThan(g.ccds.length * g.patches.length);
    expect([...got].sort()).toEqual([...g.overlaps].sort());
    // Implied values come along.
    const one = ids.find((d) => d.visit === 1001)!;
    expect(one.band).toBe('g');
    expect(one.skymap).toBe(SKYMAP);
  });

  it('joins visit regions with patches when detectors are not asked for', async () => {
    const ids = await reg.queryDataIds(['visit', 'patch']);
    const got = new Set(ids.map((d) => `${d.visit}/${d.patch}`));
    // Every CCD-patch overlap implies a visit-patch overlap (a visit region holds its CCDs).
    for (const k of g.overlaps) {
      const [v, , , p] = k.split('/');
      expect(got.has(`${v}/${p}`)).toBe(true);
    }
    expect(got.size).toBeLessThanOrEqual(g.visits.length * g.patches.length);
  });

  it('finds calexps overlapping a patch and patches overlapping a CCD', async () => {
    const patch = 5;
    const expected = [...g.overlaps]
      .filter((k) => k.endsWith(`/0/${patch}`))
      .map((k) => k.split('/').slice(0, 2).join('/'))
      .sort();
    const refs = await reg.queryDatasets('calexp', {
      collections: 'sim/run',
      where: 'tract = 0 AND patch = :p',
      bind: { p: patch },
    });
    expect(refs.map((r) => ccdKey(r.dataId)).sort()).toEqual(expected);
    expect(new Set(refs.map((r) => r.id)).size).toBe(refs.length);
    const patches = await reg.queryDimensionRecords('patch', {
      dataId: { instrument: INSTRUMENT, visit: 1002, detector: 3 },
    });
    const want = [...g.overlaps]
      .filter((k) => k.startsWith('1002/3/'))
      .map((k) => Number(k.split('/')[3]))
      .sort((a, b) => a - b);
    expect(patches.map((p) => p.id)).toEqual(want);
    expect(patches[0]).toHaveProperty('region');
  });

  it('resolves OVERLAPS against literal regions exactly, also under NOT and OR', async () => {
    const [ra, dec] = g.ccds[5]!.corners[0]!.map((v, i) => v + (i === 0 ? 0.004 : -0.004)) as [
      number,
      number,
    ];
    const expected = ccdsContaining(g, ra, dec);
    expect(expected.length).toBeGreaterThan(0);
    const inside = await reg.queryDataIds(['visit', 'detector'], {
      where: `visit_detector_region.region OVERLAPS POINT(${ra}, ${dec})`,
    });
    expect(inside.map(ccdKey).sort()).toEqual(expected);
    const outside = await reg.queryDataIds(['visit', 'detector'], {
      where: `NOT visit_detector_region.region OVERLAPS POINT(:ra, :dec) OR detector = 0`,
      bind: { ra, dec },
    });
    const outKeys = outside.map(ccdKey);
    for (const k of expected) expect(outKeys.includes(k)).toBe(k.endsWith('/0'));
    expect(outKeys.length).toBe(g.ccds.length - expected.filter((k) => !k.endsWith('/0')).length);
    // A circle around a CCD centre catches that CCD; a far-away box catches nothing.
    const c = g.ccds[9]!;
    const cra = c.corners.reduce((s, p) => s + p[0], 0) / 4;
    const cdec = c.corners.reduce((s, p) => s + p[1], 0) / 4;
    const circ = await reg.queryDataIds(['visit', 'detector'], {
      where: `visit_detector_region.region OVERLAPS CIRCLE(${cra}, ${cdec}, 0.001) AND visit = ${c.visit}`,
    });
    expect(circ.map(ccdKey)).toEqual([`${c.visit}/${c.detector}`]);
    const far = await reg.queryDataIds(['visit'], {
      where: 'visit.region OVERLAPS BOX(10, -40, 1, 1)',
    });
    expect(far).toEqual([]);
    const patchHit = await reg.queryDimensionRecords('patch', {
      where: `patch OVERLAPS POINT(${cra}, ${cdec})`,
    });
    expect(patchHit.length).toBeGreaterThanOrEqual(1);
    expect(patchHit.length).toBeLessThanOrEqual(4);
  });

  it('filters datasets with ranges, strides, IN lists, binds, record fields and implied band', async () => {
    const q = async (where: string, bind?: Record<string, unknown>) =>
      (
        await reg.queryDatasets('calexp', {
          collections: 'sim/run',
          where,
          ...(bind ? { bind } : {}),
        })
      )
        .map((r) => ccdKey(r.dataId))
        .sort();
    const expect_ = (pred: (c: { visit: number; detector: number; i: number }) => boolean) =>
      g.ccds
        .map((c) => ({ visit: c.visit, detector: c.detector, i: c.visit - 1000 }))
        .filter(pred)
        .map((c) => `${c.visit}/${c.detector}`)
        .sort();
    expect(await q('visit IN (1001..1003) AND detector = 2')).toEqual(
      expect_((c) => c.visit >= 1001 && c.visit <= 1003 && c.detector === 2),
    );
    expect(await q('visit IN (1000..1005:2)')).toEqual(expect_((c) => c.i % 2 === 0));
    expect(await q('visit NOT IN (1000, 1001) AND detector IN (:ds)', { ds: [0, 3] })).toEqual(
      expect_((c) => c.visit > 1001 && (c.detector === 0 || c.detector === 3)),
    );
    // Exposure times are 30 + 5 i; filters alternate r (even i) / g (odd i).
    expect(await q('visit.exposure_time > 40')).toEqual(expect_((c) => 30 + 5 * c.i > 40));
    expect(await q("band = 'g' AND visit.exposure_time <= :t", { t: 45 })).toEqual(
      expect_((c) => c.i % 2 === 1 && 30 + 5 * c.i <= 45),
    );
    expect(await q("physical_filter = 'r_sim' AND detector.full_name = 'S1'")).toEqual(
      expect_((c) => c.i % 2 === 0 && c.detector === 1),
    );
    expect(await q('visit.day_obs = 20261002')).toEqual(expect_((c) => c.i >= 3));
    const t3 = (
      await reg.queryDimensionRecords('visit', { dataId: { instrument: INSTRUMENT, visit: 1003 } })
    )[0]!.datetime_begin as string;
    expect(await q(`visit.datetime_begin >= T'${t3}'`)).toEqual(expect_((c) => c.i >= 3));
    expect(await q('visit + detector = 1004')).toEqual(
      expect_((c) => c.visit + c.detector === 1004),
    );
    const byDataId = await reg.queryDatasets('calexp', {
      collections: 'sim/run',
      dataId: { band: 'r', detector: 1 },
    });
    expect(byDataId.map((r) => ccdKey(r.dataId)).sort()).toEqual(
      expect_((c) => c.i % 2 === 0 && c.detector === 1),
    );
    expect(
      await reg.queryDatasets('calexp', {
        collections: 'sim/run',
        where: 'detector = 1',
        limit: 2,
      }),
    ).toHaveLength(2);
  });

  it('reports where-clause mistakes with the where-language errors', async () => {
    const err = await reg
      .queryDatasets('calexp', { collections: 'sim/run', where: 'visit.exposure_tim > 3' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExprError);
    expect((err as ExprError).code).toBe('WHERE_UNKNOWN_NAME');
    expect((err as Error).message).toMatch(/exposure_time/);
    const typeErr = await reg
      .queryDatasets('calexp', { collections: 'sim/run', where: "visit = 'abc'" })
      .catch((e: unknown) => e);
    expect((typeErr as ExprError).code).toBe('WHERE_TYPE');
    const bindErr = await reg
      .queryDatasets('calexp', { collections: 'sim/run', where: 'visit = :v' })
      .catch((e: unknown) => e);
    expect((bindErr as ExprError).code).toBe('WHERE_BIND');
    await expect(
      reg.queryDataIds(['visit'], { where: 'detector.region OVERLAPS POINT(1, 2)' }),
    ).rejects.toBeInstanceOf(ExprError);
  });

  it('restricts data IDs to those with datasets and explains the SQL it runs', async () => {
    await reg.registerRun('coadds');
    await reg.insertDatasets(
      'deepCoadd',
      [
        { skymap: SKYMAP, tract: 0, patch: 5, band: 'r' },
        { skymap: SKYMAP, tract: 0, patch: 6, band: 'g' },
      ],
      'coadds',
    );
    const withCoadds = await reg.queryDataIds(['patch'], {
      datasets: 'deepCoadd',
      collections: 'coadds',
    });
    expect(withCoadds.map((d) => d.patch)).toEqual([5, 6]);
    const rOnly = await reg.queryDataIds(['patch', 'band'], {
      datasets: 'deepCoadd',
      collections: 'coadds',
      where: "band = 'r'",
    });
    expect(rOnly).toEqual([{ band: 'r', skymap: SKYMAP, tract: 0, patch: 5 }]);
    await expect(reg.queryDataIds(['patch'], { datasets: 'deepCoadd' })).rejects.toThrow(
      /needs collections/,
    );
    // No dimensions: one empty data ID when the constraints hold, none otherwise.
    expect(await reg.queryDataIds([], { datasets: 'deepCoadd', collections: 'coadds' })).toEqual([
      {},
    ]);
    expect(await reg.queryDataIds([], { datasets: 'deepCoadd', collections: 'sim/run' })).toEqual(
      [],
    );
    const coaddRefs = await reg.queryDatasets('deepCoadd', {
      collections: 'coadds',
      where: 'visit = 1000',
    });
    const patchesOf1000 = new Set(
      [...g.overlaps].filter((k) => k.startsWith('1000/')).map((k) => Number(k.split('/')[3])),
    );
    // Visit 1000 is an r-band visit: the shared band dimension keeps only the r coadd.
    expect(patchesOf1000.has(5) && patchesOf1000.has(6)).toBe(true);
    expect(coaddRefs.map((r) => `${r.dataId.patch}${r.dataId.band}`)).toEqual(['5r']);
    const plan = await reg.explain('queryDatasets', 'calexp', {
      collections: 'sim/run',
      where: 'visit IN (1000..1003) AND detector = 2 AND visit.exposure_time > 20',
    });
    expect(plan).toMatch(/dataset_tags_instrument_detector_visit/);
    const plan2 = await reg.explain('queryDataIds', ['tract', 'patch', 'visit', 'detector']);
    expect(plan2).toMatch(/skypix/);
  });
});
