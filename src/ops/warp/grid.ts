/**
 * The exact target -> source pixel mapping on a coarse grid, and its interpolation.
 *
 * Nodes sit every L = interpLength target pixels on a lattice anchored at the target's
 * parent origin (multiples of L), from one node before the region to fill to one node
 * past its far edge. Anchoring and the extra node on each side make every node a
 * pixel's interpolation uses the same (same position, central-difference area) whatever
 * the region, so a target filled in row bands equals one filled at once, bit for bit.
 * Each node stores the source position split into an integer and a fraction (so
 * float32 keeps ~1e-6 px whatever the coordinates' size) and the relative pixel-area factor |det d(source)/d(target)| from central
 * differences of the node positions. A target pixel interpolates bilinearly within its
 * cell, using differences between the cell's corner nodes (small numbers), then adds
 * the corner's fraction and integer. Both backends read the same node arrays.
 */
import type { Box2I } from '../../geom/box.ts';
import type { Wcs } from '../../geom/wcs.ts';

/** Node arrays of one source's grid. */
export interface MappingGrid {
  /** Target pixel of node (0, 0), parent coordinates. */
  readonly x0: number;
  readonly y0: number;
  readonly step: number;
  readonly nx: number;
  readonly ny: number;
  /** Per node: integer and fractional parts of the source position (0-based source array pixels). */
  readonly ix: Int32Array;
  readonly fx: Float32Array;
  readonly iy: Int32Array;
  readonly fy: Float32Array;
  /** Relative pixel area (target pixel area in source pixels); NaN where unmapped. */
  readonly area: Float32Array;
}

/**
 * Exact mapping of target pixels (parent coordinates of `targetWcs`) to source array
 * pixels (source parent coordinates minus `srcXy0`), on the grid covering `region`.
 */
export function buildGrid(
  targetWcs: Wcs,
  sourceWcs: Wcs,
  srcXy0: { x: number; y: number },
  region: Box2I,
  step: number,
): MappingGrid {
  // One lattice node at or below the region's first pixel, minus one; one past its last.
  const gx0 = (Math.floor(region.minX / step) - 1) * step;
  const gy0 = (Math.floor(region.minY / step) - 1) * step;
  const nx = Math.floor((region.maxX - gx0) / step) + 3;
  const ny = Math.floor((region.maxY - gy0) / step) + 3;
  const n = nx * ny;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i;
      const sky = targetWcs.pixelToSky(gx0 + i * step, gy0 + j * step);
      let p: { x: number; y: number };
      try {
        p = sourceWcs.skyToPixel(sky.ra, sky.dec);
      } catch {
        p = { x: Number.NaN, y: Number.NaN };
      }
      xs[k] = p.x - srcXy0.x;
      ys[k] = p.y - srcXy0.y;
    }
  }
  const ix = new Int32Array(n);
  const fx = new Float32Array(n);
  const iy = new Int32Array(n);
  const fy = new Float32Array(n);
  const area = new Float32Array(n);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i;
      const x = xs[k] as number;
      const y = ys[k] as number;
      if (
        !Number.isFinite(x) ||
        !Number.isFinite(y) ||
        Math.abs(x) > 2 ** 30 ||
        Math.abs(y) > 2 ** 30
      ) {
        ix[k] = 0;
        iy[k] = 0;
        fx[k] = Number.NaN;
        fy[k] = Number.NaN;
        area[k] = Number.NaN;
        continue;
      }
      const xi = Math.floor(x);
      const yi = Math.floor(y);
      ix[k] = xi;
      iy[k] = yi;
      fx[k] = x - xi;
      fy[k] = y - yi;
      // Central differences (one-sided at the rim) of the exact node positions.
      const iL = i > 0 ? i - 1 : i;
      const iR = i < nx - 1 ? i + 1 : i;
      const jD = j > 0 ? j - 1 : j;
      const jU = j < ny - 1 ? j + 1 : j;
      const dxu =
        iR > iL
          ? ((xs[j * nx + iR] as number) - (xs[j * nx + iL] as number)) / ((iR - iL) * step)
          : 1;
      const dyu =
        iR > iL
          ? ((ys[j * nx + iR] as number) - (ys[j * nx + iL] as number)) / ((iR - iL) * step)
          : 0;
      const dxv =
        jU > jD
          ? ((xs[jU * nx + i] as number) - (xs[jD * nx + i] as number)) / ((jU - jD) * step)
          : 0;
      const dyv =
        jU > jD
          ? ((ys[jU * nx + i] as number) - (ys[jD * nx + i] as number)) / ((jU - jD) * step)
          : 1;
      area[k] = Math.abs(dxu * dyv - dxv * dyu);
    }
  }
  return { x0: gx0, y0: gy0, step, nx, ny, ix, fx, iy, fy, area };
}

/**
 * Interpolated source position and area factor at target pixel (x, y) (parent
 * coordinates), in float64 — the CPU path's arithmetic, and the test's.
 */
export function interpolate(
  g: MappingGrid,
  x: number,
  y: number,
): { xs: number; ys: number; area: number } {
  const rx = x - g.x0;
  const ry = y - g.y0;
  const ci = Math.min(Math.floor(rx / g.step), Math.max(g.nx - 2, 0));
  const cj = Math.min(Math.floor(ry / g.step), Math.max(g.ny - 2, 0));
  const u = g.nx > 1 ? (rx - ci * g.step) / g.step : 0;
  const v = g.ny > 1 ? (ry - cj * g.step) / g.step : 0;
  const k00 = cj * g.nx + ci;
  const k10 = g.nx > 1 ? k00 + 1 : k00;
  const k01 = g.ny > 1 ? k00 + g.nx : k00;
  const k11 = g.nx > 1 ? k01 + 1 : k01;
  const px = (k: number) => (g.ix[k] as number) - (g.ix[k00] as number) + (g.fx[k] as number);
  const py = (k: number) => (g.iy[k] as number) - (g.iy[k00] as number) + (g.fy[k] as number);
  const lerp = (a: number, b: number, c: number, d: number) =>
    a + u * (b - a) + v * (c - a) + u * v * (d - c - b + a);
  const xs = (g.ix[k00] as number) + lerp(px(k00), px(k10), px(k01), px(k11));
  const ys = (g.iy[k00] as number) + lerp(py(k00), py(k10), py(k01), py(k11));
  const area = lerp(
    g.area[k00] as number,
    g.area[k10] as number,
    g.area[k01] as number,
    g.area[k11] as number,
  );
  return { xs, ys, area };
}
