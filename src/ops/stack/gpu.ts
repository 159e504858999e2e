/**
 * `stack` on the WebGPU backend (shaders/stack.wgsl): the patch in bands of rows so that
 * N inputs x band fit the binding limit and the memory budget; one invocation per
 * output pixel. Weights come from the host (weights.ts), identical to the CPU path's.
 */
import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { allocFloat32, allocInt32 } from '../../image/pixel-buffer.ts';
import { OpInputError } from '../errors.ts';
import { resolveWeights, stackResult } from './cpu.ts';
import type { PreparedStack, StackResult } from './spec.ts';
import { hostBackend } from './weights.ts';

/** Default device memory a stack may hold at once. */
export const DEFAULT_STACK_BUDGET = 1 << 30;

export async function stackGpu(
  gpu: WebGpuBackend,
  inputs: readonly MaskedImage[],
  p: PreparedStack,
  options: { budgetBytes?: number } = {},
): Promise<StackResult> {
  const weights = await resolveWeights(hostBackend(), inputs, p);
  const { width: W, height: H, n } = p;
  const maxBind = gpu.limit('maxStorageBufferBindingSize');
  const budget = options.budgetBytes ?? DEFAULT_STACK_BUDGET;
  const rowsBind = Math.floor(maxBind / (n * W * 4));
  const rowsBudget = Math.floor(budget / (W * (12 * n + 16)));
  const bandRows = Math.min(H, rowsBind, rowsBudget);
  if (bandRows < 1) {
    throw new OpInputError(
      'stack',
      `one row of ${n} inputs x ${W} pixels does not fit the device (binding limit ${maxBind} B, budget ${budget} B); ` +
        'stack fewer inputs at once or use --backend cpu',
    );
  }
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
    try {
      for (let y0 = 0; y0 < H; y0 += bandRows) {
        const y1 = Math.min(H, y0 + bandRows);
        const npix = (y1 - y0) * W;
        const label = `stack rows ${y0}..${y1 - 1}`;
        const bImg = gpu.storage(`${label} images`, n * npix * 4);
        const bVar = gpu.storage(`${label} variances`, n * npix * 4);
        const bMsk = gpu.storage(`${label} masks`, n * npix * 4);
        const oImg = gpu.storage(`${label} coadd image`, npix * 4);
        const oVar = gpu.storage(`${label} coadd variance`, npix * 4);
        const oMsk = gpu.storage(`${label} coadd mask`, npix * 4);
        const oCov = gpu.storage(`${label} coverage`, npix * 4);
        held.push(bImg, bVar, bMsk, oImg, oVar, oMsk, oCov);
        inputs.forEach((mi, i) => {
          gpu.upload(bImg, mi.image.data.subarray(y0 * W, y1 * W), i * npix * 4);
          gpu.upload(bVar, mi.variance.data.subarray(y0 * W, y1 * W), i * npix * 4);
          gpu.upload(bMsk, mi.mask.data.subarray(y0 * W, y1 * W), i * npix * 4);
        });
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
        const groups = Math.ceil(npix / 64);
        gpu.dispatch(
          enc,
          label,
          pipe,
          gpu.bindGroup(pipe, label, [ub, bImg, bVar, bMsk, auxBuf, oImg, oVar, oMsk, oCov]),
          groups,
        );
        gpu.device.queue.submit([enc.finish()]);
        await Promise.all([
          gpu.download(oImg, out.img.subarray(y0 * W, y1 * W)),
          gpu.download(oVar, out.vr.subarray(y0 * W, y1 * W)),
          gpu.download(oMsk, out.msk.subarray(y0 * W, y1 * W)),
          gpu.download(oCov, out.coverage.subarray(y0 * W, y1 * W)),
        ]);
        for (const b of held.splice(1)) gpu.pool.release(b);
      }
    } finally {
      for (const b of held) gpu.pool.release(b);
    }
  });
  return stackResult((inputs[0] as MaskedImage).xy0, p, out, weights);
}
