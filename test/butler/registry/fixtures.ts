/**
 * Registry fixtures built from the project's simulator and sky map: CCD regions from each
 * simulated CCD's WCS (src/sim plan, src/geom/wcs.ts), visit regions as the hull of their
 * CCDs, and patch regions from the sim's DiscreteSkyMap (src/geom/skymap.ts), plus the
 * CCD-patch overlaps computed directly in the tract's pixel plane (independent of the
 * registry's spherical code).
 */

import type { Registry } from '../../../src/butler/registry/index.ts';
import { convexHull } from '../../../src/butler/registry/index.ts';
import { DiscreteSkyMap } from '../../../src/geom/skymap.ts';
import { planSimulation, resolveSimConfig, skymapConfig } from '../../../src/sim/index.ts';

export const INSTRUMENT = 'SimCam';
export const SKYMAP = 'sim-small';

/** A CCD of a visit with its sky corners (degrees). */
export interface SimCcd {
  readonly visit: number;
  readonly detector: number;
  readonly corners: Array<[number, number]>;
}

/** A patch with its outer sky polygon and outer pixel box (pixel edges) in tract pixels. */
export interface SimPatch {
  readonly tract: number;
  readonly patch: number;
  readonly cellX: number;
  readonly cellY: number;
  readonly corners: Array<[number, number]>;
  /** [x0, y0, x1, y1] of the outer box's pixel edges in tract pixel coordinates. */
  readonly box: readonly [number, number, number, number];
}

/** Geometry of the simulator's `small` preset. */
export interface SimGeometry {
  readonly visits: ReadonlyArray<{
    readonly id: number;
    readonly exposureTime: number;
    readonly mjd: number;
  }>;
  readonly detectors: readonly number[];
  readonly ccds: readonly SimCcd[];
  readonly patches: readonly SimPatch[];
  readonly skymap: DiscreteSkyMap;
  /** "visit/detector/tract/patch" keys of CCD-patch pairs overlapping in the tract plane. */
  readonly overlaps: ReadonlySet<string>;
}

function convexQuadsOverlap(
  a: ReadonlyArray<readonly [number, number]>,
  b: ReadonlyArray<readonly [number, number]>,
): boolean {
  // Separating-axis test for two convex polygons in the plane.
  for (const poly of [a, b]) {
    for (let i = 0; i < poly.length; i++) {
      const p = poly[i]!;
      const q = poly[(i + 1) % poly.length]!;
      const nx = q[1] - p[1];
      const ny = p[0] - q[0];
      let minA = Infinity;
      let maxA = -Infinity;
      let minB = Infinity;
      let maxB = -Infinity;
      for (const v of a) {
        const d = v[0] * nx + v[1] * ny;
        minA = Math.min(minA, d);
        maxA = Math.max(maxA, d);
      }
      for (const v of b) {
        const d = v[0] * nx + v[1] * ny;
        minB = Math.min(minB, d);
        maxB = Math.max(maxB, d);
      }
      if (maxA < minB || maxB < minA) return false;
    }
  }
  return true;
}

/** Builds the geometry of the sim's `small` preset (6 visits x 4 CCDs, one 4 x 4-patch tract). */
export function simGeometry(): SimGeometry {
  const plan = planSimulation(resolveSimConfig({ preset: 'small', seed: 7 }));
  const { kind: _k, name: _n, ...cfg } = skymapConfig(plan) as Record<string, unknown>;
  const skymap = new DiscreteSkyMap(
    cfg as unknown as ConstructorParameters<typeof DiscreteSkyMap>[0],
  );
  const ccds: SimCcd[] = [];
  plan.visits.forEach((v, vi) => {
    for (const d of plan.detectors) {
      const ccd = plan.ccd(vi, d.detector);
      const corners = ccd.wcs.skyPolygon(ccd.bbox).map((p) => [p.ra, p.dec] as [number, number]);
      ccds.push({ visit: v.visit, detector: d.detector, corners });
    }
  });
  const patches: SimPatch[] = [];
  for (let t = 0; t < skymap.numTracts; t++) {
    const tract = skymap.tract(t);
    for (let p = 0; p < tract.patchCount; p++) {
      const info = tract.patch(p);
      const o = info.outerBBox;
      const corners = tract.wcs.skyPolygon(o).map((s) => [s.ra, s.dec] as [number, number]);
      patches.push({
        tract: t,
        patch: info.sequentialIndex,
        cellX: info.index.x,
        cellY: info.index.y,
        corners,
        box: [o.minX - 0.5, o.minY - 0.5, o.minX + o.width - 0.5, o.minY + o.height - 0.5],
      });
    }
  }
  const overlaps = new Set<string>();
  for (const c of ccds) {
    for (const p of patches) {
      const wcs = skymap.tract(p.tract).wcs;
      // TAN: great-circle edges are straight lines in the tract's pixel plane.
      const quad = c.corners.map(([ra, dec]) => {
        const px = wcs.skyToPixel(ra, dec);
        return [px.x, px.y] as const;
      });
      const [x0, y0, x1, y1] = p.box;
      const rect = [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
      ] as const;
      if (convexQuadsOverlap(quad, rect))
        overlaps.add(`${c.visit}/${c.detector}/${p.tract}/${p.patch}`);
    }
  }
  return {
    visits: plan.visits.map((v) => ({
      id: v.visit,
      exposureTime: plan.config.visits.exposureTime + v.index * 5,
      mjd: v.mjd,
    })),
    detectors: plan.detectors.map((d) => d.detector),
    ccds,
    patches,
    skymap,
    overlaps,
  };
}

/** ISO time text of an MJD (UTC days). */
function mjdToIso(mjd: number): string {
  return new Date((mjd - 40587) * 86400e3).toISOString().replace('Z', '');
}

/**
 * Inserts the sim geometry: instrument, filters (visits alternate r/g), detectors, visits
 * (regions = hull of their CCDs), visit_detector_region, skymap, tract and patches.
 */
export async function insertSimGeometry(reg: Registry, g: SimGeometry): Promise<void> {
  await reg.insertDimensionData('instrument', [
    { name: INSTRUMENT, visit_max: 10000, detector_max: 4, class_name: 'gpu_drp.sim.SimCam' },
  ]);
  await reg.insertDimensionData('physical_filter', [
    { instrument: INSTRUMENT, name: 'r_sim', band: 'r' },
    { instrument: INSTRUMENT, name: 'g_sim', band: 'g' },
  ]);
  await reg.insertDimensionData(
    'detector',
    g.detectors.map((d) => ({
      instrument: INSTRUMENT,
      id: d,
      full_name: `S${d}`,
      purpose: 'SCIENCE',
      raft: 'R00',
    })),
  );
  await reg.insertDimensionData(
    'visit',
    g.visits.map((v, i) => ({
      instrument: INSTRUMENT,
      id: v.id,
      physical_filter: i % 2 === 0 ? 'r_sim' : 'g_sim',
      day_obs: 20261001 + Math.floor(i / 3),
      exposure_time: v.exposureTime,
      name: `v${v.id}`,
      datetime_begin: mjdToIso(v.mjd),
      region: convexHull(g.ccds.filter((c) => c.visit === v.id).flatMap((c) => c.corners)),
    })),
  );
  await reg.insertDimensionData(
    'visit_detector_region',
    g.ccds.map((c) => ({
      instrument: INSTRUMENT,
      visit: c.visit,
      detector: c.detector,
      region: c.corners,
    })),
  );
  await reg.insertDimensionData('skymap', [
    { name: SKYMAP, hash: 'f00d', tract_max: g.skymap.numTracts, patch_nx_max: 4, patch_ny_max: 4 },
  ]);
  await reg.insertDimensionData(
    'tract',
    Array.from({ length: g.skymap.numTracts }, (_, t) => ({
      skymap: SKYMAP,
      id: t,
      region: g.skymap
        .tract(t)
        .outerSkyPolygon()
        .map((s) => [s.ra, s.dec]),
    })),
  );
  await reg.insertDimensionData(
    'patch',
    g.patches.map((p) => ({
      skymap: SKYMAP,
      tract: p.tract,
      id: p.patch,
      cell_x: p.cellX,
      cell_y: p.cellY,
      region: p.corners,
    })),
  );
}
