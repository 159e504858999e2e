/**
 * `warp` on the WebGPU backend (shaders/warp.wgsl): the output box is initialized and
 * stays on the device while each source's planes and grid are uploaded and its region
 * dispatched, in source order (so "first source wins" holds as on the CPU). `warpGpu`
 * brings the planes back; `warpToDevice` leaves them there for the next stage.
 */
import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import type { Box2I } from '../../geom/box.ts';
import { allocFloat32, allocInt32 } from '../../image/pixel-buffer.ts';
import { OpInputError } from '../errors.ts';
import { planSources, warpImage } from './cpu.ts';
import type { MappingGrid } from './grid.ts';
import type { PreparedWarp, WarpResult, WarpSource, WarpSourceReport, WarpTarget } from './spec.ts';

/** Device buffers of one source: its planes, its grid and the warp parameters (bindings 0-4). */
export interface SourceBuffers {
  readonly ub: GPUBuffer;
  readonly sImg: GPUBuffer;
  readonly sVar: GPUBuffer;
  readonly sMsk: GPUBuffer;
  readonly gBuf: GPUBuffer;
}

/** Upload one planned source for shaders/warp-sample.wgsl. The caller releases the buffers. */
export function uploadSource(
  gpu: WebGpuBackend,
  label: string,
  s: WarpSource,
  plan: { index: number; grid: MappingGrid; region: Box2I },
  target: WarpTarget,
  p: PreparedWarp,
): SourceBuffers {
  const mi = s.maskedImage;
  const srcBytes = mi.width * mi.height * 4;
  const maxBind = gpu.limit('maxStorageBufferBindingSize');
  if (srcBytes > maxBind) {
    throw new OpInputError(
      'warp',
      `source ${plan.index} (${mi.width}x${mi.height}) exceeds the binding limit ${maxBind} bytes`,
    );
  }
  const g = plan.grid;
  const nodes = g.nx * g.ny;
  const gw = new Uint32Array(5 * nodes);
  const gi = new Int32Array(gw.buffer);
  const gf = new Float32Array(gw.buffer);
  for (let k = 0; k < nodes; k++) {
    gi[5 * k] = g.ix[k] as number;
    gf[5 * k + 1] = g.fx[k] as number;
    gi[5 * k + 2] = g.iy[k] as number;
    gf[5 * k + 3] = g.fy[k] as number;
    gf[5 * k + 4] = g.area[k] as number;
  }
  const sImg = gpu.storage(`${label} image`, srcBytes);
  const sVar = gpu.storage(`${label} variance`, srcBytes);
  const sMsk = gpu.storage(`${label} mask`, srcBytes);
  const gBuf = gpu.storage(`${label} grid`, gw.byteLength);
  gpu.upload(sImg, mi.image.data);
  gpu.upload(sVar, mi.variance.data);
  gpu.upload(sMsk, mi.mask.data);
  gpu.upload(gBuf, gw);
  const r = plan.region;
  const u = new Int32Array([
    mi.width,
    mi.height,
    g.x0,
    g.y0,
    g.step,
    g.nx,
    g.ny,
    r.minX,
    r.minY,
    r.width,
    r.height,
    target.bbox.minX,
    target.bbox.minY,
    target.bbox.width,
    p.n,
    p.kernelCode,
    p.noDataBits,
    0,
    0,
    0,
  ]);
  const ub = gpu.uniform(`${label} params`, new Uint32Array(u.buffer));
  return { ub, sImg, sVar, sMsk, gBuf };
}

/** A warp's three planes on the device (row-major over the target box, 4 bytes a pixel). */
export interface DevicePlanes {
  readonly img: GPUBuffer;
  readonly vr: GPUBuffer;
  readonly msk: GPUBuffer;
}

/**
 * Warp onto the target and leave the planes on the device: they are initialized there
 * (NaN, +Inf, NO_DATA), each source's planes and grid uploaded and its region dispatched,
 * in source order. The caller owns the returned buffers (release them to `gpu.pool`).
 */
export async function warpToDevice(
  gpu: WebGpuBackend,
  input: { sources: readonly WarpSource[]; target: WarpTarget },
  p: PreparedWarp,
): Promise<{ planes: DevicePlanes; sources: WarpSourceReport[] }> {
  const { target } = input;
  const maxBind = gpu.limit('maxStorageBufferBindingSize');
  const npix = target.bbox.area;
  const outBytes = npix * 4;
  if (outBytes > maxBind) {
    throw new OpInputError(
      'warp',
      `the target box ${target.bbox} (${outBytes} bytes per plane) exceeds the adapter's binding limit ` +
        `${maxBind}; warp onto smaller patches or use --backend cpu`,
    );
  }
  const reports: WarpSourceReport[] = [];
  const plans = planSources(input.sources, target, p);
  return gpu.scoped('warp', async () => {
    const pipe = gpu.pipeline('warp.wgsl', 'warp_px');
    const planes = {
      img: gpu.storage('warp image', outBytes),
      vr: gpu.storage('warp variance', outBytes),
      msk: gpu.storage('warp mask', outBytes),
    };
    const held: GPUBuffer[] = [];
    try {
      const init = gpu.device.createCommandEncoder({ label: 'warp init' });
      held.push(
        gpu.fill(init, planes.img, 0x7fc00000, npix),
        gpu.fill(init, planes.vr, 0x7f800000, npix),
        gpu.fill(init, planes.msk, p.noDataBits, npix),
      );
      gpu.device.queue.submit([init.finish()]);
      for (const plan of plans) {
        if ('reason' in plan) {
          reports.push({ index: plan.index, pixels: 0, reason: plan.reason });
          continue;
        }
        const s = input.sources[plan.index] as WarpSource;
        const label = `warp source ${plan.index}`;
        const src = uploadSource(gpu, label, s, plan, target, p);
        const cnt = gpu.storage(`${label} count`, 4);
        gpu.upload(cnt, new Uint32Array(1));
        const { ub, sImg, sVar, sMsk, gBuf } = src;
        held.push(ub, sImg, sVar, sMsk, gBuf, cnt);
        const r = plan.region;
        const enc = gpu.device.createCommandEncoder({ label });
        gpu.dispatch(
          enc,
          label,
          pipe,
          gpu.bindGroup(pipe, label, [
            ub,
            sImg,
            sVar,
            sMsk,
            gBuf,
            planes.img,
            planes.vr,
            planes.msk,
            cnt,
          ]),
          Math.ceil(r.area / 64),
        );
        gpu.device.queue.submit([enc.finish()]);
        const c = new Uint32Array(1);
        await gpu.download(cnt, c);
        const pixels = c[0] as number;
        reports.push({
          index: plan.index,
          pixels,
          reason: pixels > 0 ? '' : 'no target pixel has its kernel footprint inside the source',
        });
        for (const b of held.splice(0)) gpu.pool.release(b);
      }
    } catch (e) {
      for (const b of [planes.img, planes.vr, planes.msk]) gpu.pool.release(b);
      throw e;
    } finally {
      for (const b of held) gpu.pool.release(b);
    }
    return { planes, sources: reports };
  });
}

/** Warp on the GPU and bring the planes back to the host. */
export async function warpGpu(
  gpu: WebGpuBackend,
  input: { sources: readonly WarpSource[]; target: WarpTarget },
  p: PreparedWarp,
): Promise<WarpResult> {
  const npix = input.target.bbox.area;
  const { planes, sources } = await warpToDevice(gpu, input, p);
  const out = { img: allocFloat32(npix), vr: allocFloat32(npix), msk: allocInt32(npix) };
  try {
    await gpu.scoped('warp download', () =>
      Promise.all([
        gpu.download(planes.img, out.img),
        gpu.download(planes.vr, out.vr),
        gpu.download(planes.msk, out.msk),
      ]),
    );
  } finally {
    for (const b of [planes.img, planes.vr, planes.msk]) gpu.pool.release(b);
  }
  return { warp: warpImage(input.target, p, out), sources };
}
