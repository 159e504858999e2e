/**
 * The target grid of the end-to-end benchmark: the part of the simulated sky map's tract
 * that every visit covers, as whole patches, written as a text `.head` (one 80-column
 * FITS card per line) that both gpu-coadd (`--grid`) and SWarp (`<imageout>.head`) read.
 *
 * The grid is the square of n x n patch inner boxes centred on the tract centre (the
 * field centre, where the simulator points every visit up to its dither), with n the
 * number of whole patches that fit across the shorter side of the focal plane (at least
 * one). For `medium` (a 2 x 2 mosaic of 2048-pixel CCDs, 2000-pixel patches in an
 * 8000-pixel tract) that is the inner boxes of patches (1..2, 1..2): tract pixels
 * [2000, 6000) on both axes, 4000 x 4000.
 *
 * Pixel conventions: boxes are 0-based tract pixels (LSST's PatchInfo); the grid's WCS
 * is the tract WCS with its origin moved to the box's first pixel, so grid pixel (0, 0)
 * is tract pixel (minX, minY); on disk CRPIX is 1-based (`Wcs.toFitsCards` adds the 1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Header } from '../../src/fits/header.ts';
import { Box2I } from '../../src/geom/box.ts';
import { DiscreteSkyMap, RingsSkyMap, type SkyMap } from '../../src/geom/skymap.ts';
import type { Wcs } from '../../src/geom/wcs.ts';
import type { SimConfig } from '../../src/sim/config.ts';
import { E2eError } from './errors.ts';

/** The benchmark's target grid. */
export interface E2eGrid {
  /** Sky map tract the grid lies in. */
  readonly tract: number;
  /** The grid in tract pixels (0-based). */
  readonly tractBox: Box2I;
  /** Grid size, pixels. */
  readonly width: number;
  readonly height: number;
  /** WCS of the grid: pixel (0, 0) is the grid's first pixel (0-based). */
  readonly wcs: Wcs;
  /** Patches whose inner boxes tile the grid, as "x,y" (empty when the grid is not patch-aligned). */
  readonly patches: readonly string[];
  /** The `.head` text: NAXIS, NAXIS1/2 and the TAN WCS cards, one 80-column card per line, END last. */
  readonly headText: string;
}

/** A sky map from the simulator's skymap.json (kind "discrete" or "rings"). */
export function readSimSkymap(path: string): SkyMap {
  let cfg: { kind?: string } & Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new E2eError(
      'E2E_BAD_DATA',
      `cannot read the sky map ${path}: ${(e as Error).message}; delete the data directory to simulate it again`,
    );
  }
  const { kind, name: _name, ...rest } = cfg;
  if (kind === 'discrete')
    return new DiscreteSkyMap(rest as ConstructorParameters<typeof DiscreteSkyMap>[0]);
  if (kind === 'rings')
    return new RingsSkyMap(rest as ConstructorParameters<typeof RingsSkyMap>[0]);
  throw new E2eError(
    'E2E_BAD_DATA',
    `sky map ${path} has kind ${JSON.stringify(kind)}; the simulator writes "discrete"`,
  );
}

/**
 * The grid for simulated data in `simDir` (skymap.json) made with configuration `config`
 * (the manifest's): see the module comment.
 */
export function patchGrid(simDir: string, config: SimConfig): E2eGrid {
  const skymap = readSimSkymap(join(simDir, 'skymap.json'));
  const tract = skymap.findTract(config.field.ra, config.field.dec);
  const [innerX, innerY] = tract.patchInnerDimensions;
  const fp = config.focalPlane;
  const fpWidth = fp.nx * config.detector.width + (fp.nx - 1) * fp.gap;
  const fpHeight = fp.ny * config.detector.height + (fp.ny - 1) * fp.gap;
  const n = Math.max(
    1,
    Math.min(
      Math.floor(Math.min(fpWidth, fpHeight) / Math.max(innerX, innerY)),
      tract.numPatches.x,
      tract.numPatches.y,
    ),
  );
  // The tract centre (CRVAL of the tract WCS) is the field centre the visits point at.
  const [cx, cy] = tract.wcs.crpix;
  const w = n * innerX;
  const h = n * innerY;
  // The box whose centre ((min + max) / 2 in 0-based pixels) is nearest the field centre.
  const minX = Math.min(Math.max(0, Math.round(cx + 0.5 - w / 2)), tract.bbox.width - w);
  const minY = Math.min(Math.max(0, Math.round(cy + 0.5 - h / 2)), tract.bbox.height - h);
  const tractBox = new Box2I(minX, minY, w, h);
  const patches: string[] = [];
  if (minX % innerX === 0 && minY % innerY === 0) {
    for (let y = minY / innerY; y < (minY + h) / innerY; y++) {
      for (let x = minX / innerX; x < (minX + w) / innerX; x++) patches.push(`${x},${y}`);
    }
  }
  const wcs = tract.wcs.withShiftedPixelOrigin(-minX, -minY);
  return {
    tract: tract.id,
    tractBox,
    width: w,
    height: h,
    wcs,
    patches,
    headText: headText(wcs, w, h),
  };
}

/** A text FITS header (80-column cards, END last) of a `width` x `height` image with WCS `wcs`. */
export function headText(wcs: Wcs, width: number, height: number): string {
  const header = new Header();
  header.set('NAXIS', 2, 'number of array dimensions');
  header.set('NAXIS1', width, 'grid width, pixels');
  header.set('NAXIS2', height, 'grid height, pixels');
  for (const c of wcs.toFitsCards()) header.set(c.key, c.value, c.comment);
  return `${[...header.toCardImages(), 'END'.padEnd(80)].join('\n')}\n`;
}
