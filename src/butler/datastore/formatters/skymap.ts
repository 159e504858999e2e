/**
 * SkyMap <-> JSON config: `{"kind": "rings" | "discrete", "config": {...}}` where config
 * is the sky map's full configuration (src/geom/skymap.ts; angles in degrees, pixel
 * scale in arcsec/pixel). Reading rebuilds the sky map from its config, so tract and
 * patch geometry is recomputed, not stored (as LSST's skymaps are pickled configs).
 */

import { readFile } from 'node:fs/promises';
import {
  DiscreteSkyMap,
  type DiscreteSkyMapConfig,
  RingsSkyMap,
  type RingsSkyMapConfig,
} from '../../../geom/skymap.ts';
import { FormatterError } from '../errors.ts';
import type { Formatter } from './types.ts';

const NAME = 'SkyMapJsonFormatter';

/** The sky maps this formatter writes. */
export type StoredSkyMap = RingsSkyMap | DiscreteSkyMap;

type SkyMapDocument =
  | { readonly kind: 'rings'; readonly config: RingsSkyMapConfig }
  | { readonly kind: 'discrete'; readonly config: DiscreteSkyMapConfig };

function decode(text: string, where: string): StoredSkyMap {
  let doc: SkyMapDocument;
  try {
    doc = JSON.parse(text) as SkyMapDocument;
  } catch (e) {
    throw new FormatterError('DATASTORE_BAD_FILE', NAME, `${where} is not valid JSON`, {
      cause: e,
    });
  }
  try {
    if (doc?.kind === 'rings') return new RingsSkyMap(doc.config);
    if (doc?.kind === 'discrete') return new DiscreteSkyMap(doc.config);
  } catch (e) {
    throw new FormatterError(
      'DATASTORE_BAD_FILE',
      NAME,
      `${where} holds an invalid sky map config: ${(e as Error).message}`,
      { cause: e },
    );
  }
  throw new FormatterError(
    'DATASTORE_BAD_FILE',
    NAME,
    `${where} is not a sky map document (need "kind": "rings" or "discrete")`,
  );
}

/** Formatter of the `SkyMap` storage class. */
export const skyMapJsonFormatter: Formatter<StoredSkyMap> = {
  name: NAME,
  extension: '.json',
  parameters: [],
  recipes: [],
  accepted: 'a RingsSkyMap or DiscreteSkyMap (src/geom/skymap.ts)',
  accepts: (obj: unknown): obj is StoredSkyMap =>
    obj instanceof RingsSkyMap || obj instanceof DiscreteSkyMap,
  toBytes(obj: StoredSkyMap): Uint8Array {
    const doc: SkyMapDocument =
      obj instanceof RingsSkyMap
        ? { kind: 'rings', config: obj.config }
        : { kind: 'discrete', config: obj.config };
    return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
  },
  fromBytes: async (bytes: Uint8Array): Promise<StoredSkyMap> =>
    decode(new TextDecoder().decode(bytes), 'the file'),
  fromFile: async (path: string): Promise<StoredSkyMap> =>
    decode(await readFile(path, 'utf8'), path),
};
