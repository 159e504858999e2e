/**
 * The resident path of a unit on a GPU (budget.ts `resident`): every visit is warped
 * into device buffers, its per-warp weight reduced there, and the stack's bands packed
 * from them by device-to-device copies. Only the CCDs go up and only the coadd comes
 * back; the coadd's image and variance stay on the device as twins of the returned
 * planes, so detection's smoothing and measurement copy them there instead of uploading
 * them (the caller ends
 * that with `gpu.dropTwins()` once the unit is measured). Same pixels, bit for bit, as
 * warping to the host and stacking from there (test/scheduler/batching.test.ts).
 */
import type { WebGpuBackend } from '../compute/webgpu/webgpu-backend.ts';
import type { MaskPlaneDict } from '../image/mask.ts';
import { stackFromDevice, warpWeightGpu } from '../ops/stack/gpu.ts';
import { prepareStackShape, type StackResult } from '../ops/stack/index.ts';
import { type DevicePlanes, warpToDevice } from '../ops/warp/gpu.ts';
import { prepareWarp, type WarpSource } from '../ops/warp/spec.ts';
import type { CoaddGrid, CoaddKernel, CoaddStatistic } from './coadd-steps.ts';

/** What {@link residentCoadd} needs from its caller. */
export interface ResidentHooks {
  /** The next visit's CCDs (in visit order). */
  readonly next: () => Promise<WarpSource[]>;
  /** Record a stage's time since `t0` (performance.now()). */
  readonly lap: (stage: string, t0: number) => void;
  /** Throws when the run was interrupted. */
  readonly checkAbort: () => void;
}

/**
 * Warp `visits` visits onto `target` on the device and stack them with `statistic`, in
 * bands of `stackRows` rows.
 */
export async function residentCoadd(
  gpu: WebGpuBackend,
  visits: number,
  target: CoaddGrid,
  kernel: CoaddKernel,
  statistic: CoaddStatistic,
  stackRows: number,
  hooks: ResidentHooks,
): Promise<StackResult> {
  const { width: W, height: H } = target.bbox;
  const warps: DevicePlanes[] = [];
  const weights = new Float32Array(visits);
  let planes: MaskPlaneDict | null = null;
  let badBits: number | null = null;
  try {
    for (let k = 0; k < visits; k++) {
      const sources = await hooks.next();
      let t0 = performance.now();
      const p = prepareWarp({ sources, target }, { kernel });
      const { planes: dev } = await warpToDevice(gpu, { sources, target }, p);
      warps.push(dev);
      planes ??= p.planes;
      hooks.lap('warp', t0);
      hooks.checkAbort();
      t0 = performance.now();
      badBits ??= prepareStackShape(
        { width: W, height: H, n: visits, planes },
        { statistic },
      ).badBits;
      weights[k] = await warpWeightGpu(gpu, dev, W, H, badBits);
      hooks.lap('weigh', t0);
    }
    const t0 = performance.now();
    const ps = prepareStackShape(
      { width: W, height: H, n: visits, planes: planes as NonNullable<typeof planes> },
      { statistic, weights: Array.from(weights) },
    );
    const result = await stackFromDevice(
      gpu,
      warps,
      ps,
      weights,
      { x: target.bbox.minX, y: target.bbox.minY },
      { bandRows: stackRows, keep: true },
    );
    hooks.lap('stack', t0);
    return result;
  } finally {
    for (const w of warps) for (const b of [w.img, w.vr, w.msk]) gpu.pool.release(b);
  }
}
