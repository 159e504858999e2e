/**
 * ExposureF <-> multi-extension FITS (src/image/exposure-fits.ts), LSST's layout.
 *
 * Write recipes (LSST's `writeRecipes.yaml` names): `lossless` (the default, as LSST's)
 * tile-compresses IMAGE, MASK and VARIANCE with GZIP_2, one row per tile;
 * `noCompression` writes plain image extensions (faster, about 2.6x larger on sky data).
 * Read parameter `bbox` (parent pixels): from a local file only the needed rows or tiles
 * are read; from bytes the whole image is decoded and then cut.
 */

import { Exposure } from '../../../image/exposure.ts';
import { isExposureError } from '../../../image/exposure-errors.ts';
import {
  exposureToBytes,
  readExposure,
  type WriteExposureOptions,
  writeExposure,
} from '../../../image/exposure-fits.ts';
import { FormatterError, StorageError } from '../errors.ts';
import type { Formatter, ReadParameters } from './types.ts';

const NAME = 'ExposureFitsFormatter';

/** Write recipes of {@link exposureFitsFormatter} and what each writes. */
export const EXPOSURE_RECIPES: Readonly<Record<string, WriteExposureOptions>> = {
  lossless: { compress: 'gzip2' },
  noCompression: { compress: 'none' },
};

function recipeOptions(recipe: string): WriteExposureOptions {
  const options = EXPOSURE_RECIPES[recipe];
  if (!options) {
    throw new FormatterError(
      'DATASTORE_FORMATTER',
      NAME,
      `unknown write recipe '${recipe}'; use one of ${Object.keys(EXPOSURE_RECIPES).join(', ')}`,
    );
  }
  return options;
}

function readFailure(e: unknown, where: string): Error {
  if (isExposureError(e, 'EXPOSURE_BAD_ARGUMENT')) {
    return new FormatterError('DATASTORE_BAD_PARAMETER', NAME, `${e.message}`, { cause: e });
  }
  if (isExposureError(e) && e.code !== 'EXPOSURE_IO') {
    return new FormatterError(
      'DATASTORE_BAD_FILE',
      NAME,
      `cannot read an exposure from ${where}: ${e.message}`,
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Formatter of the `ExposureF` storage class (see the module comment). */
export const exposureFitsFormatter: Formatter<Exposure> = {
  name: NAME,
  extension: '.fits',
  parameters: ['bbox'],
  recipes: Object.keys(EXPOSURE_RECIPES),
  accepted: 'an Exposure (src/image/exposure.ts)',
  accepts: (obj: unknown): obj is Exposure => obj instanceof Exposure,
  toBytes(obj: Exposure, recipe = 'lossless'): Uint8Array {
    return exposureToBytes(obj, recipeOptions(recipe));
  },
  async toFile(obj: Exposure, path: string, recipe = 'lossless'): Promise<void> {
    const options = recipeOptions(recipe);
    try {
      // Encodes plane by plane and writes the chunks (fsync, then rename onto `path`).
      await writeExposure(path, obj, options);
    } catch (e) {
      if (isExposureError(e, 'EXPOSURE_IO')) {
        throw new StorageError('DATASTORE_IO', path, `cannot write ${path}: ${e.message}`, {
          cause: e,
        });
      }
      throw e;
    }
  },
  async fromBytes(bytes: Uint8Array, parameters: ReadParameters = {}): Promise<Exposure> {
    try {
      return await readExposure(bytes, parameters.bbox ? { bbox: parameters.bbox } : {});
    } catch (e) {
      throw readFailure(e, 'the bytes read');
    }
  },
  async fromFile(path: string, parameters: ReadParameters = {}): Promise<Exposure> {
    try {
      return await readExposure(path, parameters.bbox ? { bbox: parameters.bbox } : {});
    } catch (e) {
      throw readFailure(e, path);
    }
  },
};
