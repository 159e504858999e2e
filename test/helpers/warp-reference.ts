/**
 * The warp of src/ops/warp/spec.ts written plainly in float64 for one source: the grid's
 * interpolated position (grid.ts#interpolate), the Lanczos kernel straight from its
 * definition, and the edge and NaN rules. Independent of both backends' kernels.
 */
import type { Box2I } from '../../src/geom/box.ts';
import type { MaskedImage } from '../../src/image/masked-image.ts';
import { interpolate, type MappingGrid } from '../../src/ops/warp/grid.ts';

export function lanczos(d: number, n: number): number {
  if (d === 0) return 1;
  if (Math.abs(d) >= n) return 0;
  return (n * Math.sin(Math.PI * d) * Math.sin((Math.PI * d) / n)) / (Math.PI * Math.PI * d * d);
}

/** Reference values on `region` (target parent pixels); NaN where the source gives none. */
export function referenceWarp(
  src: MaskedImage,
  grid: MappingGrid,
  region: Box2I,
  n: number,
  bilinear: boolean,
  noData: number,
): { img: Float64Array; vr: Float64Array; msk: Int32Array } {
  const out = {
    img: new Float64Array(region.area).fill(Number.NaN),
    vr: new Float64Array(region.area).fill(Number.POSITIVE_INFINITY),
    msk: new Int32Array(region.area).fill(noData),
  };
  const W = src.width;
  const H = src.height;
  for (let y = region.minY; y <= region.maxY; y++) {
    for (let x = region.minX; x <= region.maxX; x++) {
      const o = (y - region.minY) * region.width + (x - region.minX);
      const p = interpolate(grid, x, y);
      if (!Number.isFinite(p.xs) || !Number.isFinite(p.ys)) continue;
      const ix = Math.floor(p.xs);
      const iy = Math.floor(p.ys);
      const fx = p.xs - ix;
      const fy = p.ys - iy;
      if (ix - n + 1 < 0 || iy - n + 1 < 0 || ix + n > W - 1 || iy + n > H - 1) continue;
      let m = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const wb = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
        if (wb >= 1e-5) m |= src.mask.data[(iy + dy) * W + ix + dx]!;
      }
      if (m & noData) continue;
      let si = 0;
      let sv = 0;
      let sw = 0;
      for (let j = -n + 1; j <= n; j++) {
        for (let i = -n + 1; i <= n; i++) {
          const w = bilinear
            ? Math.max(0, 1 - Math.abs(fx - i)) * Math.max(0, 1 - Math.abs(fy - j))
            : lanczos(fx - i, n) * lanczos(fy - j, n);
          sw += w;
          if (w === 0) continue;
          si += w * src.image.data[(iy + j) * W + ix + i]!;
          sv += w * w * src.variance.data[(iy + j) * W + ix + i]!;
        }
      }
      const img = (p.area * si) / sw;
      const vr = (p.area * p.area * sv) / (sw * sw);
      if (!Number.isFinite(img) || !Number.isFinite(vr)) continue;
      out.img[o] = img;
      out.vr[o] = vr;
      out.msk[o] = m;
    }
  }
  return out;
}
