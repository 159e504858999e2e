/**
 * `background` on the WebGPU backend (shaders/background.wgsl): one workgroup per bin
 * for the statistics, the interpolation tables on the host (float64, tiny), then one
 * invocation per pixel for the model and the subtraction. The image stays on the device
 * between the two passes.
 */
import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { allocFloat32, allocInt32 } from '../../image/pixel-buffer.ts';
import { OpInputError } from '../errors.ts';
import { backgroundResult } from './cpu.ts';
import { modelTables } from './model.ts';
import type { BackgroundBins, BackgroundResult, PreparedBackground } from './spec.ts';

const SHADER = 'background.wgsl';

/** Estimate, interpolate and subtract the background on the GPU. */
export async function backgroundGpu(
  gpu: WebGpuBackend,
  mi: MaskedImage,
  p: PreparedBackground,
): Promise<BackgroundResult> {
  const { width: W, height: H, nx, ny } = p;
  const npix = W * H;
  const planeBytes = npix * 4;
  if (planeBytes > gpu.limit('maxStorageBufferBindingSize')) {
    throw new OpInputError(
      'background',
      `a ${W}x${H} plane (${planeBytes} bytes) exceeds this adapter's binding limit; use --backend cpu`,
    );
  }
  const nb = nx * ny;
  const bins: BackgroundBins = {
    nx,
    ny,
    binX: p.binX,
    binY: p.binY,
    values: allocFloat32(nb),
    counts: allocInt32(nb),
    stdevs: allocFloat32(nb),
  };
  const model = allocFloat32(npix);
  const out = allocFloat32(npix);
  let styles: Pick<BackgroundResult, 'styleX' | 'styleY'> = { styleX: null, styleY: null };

  await gpu.scoped('background', async () => {
    const statsPipe = gpu.pipeline(SHADER, 'bin_stats');
    const applyPipe = gpu.pipeline(SHADER, 'apply_model');
    const held: GPUBuffer[] = [];
    const buf = (label: string, bytes: number) => {
      const b = gpu.storage(label, Math.max(4, bytes));
      held.push(b);
      return b;
    };
    try {
      const bImg = buf('background image', planeBytes);
      const bMsk = buf('background mask', planeBytes);
      gpu.upload(bImg, mi.image.data);
      gpu.upload(bMsk, mi.mask.data);
      const edges = new Uint32Array(nx + ny + 2);
      edges.set(p.binX, 0);
      edges.set(p.binY, nx + 1);
      const bEdges = buf('background bin edges', edges.byteLength);
      gpu.upload(bEdges, edges);
      const bStats = buf('background bin stats', 12 * nb);
      const params = (nseg: number) => {
        const u = new Uint32Array(8);
        u.set([W, H, nx, nb, p.ignoreBits >>> 0, p.numIter]);
        new Float32Array(u.buffer)[6] = p.numSigmaClip;
        u[7] = nseg;
        const b = gpu.uniform('background params', u);
        held.push(b);
        return b;
      };
      let enc = gpu.device.createCommandEncoder({ label: 'background bins' });
      gpu.dispatch(
        enc,
        'background bin_stats',
        statsPipe,
        gpu.bindGroup(statsPipe, 'background bin_stats', [params(0), bImg, bMsk, bEdges, bStats]),
        nb,
      );
      gpu.device.queue.submit([enc.finish()]);
      const stats = new Uint32Array(3 * nb);
      await gpu.download(bStats, stats);
      const sf = new Float32Array(stats.buffer);
      for (let b = 0; b < nb; b++) {
        bins.values[b] = sf[3 * b] as number;
        bins.counts[b] = stats[3 * b + 1] as number;
        bins.stdevs[b] = sf[3 * b + 2] as number;
      }

      const tables = modelTables(p, bins.values);
      styles = { styleX: tables.styleX, styleY: tables.styleY };
      const bCoef = buf('background coefficients', tables.coef.byteLength);
      gpu.upload(bCoef, tables.coef);
      const bSeg = buf('background segments', tables.seg.byteLength);
      gpu.upload(bSeg, tables.seg);
      const bT = buf('background t', tables.t.byteLength);
      gpu.upload(bT, tables.t);
      const bModel = buf('background model', planeBytes);
      const bOut = buf('background subtracted', planeBytes);
      enc = gpu.device.createCommandEncoder({ label: 'background model' });
      gpu.dispatch(
        enc,
        'background apply_model',
        applyPipe,
        gpu.bindGroup(applyPipe, 'background apply_model', [
          params(tables.nseg),
          bImg,
          null,
          null,
          null,
          bCoef,
          bSeg,
          bT,
          bModel,
          bOut,
        ]),
        Math.ceil(npix / 256),
      );
      gpu.device.queue.submit([enc.finish()]);
      await Promise.all([gpu.download(bModel, model), gpu.download(bOut, out)]);
    } finally {
      for (const b of held) gpu.pool.release(b);
    }
  });
  return backgroundResult(mi, p, bins, styles, model, out);
}
