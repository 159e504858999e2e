/**
 * Where a source lands on the target: its outer pixel-edge polygon, densified, mapped
 * through the sky into target pixels; the bounding box of that, grown by one pixel and
 * clipped to the target box. Decided from WCSs alone, without reading pixels.
 */
import { Box2I } from '../../geom/box.ts';
import type { Wcs } from '../../geom/wcs.ts';
import type { WarpTarget } from './spec.ts';

/** What the region needs of a source: its WCS and its pixel box (a CCD or just its header). */
export type RegionSource = { readonly wcs: Wcs } & (
  | { readonly bbox: Box2I }
  | { readonly maskedImage: { readonly bbox: Box2I } }
);

const POINTS_PER_EDGE = 16;

/** The target region `source` can fill, or null with the reason it fills nothing. */
export function sourceRegion(
  source: RegionSource,
  target: WarpTarget,
): { region: Box2I } | { reason: string } {
  const b = 'bbox' in source ? source.bbox : source.maskedImage.bbox;
  const x0 = b.minX - 0.5;
  const x1 = b.maxX + 0.5;
  const y0 = b.minY - 0.5;
  const y1 = b.maxY + 0.5;
  const pts: Array<[number, number]> = [];
  for (let k = 0; k < POINTS_PER_EDGE; k++) {
    const t = k / POINTS_PER_EDGE;
    pts.push(
      [x0 + t * (x1 - x0), y0],
      [x1, y0 + t * (y1 - y0)],
      [x1 - t * (x1 - x0), y1],
      [x0, y1 - t * (y1 - y0)],
    );
  }
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  let mapped = 0;
  for (const [x, y] of pts) {
    const sky = source.wcs.pixelToSky(x, y);
    const p = safeSkyToPixel(target.wcs, sky.ra, sky.dec);
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    mapped++;
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
    maxX = Math.max(maxX, p.x);
    maxY = Math.max(maxY, p.y);
  }
  if (mapped === 0) return { reason: 'the source lies on the far side of the target projection' };
  if (mapped < pts.length) {
    // Part of the CCD is behind the target's tangent plane: take the whole target.
    return { region: target.bbox };
  }
  const r = Box2I.fromMinMax(
    Math.floor(minX) - 1,
    Math.floor(minY) - 1,
    Math.ceil(maxX) + 1,
    Math.ceil(maxY) + 1,
  ).intersect(target.bbox);
  if (r.isEmpty) return { reason: `the source does not overlap the target box ${target.bbox}` };
  return { region: r };
}

function safeSkyToPixel(wcs: Wcs, ra: number, dec: number): { x: number; y: number } {
  try {
    return wcs.skyToPixel(ra, dec);
  } catch {
    return { x: Number.NaN, y: Number.NaN };
  }
}
