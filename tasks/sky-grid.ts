/** The patch grid of a quantum: a sky map's tract WCS and a patch's outer box. */
import type { DataId } from '../src/butler/refs.ts';
import type { SkyMap } from '../src/geom/skymap.ts';
import type { CoaddGrid } from '../src/scheduler/coadd-steps.ts';
import { CoaddTaskError } from './errors.ts';

/**
 * The outer box of patch `dataId.patch` (sequential index, as the registry's patch
 * records) of tract `dataId.tract`, on the tract's WCS, as `gpu-coadd run` targets it.
 */
export function patchGrid(skyMap: SkyMap, dataId: DataId): CoaddGrid {
  const tract = Number(dataId.tract);
  const patch = Number(dataId.patch);
  if (!Number.isInteger(tract) || !Number.isInteger(patch)) {
    throw new CoaddTaskError(
      'TASK_BAD_INPUT',
      `the quantum's data ID ${JSON.stringify(dataId)} needs integer tract and patch`,
    );
  }
  const t = skyMap.tract(tract);
  return { wcs: t.wcs, bbox: t.patch(patch).outerBBox };
}
