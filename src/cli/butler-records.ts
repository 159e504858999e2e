/**
 * Dimension records the `butler` CLI derives from files: a sky map config gives skymap,
 * tract and patch records (regions from the tract WCS and the outer boxes); calexp
 * headers give instrument, physical_filter, detector, visit and visit_detector_region
 * records (regions from each CCD's WCS and pixel box).
 *
 * Regions are convex spherical polygons, [ra, dec] vertices in degrees,
 * counter-clockwise on the sky (configs/dimensions.yaml).
 */
import { createHash } from 'node:crypto';
import { Box2I } from '../geom/box.ts';
import type { SkyMap } from '../geom/skymap.ts';
import type { Wcs } from '../geom/wcs.ts';
import { readExposure } from '../image/exposure-fits.ts';
import type { InputInfo } from '../scheduler/inputs.ts';

type Vertex = [number, number];

/** The corners of a pixel box (outer pixel edges) on the sky, counter-clockwise. */
export function boxPolygon(wcs: Wcs, box: Box2I): Vertex[] {
  const x0 = box.minX - 0.5;
  const x1 = box.maxX + 0.5;
  const y0 = box.minY - 0.5;
  const y1 = box.maxY + 0.5;
  const pts: Vertex[] = [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ].map(([x, y]) => {
    const s = wcs.pixelToSky(x as number, y as number);
    return [s.ra, s.dec];
  });
  return counterClockwise(pts);
}

const RAD = Math.PI / 180;

/**
 * Gnomonic (tangent-plane) coordinates about the points' mean direction: great circles
 * are straight lines there, so convexity and orientation in this plane are those on the
 * sphere. x grows with RA (east), y with declination.
 */
function gnomonic(points: readonly Vertex[]): Array<{ x: number; y: number }> {
  let sx = 0;
  let sy = 0;
  let sz = 0;
  for (const [ra, dec] of points) {
    sx += Math.cos(dec * RAD) * Math.cos(ra * RAD);
    sy += Math.cos(dec * RAD) * Math.sin(ra * RAD);
    sz += Math.sin(dec * RAD);
  }
  const ra0 = Math.atan2(sy, sx);
  const dec0 = Math.atan2(sz, Math.hypot(sx, sy));
  return points.map(([ra, dec]) => {
    const d = dec * RAD;
    const dra = ra * RAD - ra0;
    const cosc = Math.sin(dec0) * Math.sin(d) + Math.cos(dec0) * Math.cos(d) * Math.cos(dra);
    return {
      x: (Math.cos(d) * Math.sin(dra)) / cosc,
      y: (Math.cos(dec0) * Math.sin(d) - Math.sin(dec0) * Math.cos(d) * Math.cos(dra)) / cosc,
    };
  });
}

/** Orient a convex polygon counter-clockwise (RA to the east, declination up). */
function counterClockwise(pts: Vertex[]): Vertex[] {
  const g = gnomonic(pts);
  let area = 0;
  for (let i = 0; i < g.length; i++) {
    const a = g[i] as { x: number; y: number };
    const b = g[(i + 1) % g.length] as { x: number; y: number };
    area += a.x * b.y - b.x * a.y;
  }
  return area >= 0 ? pts : [...pts].reverse();
}

/** The convex hull (exact on the sphere, via the gnomonic plane) of several CCDs' corners. */
export function hullPolygon(points: readonly Vertex[]): Vertex[] {
  const g = gnomonic(points);
  const local = points.map((p, i) => ({
    p,
    x: (g[i] as { x: number }).x,
    y: (g[i] as { y: number }).y,
  }));
  local.sort((a, b) => a.x - b.x || a.y - b.y);
  // Points on a straight edge (within rounding) are dropped: a vertex with a straight
  // angle is neither here nor there for the registry's convexity check.
  const cross = (o: (typeof local)[0], a: (typeof local)[0], b: (typeof local)[0]) => {
    const ax = a.x - o.x;
    const ay = a.y - o.y;
    const bx = b.x - o.x;
    const by = b.y - o.y;
    const c = ax * by - ay * bx;
    return Math.abs(c) <= 1e-12 * Math.hypot(ax, ay) * Math.hypot(bx, by) ? 0 : c;
  };
  const lower: typeof local = [];
  for (const q of local) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0)
      lower.pop();
    lower.push(q);
  }
  const upper: typeof local = [];
  for (const q of [...local].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0)
      upper.pop();
    upper.push(q);
  }
  return counterClockwise([...lower.slice(0, -1), ...upper.slice(0, -1)].map((q) => q.p));
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
    tracts.push({ skymap: name, id, region: boxPolygon(t.wcs, t.bbox) });
    for (const p of t.patches()) {
      patches.push({
        skymap: name,
        tract: id,
        id: p.sequentialIndex,
        cell_x: p.index.x,
        cell_y: p.index.y,
        region: boxPolygon(t.wcs, p.outerBBox),
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
    const poly = boxPolygon(i.wcs, i.bbox);
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
    v.corners.push(...poly);
    visits.set(key, v);
    vdr.push({ instrument: name, visit: i.visit, detector: i.detector, region: poly });
    items.push({
      path: i.path,
      dataId: { instrument: name, visit: i.visit, detector: i.detector },
    });
  }
  for (const v of visits.values()) v.rec.region = hullPolygon(v.corners);
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
