import { describe, expect, it } from 'vitest';
import { wrapDeg180 } from '../../src/geom/angle.ts';
import { Box2I } from '../../src/geom/box.ts';
import { SkyMapError } from '../../src/geom/errors.ts';
import {
  DiscreteSkyMap,
  densifyPolygon,
  LSST_CELLS_V1_CONFIG,
  RingsSkyMap,
  type TractInfo,
} from '../../src/geom/skymap.ts';
import { angularSeparation } from '../../src/geom/sphere-point.ts';
import { Wcs } from '../../src/geom/wcs.ts';

/** Deterministic uniform points on the sphere (mulberry32). */
function randomSky(n: number, seed: number): Array<{ ra: number; dec: number }> {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Array<{ ra: number; dec: number }> = [];
  for (let i = 0; i < n; i++) {
    out.push({ ra: 360 * rand(), dec: (Math.asin(2 * rand() - 1) * 180) / Math.PI });
  }
  return out;
}

function expectSkyMapError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SkyMapError);
    expect((e as SkyMapError).code).toBe(code);
    return;
  }
  throw new Error(`expected SkyMapError ${code}`);
}

const skymap = new RingsSkyMap();

describe('RingsSkyMap layout', () => {
  it('has 120 rings and 18,938 tracts with the default configuration', () => {
    expect(skymap.config.numRings).toBe(120);
    expect(skymap.ringNums).toHaveLength(120);
    expect(skymap.numTracts).toBe(18938);
    expect(skymap.ringSize).toBeCloseTo(180 / 121, 14);
    // Symmetric about the equator; the equatorial rings hold 243 tracts.
    for (let i = 0; i < 60; i++) expect(skymap.ringNums[i]).toBe(skymap.ringNums[119 - i]);
    expect(skymap.ringNums[59]).toBe(243);
  });

  it('reproduces known LSST / HSC tract ids', () => {
    // DC2 / DP0.2 tract 4431 (legacy 4000-px patches at 0.2"/px: 7 x 7 patches).
    const dc2 = skymap.findTract(56, -32);
    expect(dc2.id).toBe(4431);
    expect(dc2.numPatches).toEqual({ x: 7, y: 7 });
    // HSC's rings skymap (same rings, 0.168"/px): COSMOS is tract 9813 with 9 x 9 patches.
    const hsc = new RingsSkyMap({ pixelScale: 0.168 });
    const cosmos = hsc.findTract(150.1, 2.2);
    expect(cosmos.id).toBe(9813);
    expect(cosmos.numPatches).toEqual({ x: 9, y: 9 });
    expect(cosmos.bbox.width).toBe(36000);
    // On disk the tract WCS has CRPIX = 18000 (1-based), half the 36000-px box.
    const cards = new Map(cosmos.wcs.toFitsCards().map((c) => [c.key, c.value]));
    expect(cards.get('CRPIX1')).toBe(18000);
    expect(cards.get('CRPIX2')).toBe(18000);
    expect(cards.get('CD1_1')).toBeCloseTo(-0.168 / 3600, 18);
  });

  it('builds tracts as LSST: TAN WCS at the centre, box a whole number of patches', () => {
    const t = skymap.tract(4431);
    expect(t.id).toBe(4431);
    expect(t.bbox.minX).toBe(0);
    expect(t.bbox.width).toBe(28000);
    expect(t.bbox.height).toBe(28000);
    expect(t.wcs.crval[0]).toBeCloseTo(t.center.ra, 12);
    expect(t.wcs.crval[1]).toBeCloseTo(t.center.dec, 12);
    expect(t.wcs.pixelScale()).toBeCloseTo(0.2, 12);
    // The minimum box is +-13689.x pixels about the centre (radius + overlap =
    // 0.7604 deg); growing to 28000 keeps the centre pixel within a pixel of 14000.
    expect(t.wcs.crpix).toEqual([13999, 13999]);
    // Tract 4431 is tract 32 of the 214 in ring 38.
    const { ring, tractInRing } = skymap.ringIndices(4431);
    expect({ ring, tractInRing }).toEqual({ ring: 38, tractInRing: 32 });
    expect(skymap.tractCenter(4431).dec).toBeCloseTo((ring + 1) * (180 / 121) - 90, 12);
    expect(skymap.tractCenter(4431).ra).toBeCloseTo(
      (360 * tractInRing) / skymap.ringNums[ring]!,
      12,
    );
    expect(t.vertices).toHaveLength(4);
    // Vertices are the box corners shrunk by 0.001 px: 28000 px at 0.2" ~ 1.556 deg sides.
    const side = angularSeparation(
      t.vertices[0]!.ra,
      t.vertices[0]!.dec,
      t.vertices[1]!.ra,
      t.vertices[1]!.dec,
    );
    expect(side).toBeGreaterThan(1.5);
    expect(side).toBeLessThan(1.6);
  });

  it('has polar caps at tract 0 and the last tract', () => {
    expect(skymap.tractCenter(0)).toEqual({ ra: 0, dec: -90 });
    expect(skymap.tractCenter(skymap.numTracts - 1)).toEqual({ ra: 0, dec: 90 });
    expect(skymap.findTract(123, -89.9).id).toBe(0);
    expect(skymap.findTract(5, 89.5).id).toBe(skymap.numTracts - 1);
    expect(skymap.ringIndices(1)).toEqual({ ring: 0, tractInRing: 0 });
    expect(skymap.ringIndices(skymap.numTracts - 2).ring).toBe(119);
  });

  it('lsst_cells_v1 gives 10 x 10 patches of 3000 px with unclipped 3400-px outer boxes', () => {
    const cells = new RingsSkyMap(LSST_CELLS_V1_CONFIG);
    const t = cells.tract(4431);
    expect(t.numPatches).toEqual({ x: 10, y: 10 });
    expect(t.patchInnerDimensions).toEqual([3000, 3000]);
    expect(t.patchBorder).toBe(200);
    const p0 = t.patch(0);
    expect(p0.innerBBox.equals(new Box2I(0, 0, 3000, 3000))).toBe(true);
    expect(p0.outerBBox.equals(new Box2I(-200, -200, 3400, 3400))).toBe(true);
    expect(p0.cells?.numCellsPerPatchInner).toBe(20);
    const p99 = t.patch(99);
    expect(p99.index).toEqual({ x: 9, y: 9 });
    expect(p99.outerBBox.maxX).toBe(30199);
  });
});

describe('RingsSkyMap tract assignment', () => {
  it('every tract centre belongs to its own tract (ids stable and consistent)', () => {
    for (let id = 0; id < skymap.numTracts; id++) {
      const c = skymap.tractCenter(id);
      expect(skymap.findTractId(c.ra, c.dec)).toBe(id);
    }
  });

  it('random points land in exactly the tract LSST assigns, and that tract contains them', () => {
    const points = randomSky(3000, 12345);
    const ringSize = 180 / 121;
    for (const p of points) {
      const t = skymap.findTract(p.ra, p.dec);
      expect(t.contains(p.ra, p.dec)).toBe(true);
      expect(skymap.findAllTracts(p.ra, p.dec)).toContain(t);
      const { ring } = skymap.ringIndices(t.id);
      if (ring === -1 || ring === 120) {
        expect(Math.abs(p.dec)).toBeGreaterThanOrEqual(90 - 1.5 * ringSize);
        continue;
      }
      // Independent rule: the dec band [ringSize (ring + 0.5) - 90, + ringSize) ...
      const lo = ringSize * (ring + 0.5) - 90;
      expect(p.dec).toBeGreaterThanOrEqual(lo - 1e-12);
      expect(p.dec).toBeLessThanOrEqual(lo + ringSize + 1e-12);
      // ... and the nearest tract centre in RA within that ring.
      const halfWidth = 180 / skymap.ringNums[ring]!;
      expect(Math.abs(wrapDeg180(p.ra - t.center.ra))).toBeLessThanOrEqual(halfWidth + 1e-9);
    }
  });

  it('a tract box overlaps its neighbours by at least the tract overlap', () => {
    // Points just past the owner boundary in RA are still inside the neighbour tract.
    const id = skymap.findTractId(0, 0.5);
    const { ring } = skymap.ringIndices(id);
    expect(ring).toBe(60);
    const t = skymap.tract(id);
    const halfWidth = 180 / skymap.ringNums[ring]!;
    const boundaryRa = t.center.ra + halfWidth;
    const overlap = 1 / 60;
    expect(t.contains(boundaryRa + overlap * 0.9, t.center.dec)).toBe(true);
    const next = skymap.findTract(boundaryRa + 0.001, t.center.dec);
    expect(next.id).toBe(id + 1);
    expect(next.contains(boundaryRa - overlap * 0.9, t.center.dec)).toBe(true);
  });

  it('rejects unknown tracts and bad positions', () => {
    expectSkyMapError(() => skymap.tract(-1), 'SKYMAP_NO_SUCH_TRACT');
    expectSkyMapError(() => skymap.tract(18938), 'SKYMAP_NO_SUCH_TRACT');
    expectSkyMapError(() => skymap.tract(1.5), 'SKYMAP_NO_SUCH_TRACT');
    expectSkyMapError(() => skymap.findTract(10, 91), 'SKYMAP_NO_SUCH_TRACT');
    expectSkyMapError(() => new RingsSkyMap({ numRings: 0 }), 'SKYMAP_BAD_CONFIG');
    expectSkyMapError(() => new RingsSkyMap({ pixelScale: -1 }), 'SKYMAP_BAD_CONFIG');
    expectSkyMapError(
      () =>
        new RingsSkyMap({
          tractBuilder: { kind: 'legacy', patchInnerDimensions: [0, 4000], patchBorder: 100 },
        }),
      'SKYMAP_BAD_CONFIG',
    );
  });
});

describe('patches', () => {
  function checkTiling(t: TractInfo): void {
    const { x: nx, y: ny } = t.numPatches;
    let area = 0;
    const seen = new Set<number>();
    for (const p of t.patches()) {
      area += p.innerBBox.area;
      expect(t.bbox.containsBox(p.innerBBox)).toBe(true);
      expect(seen.has(p.sequentialIndex)).toBe(false);
      seen.add(p.sequentialIndex);
      expect(p.sequentialIndex).toBe(p.index.y * nx + p.index.x);
      expect(t.patchIndexPair(p.sequentialIndex)).toEqual(p.index);
      // Legacy outer box: inner grown by the border, clipped to the tract.
      expect(p.outerBBox.equals(p.innerBBox.grow(t.patchBorder).intersect(t.bbox))).toBe(true);
    }
    expect(seen.size).toBe(nx * ny);
    expect(area).toBe(t.bbox.area);
    // Every sampled pixel, edges included, is in exactly one inner box.
    const xs = [0, 1, 3999, 4000, 4001, t.bbox.maxX, 12345, 27999 % t.bbox.width];
    for (const x of xs) {
      for (const y of xs) {
        let hits = 0;
        for (const p of t.patches()) if (p.innerBBox.contains(x, y)) hits++;
        expect(hits).toBe(1);
      }
    }
  }

  it('inner boxes tile the tract without gaps or overlaps', () => {
    for (const id of [0, 1, 4431, 9813, 18937]) checkTiling(skymap.tract(id));
  });

  it('findPatch agrees with the inner boxes', () => {
    const t = skymap.tract(9813);
    for (const p of randomSky(2000, 7)) {
      if (!t.contains(p.ra, p.dec)) continue;
      const patch = t.findPatch(p.ra, p.dec);
      const px = t.wcs.skyToPixel(p.ra, p.dec);
      expect(patch.innerBBox.contains(Math.round(px.x), Math.round(px.y))).toBe(true);
    }
    const c = t.center;
    const centre = t.findPatch(c.ra, c.dec);
    expect(centre.index).toEqual({ x: 3, y: 3 });
    expectSkyMapError(() => t.findPatch(c.ra + 180, -c.dec), 'SKYMAP_NO_SUCH_PATCH');
    expectSkyMapError(() => t.patch({ x: 7, y: 0 }), 'SKYMAP_NO_SUCH_PATCH');
    expectSkyMapError(() => t.patch(49), 'SKYMAP_NO_SUCH_PATCH');
    expect(skymap.patch(9813, 24).index).toEqual({ x: 3, y: 3 });
  });
});

describe('overlaps of a CCD polygon', () => {
  const ccd = new Box2I(0, 0, 4096, 4096);

  it('finds the central patches of a CCD at a tract centre, matching its pixel footprint', () => {
    const t = skymap.tract(9813);
    const wcs = Wcs.fromScaleRotation({
      crpix: [2047.5, 2047.5],
      crval: [t.center.ra, t.center.dec],
      scale: 0.2,
    });
    const poly = wcs.skyPolygon(ccd);
    const found = skymap.findOverlaps(poly);
    expect(found.map((f) => f.tract.id)).toEqual([9813]);
    // The CCD covers tract pixels crpix +- 2048 (same orientation and scale); with the
    // 100-px border that is the patch range below.
    const [cx, cy] = t.wcs.crpix;
    const expected: number[] = [];
    for (
      let x = Math.floor((cx - 2048 - 100) / 4000);
      x <= Math.floor((cx + 2048 + 100) / 4000);
      x++
    ) {
      for (
        let y = Math.floor((cy - 2048 - 100) / 4000);
        y <= Math.floor((cy + 2048 + 100) / 4000);
        y++
      ) {
        expected.push(y * 7 + x);
      }
    }
    expect(found[0]!.patches.map((p) => p.sequentialIndex).sort((a, b) => a - b)).toEqual(
      expected.sort((a, b) => a - b),
    );
    // The CCD is fully inside patch (3, 3)'s outer box plus its neighbours' overlap.
    expect(found[0]!.patches.map((p) => p.sequentialIndex)).toContain(24);
  });

  it('finds both tracts for a CCD straddling a tract boundary, also across RA = 0', () => {
    const ring = skymap.ringIndices(skymap.findTractId(0, 0)).ring;
    const n = skymap.ringNums[ring]!;
    const dec = skymap.tractCenter(skymap.findTractId(0, 0)).dec;
    for (const boundaryRa of [180 / n, 360 - 180 / n]) {
      const wcs = Wcs.fromScaleRotation({
        crpix: [2047.5, 2047.5],
        crval: [boundaryRa, dec],
        scale: 0.2,
      });
      const found = skymap.findOverlaps(wcs.skyPolygon(ccd));
      const ids = found.map((f) => f.tract.id).sort((a, b) => a - b);
      const owner = skymap.findTractId(boundaryRa, dec);
      expect(ids).toContain(owner);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      for (const f of found) {
        expect(f.patches.length).toBeGreaterThan(0);
        // Those patches really are at the tract's edge nearest the CCD.
        const xs = f.patches.map((p) => p.index.x);
        expect(Math.min(...xs) === 0 || Math.max(...xs) === f.tract.numPatches.x - 1).toBe(true);
      }
    }
    // The RA = 0 boundary pairs the first and last tract of the ring.
    const wcs = Wcs.fromScaleRotation({ crpix: [2047.5, 2047.5], crval: [0.0, dec], scale: 0.2 });
    const ids = skymap.findOverlaps(wcs.skyPolygon(ccd)).map((f) => f.tract.id);
    const firstOfRing = skymap.findTractId(0, dec);
    expect(ids).toContain(firstOfRing);
  });

  it('finds the polar cap and ring tracts for a CCD at the pole', () => {
    const wcs = Wcs.fromScaleRotation({ crpix: [2047.5, 2047.5], crval: [0, 90], scale: 0.2 });
    const ids = skymap.findOverlaps(wcs.skyPolygon(ccd)).map((f) => f.tract.id);
    expect(ids).toEqual([skymap.numTracts - 1]);
  });

  it('densifyPolygon puts points on the edges at the requested spacing', () => {
    const poly = [
      { ra: 10, dec: 0 },
      { ra: 11, dec: 0 },
      { ra: 11, dec: 1 },
    ];
    const dense = densifyPolygon(poly, 0.1);
    expect(dense.length).toBe(10 + 10 + 15);
    for (let i = 1; i < 10; i++) {
      expect(dense[i]!.dec).toBeCloseTo(0, 12);
      expect(dense[i]!.ra).toBeCloseTo(10 + i * 0.1, 12);
    }
  });
});

describe('DiscreteSkyMap', () => {
  it('builds explicit tracts and finds the nearest', () => {
    const sm = new DiscreteSkyMap({
      centers: [
        { ra: 150.1, dec: 2.2 },
        { ra: 34.5, dec: -5 },
      ],
      radii: [0.5, 1.0],
    });
    expect(sm.numTracts).toBe(2);
    const t0 = sm.tract(0);
    // (0.5 + 1/60) deg at 0.2"/px = 9300 px half-size -> 18601 px -> 5 patches of 4000.
    expect(t0.numPatches).toEqual({ x: 5, y: 5 });
    expect(sm.findTract(150, 2).id).toBe(0);
    expect(sm.findTract(30, -3).id).toBe(1);
    const wcs = Wcs.fromScaleRotation({ crpix: [2047.5, 2047.5], crval: [150.1, 2.2], scale: 0.2 });
    const found = sm.findTractPatchList(wcs.skyPolygon(new Box2I(0, 0, 4096, 4096)));
    expect(found.map((f) => f.tract.id)).toEqual([0]);
    expect(found[0]!.patches.map((p) => p.sequentialIndex)).toContain(12);
    expectSkyMapError(() => sm.tract(2), 'SKYMAP_NO_SUCH_TRACT');
    expectSkyMapError(
      () => new DiscreteSkyMap({ centers: [{ ra: 0, dec: 0 }], radii: [] }),
      'SKYMAP_BAD_CONFIG',
    );
  });
});
