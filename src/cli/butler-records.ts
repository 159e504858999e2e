/**
 * Dimension records the `butler` CLI derives from files: a sky map config gives skymap,
 * tract and patch records (regions from the tract WCS and the outer boxes); calexp
 * headers give instrument, physical_filter, detector, visit and visit_detector_region
 * records (regions from each CCD's WCS and pixel box).
 *
 * Regions are the registry's convex spherical polygons (configs/dimensions.yaml); the
 * registry orients them, checks convexity and builds visit hulls (convexHull).
 */
import { createHash } from 'node:crypto';
import { ConvexPolygon, convexHull } from '../butler/registry/index.ts';
import { Box2I } from '../geom/box.ts';
import type { SkyMap } from '../geom/skymap.ts';
import type { Wcs } from '../geom/wcs.ts';
import { readExposure } from '../image/exposure-fits.ts';
import type { InputInfo } from '../scheduler/inputs.ts';

type Vertex = [number, number];

/** The outer corners of a pixel box on the sky, [ra, dec] degrees (Wcs.skyPolygon). */
function boxCorners(wcs: Wcs, box: Box2I): Vertex[] {
  return wcs.skyPolygon(box).map((p) => [p.ra, p.dec]);
}

/** The sky polygon of a pixel box (the registry orients and checks it). */
function boxRegion(wcs: Wcs, box: Box2I): ConvexPolygon {
  return ConvexPolygon.fromRaDec(boxCorners(wcs, box));
}

/** skymap, tract and patch records of a sky map registered under `name`. */
export function skymapRecords(
  name: string,
  skymap: SkyMap,
  config: unknown,
): Record<'skymap' | 'tract' | 'patch', Array<Record<string, unknown>>> {
  const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex');
  const tracts: Array<Record<string, unknown>> = [];
  const patches: Array<Record<string, unknown>> = [];
  let nxMax = 0;
  let nyMax = 0;
  for (let id = 0; id < skymap.numTracts; id++) {
    const t = skymap.tract(id);
    nxMax = Math.max(nxMax, t.numPatches.x);
    nyMax = Math.max(nyMax, t.numPatches.y);
    tracts.push({ skymap: name, id, region: boxRegion(t.wcs, t.bbox) });
    for (const p of t.patches()) {
      patches.push({
        skymap: name,
        tract: id,
        id: p.sequentialIndex,
        cell_x: p.index.x,
        cell_y: p.index.y,
        region: boxRegion(t.wcs, p.outerBBox),
      });
    }
  }
  return {
    skymap: [{ name, hash, tract_max: skymap.numTracts, patch_nx_max: nxMax, patch_ny_max: nyMax }],
    tract: tracts,
    patch: patches,
  };
}

/** What ingesting calexps registers: the data ID of each file and the records it needs. */
export interface CalexpIngest {
  readonly items: Array<{ path: string; dataId: Record<string, string | number> }>;
  readonly records: Record<string, Array<Record<string, unknown>>>;
}

/** YYYYMMDD of an MJD (UTC date; LSST's day_obs uses a -12 h offset, which we follow). */
export function dayObsOfMjd(mjd: number): number {
  const d = new Date((mjd - 40587 - 0.5) * 86_400_000);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/**
 * Data IDs and dimension records for calexps described by `inputs` (headers already
 * read). The instrument comes from INSTRUME, else `instrument`; the physical filter from
 * FILTER, else BAND.
 */
export async function calexpIngest(
  inputs: readonly InputInfo[],
  instrument: string | undefined,
): Promise<CalexpIngest> {
  const items: CalexpIngest['items'] = [];
  const inst = new Map<string, Record<string, unknown>>();
  const filters = new Map<string, Record<string, unknown>>();
  const detectors = new Map<string, Record<string, unknown>>();
  const visits = new Map<string, { rec: Record<string, unknown>; corners: Vertex[] }>();
  const vdr: Array<Record<string, unknown>> = [];
  for (const i of inputs) {
    // Headers only (one pixel): the visit information of the primary HDU.
    const e = i.weightPath
      ? null
      : await readExposure(i.path, { bbox: new Box2I(i.bbox.minX, i.bbox.minY, 1, 1) });
    const vi = e?.visitInfo;
    const name = (vi?.instrument || instrument || '').trim();
    if (!name) {
      throw new Error(`${i.path} has no INSTRUME key; name the instrument with --instrument`);
    }
    const physical = (vi?.physicalFilter || i.band).trim();
    const band = (vi?.band || i.band).trim();
    const mjd = vi?.mjd;
    const dayObs = mjd !== undefined && Number.isFinite(mjd) ? dayObsOfMjd(mjd) : 19700101;
    inst.set(name, { name, class_name: 'gpu_drp.SimCam' });
    filters.set(`${name}/${physical}`, { instrument: name, name: physical, band });
    detectors.set(`${name}/${i.detector}`, {
      instrument: name,
      id: i.detector,
      full_name: `D${String(i.detector).padStart(3, '0')}`,
      purpose: 'SCIENCE',
    });
    const corners = boxCorners(i.wcs, i.bbox);
    const key = `${name}/${i.visit}`;
    const v = visits.get(key) ?? {
      rec: {
        instrument: name,
        id: i.visit,
        physical_filter: physical,
        day_obs: dayObs,
        exposure_time: vi?.exposureTime ?? null,
        name: `${i.visit}`,
      },
      corners: [],
    };
    v.corners.push(...corners);
    visits.set(key, v);
    vdr.push({
      instrument: name,
      visit: i.visit,
      detector: i.detector,
      region: ConvexPolygon.fromRaDec(corners),
    });
    items.push({
      path: i.path,
      dataId: { instrument: name, visit: i.visit, detector: i.detector },
    });
  }
  for (const v of visits.values()) v.rec.region = convexHull(v.corners);
  return {
    items,
    records: {
      instrument: [...inst.values()],
      physical_filter: [...filters.values()],
      detector: [...detectors.values()],
      visit: [...visits.values()].map((v) => v.rec),
      visit_detector_region: vdr,
    },
  };
}
