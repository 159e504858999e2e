/**
 * The benchmarks' sky map in a registry: `bench`, one tract of 40000^2 pixels (0.2"/px,
 * TAN at `centre`) cut in 10 x 10 patches of 4000^2 (+100 px borders), with regions.
 */
import type { Registry } from '../src/butler/registry/index.ts';
import { Box2I } from '../src/geom/box.ts';
import { Wcs } from '../src/geom/wcs.ts';

/** Insert the `bench` skymap, its tract 0 and its 100 patch records. */
export async function insertBenchSkymap(
  reg: Registry,
  centre: { readonly ra: number; readonly dec: number },
  pixelScale: number,
): Promise<void> {
  await reg.insertDimensionData('skymap', [
    { name: 'bench', hash: 'x', tract_max: 1, patch_nx_max: 10, patch_ny_max: 10 },
  ]);
  const tractWcs = Wcs.fromScaleRotation({
    crpix: [20000, 20000],
    crval: [centre.ra, centre.dec],
    scale: pixelScale,
  });
  await reg.insertDimensionData('tract', [
    {
      skymap: 'bench',
      id: 0,
      region: tractWcs.skyPolygon(new Box2I(0, 0, 40000, 40000)).map((p) => [p.ra, p.dec]),
    },
  ]);
  const patches = [];
  for (let py = 0; py < 10; py++) {
    for (let px = 0; px < 10; px++) {
      const box = new Box2I(px * 4000 - 100, py * 4000 - 100, 4200, 4200);
      patches.push({
        skymap: 'bench',
        tract: 0,
        id: py * 10 + px,
        cell_x: px,
        cell_y: py,
        region: tractWcs.skyPolygon(box).map((p) => [p.ra, p.dec]),
      });
    }
  }
  await reg.insertDimensionData('patch', patches);
}
