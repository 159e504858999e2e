/**
 * `stack` on the WebGPU backend (shaders/stack.wgsl): the patch in bands of rows so that
 * N inputs x band fit the binding limit and the memory budget; one invocation per
 * output pixel. `stackGpu` takes host warps (bands uploaded; weights from the host,
 * weights.ts); `stackFromDevice` takes warps left on the device by warpToDevice (bands
 * packed by device copies; weights from `warpWeightGpu`, equal to the host's to the bit).
 */
import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import type { Point2I } from '../../geom/box.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { allocFloat32, allocInt32 } from '../../image/pixel-buffer.ts';
import { OpInputError } from '../errors.ts';
import type { DevicePlanes } from '../warp/gpu.ts';
import { resolveWeights, stackResult } from './cpu.ts';
import type { PreparedStack, StackResult } from './spec.ts';
import { hostBackend, weightFromChunks } from './weights.ts';

/** Default device memory a stack may hold at once. */
export const DEFAULT_STACK_BUDGET = 1 << 30;

export async function stackGpu(
  gpu: WebGpuBackend,
  inputs: readonly MaskedImage[],
  p: PreparedStack,
  options: { budgetBytes?: number } = {},
): Promise<StackResult> {
  const weights = await resolveWeights(hostBackend(), inputs, p);
  const { width: W, n } = p;
  const bandRows = stackBandRows(gpu, p, options.budgetBytes ?? DEFAULT_STACK_BUDGET);
  const out = await stackBands(gpu, p, weights, bandRows, false, (_enc, band, y0, y1) => {
    const npix = (y1 - y0) * W;
    for (let i = 0; i < n; i++) {
      const mi = inputs[i] as MaskedImage;
      gpu.upload(band.img, mi.image.data.subarray(y0 * W, y1 * W), i * npix * 4);
      gpu.upload(band.vr, mi.variance.data.subarray(y0 * W, y1 * W), i * npix * 4);
      gpu.upload(band.msk, mi.mask.data.subarray(y0 * W, y1 * W), i * npix * 4);
    }
  });
  return stackResult((inputs[0] as MaskedImage).xy0, p, out, weights);
}

/**
 * Stack warps that are on the device already (one {@link DevicePlanes} per input, whole
 * planes of p.width x p.height, e.g. from warpToDevice) with the given per-warp weights
 * (null: per-pixel weighting), in bands of `bandRows` rows (a multiple of 64 unless the
 * whole height) packed on the device by buffer-to-buffer copies. The coadd comes back
 * to the host; with `keep`, its image and variance stay on the device too, as twins of
 * the returned arrays (gpu.adoptTwin), so detection and measurement copy them on the
 * device instead of uploading them (the caller ends that with gpu.dropTwins()).
 */
export async function stackFromDevice(
  gpu: WebGpuBackend,
  warps: readonly DevicePlanes[],
  p: PreparedStack,
  weights: Float32Array | null,
  xy0: Point2I,
  options: { bandRows: number; keep: boolean },
): Promise<StackResult> {
  if (warps.length !== p.n) {
    throw new OpInputError('stack', `${warps.length} device warps for a stack of ${p.n}`);
  }
  const { width: W, n } = p;
  const out = await stackBands(
    gpu,
    p,
    weights,
    options.bandRows,
    options.keep,
    (enc, band, y0, y1) => {
      const bytes = (y1 - y0) * W * 4;
      for (let i = 0; i < n; i++) {
        const w = warps[i] as DevicePlanes;
        gpu.copy(enc, w.img, y0 * W * 4, band.img, i * bytes, bytes);
        gpu.copy(enc, w.vr, y0 * W * 4, band.vr, i * bytes, bytes);
        gpu.copy(enc, w.msk, y0 * W * 4, band.msk, i * bytes, bytes);
      }
    },
  );
  return stackResult(xy0, p, out, weights);
}

/**
 * Rows per stack band: N inputs x band must fit the binding limit and `budgetBytes`
 * (12 bytes per input pixel plus 16 per output pixel).
 */
export function stackBandRows(gpu: WebGpuBackend, p: PreparedStack, budgetBytes: number): number {
  const { width: W, height: H, n } = p;
  const maxBind = gpu.limit('maxStorageBufferBindingSize');
  const rowsBind = Math.floor(maxBind / (n * W * 4));
  const rowsBudget = Math.floor(budgetBytes / (W * (12 * n + 16)));
  const bandRows = Math.min(H, rowsBind, rowsBudget);
  if (bandRows < 1) {
    throw new OpInputError(
      'stack',
      `one row of ${n} inputs x ${W} pixels does not fit the device (binding limit ${maxBind} B, budget ${budgetBytes} B); ` +
        'stack fewer inputs at once or use --backend cpu',
    );
  }
  return bandRows;
}

/** The packed input planes of one band: input i's rows at i x band pixels. */
interface BandBuffers {
  readonly img: GPUBuffer;
  readonly vr: GPUBuffer;
  readonly msk: GPUBuffer;
}

/**
 * The band loop of both entry points: `fill` puts each band's inputs into the packed
 * buffers (uploads, or device copies encoded into `enc`), shaders/stack.wgsl runs, and
 * the outputs come back into host planes. With `keep`, the image and variance are
 * gathered into whole-plane device buffers, adopted as twins of the host planes.
 */
async function stackBands(
  gpu: WebGpuBackend,
  p: PreparedStack,
  weights: Float32Array | null,
  bandRows: number,
  keep: boolean,
  fill: (enc: GPUCommandEncoder, band: BandBuffers, y0: number, y1: number) => void,
): Promise<{ img: Float32Array; vr: Float32Array; msk: Int32Array; coverage: Int32Array }> {
  const { width: W, height: H, n } = p;
  const maxn = Math.max(4, 2 ** Math.ceil(Math.log2(n)));
  const nt = p.thresholds.length;
  const aux = new Uint32Array(n + 2 * nt);
  new Float32Array(aux.buffer, 0, n).set(weights ?? new Float32Array(n));
  new Float32Array(aux.buffer, 4 * n, nt).set(p.thresholds);
  aux.set(new Uint32Array(p.thresholdBits.buffer, p.thresholdBits.byteOffset, nt), n + nt);
  const npixAll = W * H;
  const out = {
    img: allocFloat32(npixAll),
    vr: allocFloat32(npixAll),
    msk: allocInt32(npixAll),
    coverage: allocInt32(npixAll),
  };

  await gpu.scoped('stack', async () => {
    const pipe = gpu.pipeline('stack.wgsl', 'stack_px', {}, { MAXN: maxn });
    const auxBuf = gpu.storage('stack weights', Math.max(4, aux.byteLength));
    gpu.upload(auxBuf, aux);
    const held: GPUBuffer[] = [auxBuf];
    const whole = keep
      ? {
          img: gpu.storage('coadd image', npixAll * 4),
          vr: gpu.storage('coadd variance', npixAll * 4),
        }
      : null;
    let adopted = false;
    try {
      for (let y0 = 0; y0 < H; y0 += bandRows) {
        const y1 = Math.min(H, y0 + bandRows);
        const npix = (y1 - y0) * W;
        const label = `stack rows ${y0}..${y1 - 1}`;
        const band = {
          img: gpu.storage(`${label} images`, n * npix * 4),
          vr: gpu.storage(`${label} variances`, n * npix * 4),
          msk: gpu.storage(`${label} masks`, n * npix * 4),
        };
        const oImg = gpu.storage(`${label} coadd image`, npix * 4);
        const oVar = gpu.storage(`${label} coadd variance`, npix * 4);
        const oMsk = gpu.storage(`${label} coadd mask`, npix * 4);
        const oCov = gpu.storage(`${label} coverage`, npix * 4);
        held.push(band.img, band.vr, band.msk, oImg, oVar, oMsk, oCov);
        const u = new ArrayBuffer(48);
        const uu = new Uint32Array(u);
        const uf = new Float32Array(u);
        uu.set([npix, n, p.statCode, p.numIter]);
        uf[4] = p.numSigmaClip;
        uu.set(
          [
            p.perPixel ? 1 : 0,
            p.badBits >>> 0,
            p.noDataBits >>> 0,
            p.clippedBits >>> 0,
            p.rejectedBits >>> 0,
            nt,
            0,
          ],
          5,
        );
        const ub = gpu.uniform(`${label} params`, uu);
        held.push(ub);
        const enc = gpu.device.createCommandEncoder({ label });
        fill(enc, band, y0, y1);
        const groups = Math.ceil(npix / 64);
        gpu.dispatch(
          enc,
          label,
          pipe,
          gpu.bindGroup(pipe, label, [
            ub,
            band.img,
            band.vr,
            band.msk,
            auxBuf,
            oImg,
            oVar,
            oMsk,
            oCov,
          ]),
          groups,
        );
        if (whole) {
          gpu.copy(enc, oImg, 0, whole.img, y0 * W * 4, npix * 4);
          gpu.copy(enc, oVar, 0, whole.vr, y0 * W * 4, npix * 4);
        }
        gpu.device.queue.submit([enc.finish()]);
        await Promise.all([
          gpu.download(oImg, out.img.subarray(y0 * W, y1 * W)),
          gpu.download(oVar, out.vr.subarray(y0 * W, y1 * W)),
          gpu.download(oMsk, out.msk.subarray(y0 * W, y1 * W)),
          gpu.download(oCov, out.coverage.subarray(y0 * W, y1 * W)),
        ]);
        for (const b of held.splice(1)) gpu.pool.release(b);
      }
      if (whole) {
        gpu.adoptTwin(out.img, whole.img);
        gpu.adoptTwin(out.vr, whole.vr);
        adopted = true;
      }
    } finally {
      for (const b of held) gpu.pool.release(b);
      if (whole && !adopted) for (const b of [whole.img, whole.vr]) gpu.pool.release(b);
    }
  });
  return out;
}

/**
 * The per-warp weight (./weights.ts) of a warp on the device: chunk sums by
 * shaders/weights.wgsl, added on the host in float64 ({@link weightFromChunks}), so the
 * weight equals the CPU backend's to the bit.
 */
export async function warpWeightGpu(
  gpu: WebGpuBackend,
  warp: DevicePlanes,
  width: number,
  height: number,
  badBits: number,
): Promise<number> {
  const chunks = Math.ceil(width / 64);
  const groups = chunks * height;
  const sums = new Uint32Array(2 * groups);
  await gpu.scoped('stack weights', async () => {
    const pipe = gpu.pipeline('weights.wgsl', 'chunk_sums');
    const out = gpu.storage('warp chunk sums', sums.byteLength);
    const ub = gpu.uniform(
      'warp weight params',
      new Uint32Array([width, height, chunks, badBits >>> 0, 0, 0, 0, 0]),
    );
    try {
      const enc = gpu.device.createCommandEncoder({ label: 'warp weight' });
      gpu.dispatch(
        enc,
        'warp weight',
        pipe,
        gpu.bindGroup(pipe, 'warp weight', [ub, warp.img, warp.vr, warp.msk, out]),
        groups,
      );
      gpu.device.queue.submit([enc.finish()]);
      await gpu.download(out, sums);
    } finally {
      gpu.pool.release(out);
      gpu.pool.release(ub);
    }
  });
  return weightFromChunks(sums, height, chunks);
}
