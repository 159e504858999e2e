/** `warp` on the CPU backend: each source's region in row bands of cpu-kernel.ts#warpRows. */
import type { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import { ImageF } from '../../image/image.ts';
import { Mask } from '../../image/mask.ts';
import { MaskedImage } from '../../image/masked-image.ts';
import {
  allocFloat32,
  allocInt32,
  toSharedFloat32,
  toSharedInt32,
} from '../../image/pixel-buffer.ts';
import { buildGrid, type MappingGrid } from './grid.ts';
import { sourceRegion } from './region.ts';
import type { PreparedWarp, WarpResult, WarpSource, WarpSourceReport, WarpTarget } from './spec.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** Output planes initialised to "no data": NaN, +Inf, NO_DATA. */
export function emptyWarpPlanes(n: number, noData: number) {
  const img = allocFloat32(n).fill(Number.NaN);
  const vr = allocFloat32(n).fill(Number.POSITIVE_INFINITY);
  const msk = allocInt32(n).fill(noData);
  return { img, vr, msk };
}

/** Wrap the planes as the warp MaskedImage on the target box. */
export function warpImage(
  target: WarpTarget,
  p: PreparedWarp,
  planes: { img: Float32Array; vr: Float32Array; msk: Int32Array },
) {
  const { width: W, height: H } = target.bbox;
  const xy0 = { x: target.bbox.minX, y: target.bbox.minY };
  return new MaskedImage(
    new ImageF(W, H, { xy0, data: planes.img }),
    new Mask(W, H, { xy0, data: planes.msk, planes: p.planes }),
    new ImageF(W, H, { xy0, data: planes.vr }),
  );
}

/** Per source: its region and grid, or the reason it is skipped. */
export function planSources(
  sources: readonly WarpSource[],
  target: WarpTarget,
  p: PreparedWarp,
): Array<
  | { index: number; grid: MappingGrid; region: import('../../geom/box.ts').Box2I }
  | { index: number; reason: string }
> {
  return sources.map((s, index) => {
    const r = sourceRegion(s, target);
    if ('reason' in r) return { index, reason: r.reason };
    return {
      index,
      region: r.region,
      grid: buildGrid(target.wcs, s.wcs, s.maskedImage.xy0, r.region, p.interpLength),
    };
  });
}

export async function warpCpu(
  cpu: CpuBackend,
  input: { sources: readonly WarpSource[]; target: WarpTarget },
  p: PreparedWarp,
): Promise<WarpResult> {
  const { target } = input;
  // The "no data" fill runs on the workers while this thread evaluates the grids.
  const { width: W, height: H } = target.bbox;
  const out = { img: allocFloat32(W * H), vr: allocFloat32(W * H), msk: allocInt32(W * H) };
  const filling = cpu.parallelRows(
    KERNELS,
    'fillNoDataRows',
    { ...out, width: W, noData: p.noDataBits },
    H,
    { pixelsPerRow: W },
  );
  let plans: ReturnType<typeof planSources>;
  try {
    plans = planSources(input.sources, target, p);
  } finally {
    await filling;
  }
  const reports: WarpSourceReport[] = [];
  for (const plan of plans) {
    if ('reason' in plan) {
      reports.push({ index: plan.index, pixels: 0, reason: plan.reason });
      continue;
    }
    const s = input.sources[plan.index] as WarpSource;
    const g = plan.grid;
    const counts = await cpu.mapRows<object, number>(
      KERNELS,
      'warpRows',
      {
        srcImg: toSharedFloat32(s.maskedImage.image.data),
        srcVar: toSharedFloat32(s.maskedImage.variance.data),
        srcMsk: toSharedInt32(s.maskedImage.mask.data),
        srcW: s.maskedImage.width,
        srcH: s.maskedImage.height,
        gx0: g.x0,
        gy0: g.y0,
        step: g.step,
        gnx: g.nx,
        gny: g.ny,
        // Shared, so that the bands' messages do not copy the grid.
        gix: toSharedInt32(g.ix),
        gfx: toSharedFloat32(g.fx),
        giy: toSharedInt32(g.iy),
        gfy: toSharedFloat32(g.fy),
        garea: toSharedFloat32(g.area),
        rx0: plan.region.minX,
        ry0: plan.region.minY,
        rw: plan.region.width,
        outImg: out.img,
        outVar: out.vr,
        outMsk: out.msk,
        ox0: target.bbox.minX,
        oy0: target.bbox.minY,
        ow: target.bbox.width,
        n: p.n,
        kernelCode: p.kernelCode,
        noData: p.noDataBits,
      },
      plan.region.height,
      { pixelsPerRow: plan.region.width * 4 * p.n * p.n, minRowsPerTask: 8 },
    );
    const pixels = counts.reduce((a, b) => a + b, 0);
    reports.push({
      index: plan.index,
      pixels,
      reason: pixels > 0 ? '' : 'no target pixel has its kernel footprint inside the source',
    });
  }
  return { warp: warpImage(target, p, out), sources: reports };
}
