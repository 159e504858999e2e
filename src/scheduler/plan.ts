/**
 * The coadd plan: which calexps overlap which targets (from WCSs and pixel boxes alone,
 * no pixels read), grouped into one warp per (visit, target) and one stack per
 * (target, band). Targets are sky-map patches (their outer boxes) or an explicit grid.
 */
import type { Box2I } from '../geom/box.ts';
import type { SkyMap } from '../geom/skymap.ts';
import type { Wcs } from '../geom/wcs.ts';
import { sourceRegion } from '../ops/warp/region.ts';
import type { InputInfo } from './inputs.ts';

/** Where a coadd goes: a name for the output folder, a WCS and the box to fill. */
export interface CoaddTarget {
  /** e.g. "tract0/patch3,4" or "grid". */
  readonly key: string;
  readonly wcs: Wcs;
  readonly bbox: Box2I;
}

/** One stack: a target and band, and the visits (each its overlapping CCDs) in visit order. */
export interface CoaddUnit {
  readonly target: CoaddTarget;
  readonly band: string;
  readonly visits: ReadonlyArray<{ readonly visit: number; readonly inputs: readonly InputInfo[] }>;
}

/** Every patch of every tract of `skymap` (or of the listed tracts), outer boxes. */
export function skymapTargets(skymap: SkyMap, tracts?: readonly number[]): CoaddTarget[] {
  const out: CoaddTarget[] = [];
  const ids = tracts ?? Array.from({ length: skymap.numTracts }, (_, i) => i);
  for (const id of ids) {
    const tract = skymap.tract(id);
    for (const p of tract.patches()) {
      out.push({
        key: `tract${id}/patch${p.index.x},${p.index.y}`,
        wcs: tract.wcs,
        bbox: p.outerBBox,
      });
    }
  }
  return out;
}

/**
 * The units of work: for each target and band, the visits with at least one CCD whose
 * footprint lands on the target (a warp per visit), CCDs in detector order.
 */
export function planCoadds(
  inputs: readonly InputInfo[],
  targets: readonly CoaddTarget[],
): CoaddUnit[] {
  const units: CoaddUnit[] = [];
  for (const target of targets) {
    const byBand = new Map<string, Map<number, InputInfo[]>>();
    for (const input of inputs) {
      if ('reason' in sourceRegion({ wcs: input.wcs, bbox: input.bbox }, target)) continue;
      let visits = byBand.get(input.band);
      if (!visits) {
        visits = new Map();
        byBand.set(input.band, visits);
      }
      visits.set(input.visit, [...(visits.get(input.visit) ?? []), input]);
    }
    for (const [band, visits] of [...byBand].sort((a, b) => a[0].localeCompare(b[0]))) {
      units.push({
        target,
        band,
        visits: [...visits]
          .sort((a, b) => a[0] - b[0])
          .map(([visit, list]) => ({
            visit,
            inputs: [...list].sort((a, b) => a.detector - b.detector),
          })),
      });
    }
  }
  return units;
}
