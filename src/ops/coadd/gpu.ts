/**
 * `coaddMean` on the WebGPU backend (shaders/coadd.wgsl): running sums stay on the
 * device; per visit its CCDs are uploaded once, a first fused pass measures the warp's
 * mean variance (for the weight) and a second adds the warped pixels into the sums.
 * The warp is never stored, on the device or on the host.
 */
import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import { allocFloat32, allocInt32 } from '../../image/pixel-buffer.ts';
import { OpInputError } from '../errors.ts';
import type { StackResult } from '../stack/spec.ts';
import { planSources } from '../warp/cpu.ts';
import { type SourceBuffers, uploadSource } from '../warp/gpu.ts';
import { prepareWarp, type WarpSource } from '../warp/spec.ts';
import { coaddResult } from './cpu.ts';
import type { CoaddInput, PreparedCoadd } from './spec.ts';

const SHADER = 'coadd.wgsl';

export async function coaddGpu(
  gpu: WebGpuBackend,
  input: CoaddInput,
  p: PreparedCoadd,
): Promise<StackResult> {
  const { target } = input;
  const npix = target.bbox.area;
  const maxBind = gpu.limit('maxStorageBufferBindingSize');
  if (32 * npix > maxBind) {
    throw new OpInputError(
      'coaddMean',
      `the target box ${target.bbox} needs ${32 * npix} bytes of sums, over the adapter's binding limit ${maxBind}; ` +
        'use smaller patches, or warp and stack separately, or --backend cpu',
    );
  }
  const weights = new Float32Array(input.visits.length);
  const out = {
    img: allocFloat32(npix),
    vr: allocFloat32(npix),
    msk: allocInt32(npix),
    coverage: allocInt32(npix),
  };
  await gpu.scoped('coaddMean', async () => {
    const pPart = gpu.pipeline(SHADER, 'var_partials');
    const pAcc = gpu.pipeline(SHADER, 'accumulate');
    const pFin = gpu.pipeline(SHADER, 'finalize');
    const acc = gpu.storage('coadd sums', 32 * npix);
    const claimed = gpu.storage('coadd claimed', 4 * npix);
    const held: GPUBuffer[] = [acc, claimed];
    const coaddUniform = (label: string, stamp: number, w: number) => {
      const u = new ArrayBuffer(32);
      const uu = new Uint32Array(u);
      const uf = new Float32Array(u);
      uu.set([stamp]);
      uf[1] = w;
      uu.set([p.badBits >>> 0, p.noDataBits >>> 0, p.thrBits >>> 0], 2);
      uf[5] = p.threshold;
      uu.set([p.rejectedBits >>> 0, npix], 6);
      return gpu.uniform(label, uu);
    };
    try {
      const clear = gpu.device.createCommandEncoder({ label: 'coadd clear' });
      clear.clearBuffer(acc, 0, 32 * npix);
      clear.clearBuffer(claimed, 0, 4 * npix);
      gpu.device.queue.submit([clear.finish()]);
      for (let v = 0; v < input.visits.length; v++) {
        const sources = input.visits[v] as readonly WarpSource[];
        if (sources.length === 0) continue;
        const pw = prepareWarp({ sources, target }, p.warp);
        const plans = planSources(sources, target, pw).filter((x) => !('reason' in x));
        const bufs: Array<{ src: SourceBuffers; groups: number }> = [];
        const visitHeld: GPUBuffer[] = [];
        try {
          for (const plan of plans) {
            if ('reason' in plan) continue;
            const src = uploadSource(
              gpu,
              `coadd visit ${v} source ${plan.index}`,
              sources[plan.index] as WarpSource,
              plan,
              target,
              pw,
            );
            visitHeld.push(src.ub, src.sImg, src.sVar, src.sMsk, src.gBuf);
            bufs.push({ src, groups: Math.ceil(plan.region.area / 64) });
          }
          let w: number;
          if (p.weights) {
            w = p.weights[v] as number;
          } else {
            // Pass A: the warp's variance over good pixels, per workgroup.
            const uA = coaddUniform(`coadd visit ${v} pass A`, 2 * v + 1, 0);
            visitHeld.push(uA);
            let sum = 0;
            let count = 0;
            for (const { src, groups } of bufs) {
              const part = gpu.storage(`coadd visit ${v} partials`, 8 * groups);
              visitHeld.push(part);
              const enc = gpu.device.createCommandEncoder({ label: `coadd visit ${v} variance` });
              const bg = gpu.bindGroup(pPart, 'var_partials', [
                src.ub,
                src.sImg,
                src.sVar,
                src.sMsk,
                src.gBuf,
                null,
                claimed,
                part,
                null,
                uA,
              ]);
              gpu.dispatch(enc, `coadd visit ${v} var_partials`, pPart, bg, groups);
              gpu.device.queue.submit([enc.finish()]);
              const partials = new Float32Array(2 * groups);
              await gpu.download(part, partials);
              for (let g = 0; g < groups; g++) {
                sum += partials[2 * g] as number;
                count += partials[2 * g + 1] as number;
              }
            }
            w = count > 0 && sum > 0 ? count / sum : 0;
          }
          weights[v] = w;
          // Pass B: warp and add.
          const uB = coaddUniform(`coadd visit ${v} pass B`, 2 * v + 2, w);
          visitHeld.push(uB);
          const enc = gpu.device.createCommandEncoder({ label: `coadd visit ${v} accumulate` });
          for (const { src, groups } of bufs) {
            const bg = gpu.bindGroup(pAcc, 'accumulate', [
              src.ub,
              src.sImg,
              src.sVar,
              src.sMsk,
              src.gBuf,
              acc,
              claimed,
              null,
              null,
              uB,
            ]);
            gpu.dispatch(enc, `coadd visit ${v} accumulate`, pAcc, bg, groups);
          }
          gpu.device.queue.submit([enc.finish()]);
          await gpu.device.queue.onSubmittedWorkDone();
        } finally {
          for (const b of visitHeld) gpu.pool.release(b);
        }
      }
      const oImg = gpu.storage('coadd image', 4 * npix);
      const oVar = gpu.storage('coadd variance', 4 * npix);
      const oMsk = gpu.storage('coadd mask', 4 * npix);
      const oCov = gpu.storage('coadd coverage', 4 * npix);
      const uF = coaddUniform('coadd finalize', 0, 0);
      held.push(oImg, oVar, oMsk, oCov, uF);
      const enc = gpu.device.createCommandEncoder({ label: 'coadd finalize' });
      const bindings: Array<GPUBuffer | null> = [
        null,
        null,
        null,
        null,
        null,
        acc,
        null,
        null,
        null,
        uF,
        oImg,
        oVar,
        oMsk,
        oCov,
      ];
      gpu.dispatch(
        enc,
        'coadd finalize',
        pFin,
        gpu.bindGroup(pFin, 'finalize', bindings),
        Math.ceil(npix / 64),
      );
      gpu.device.queue.submit([enc.finish()]);
      await Promise.all([
        gpu.download(oImg, out.img),
        gpu.download(oVar, out.vr),
        gpu.download(oMsk, out.msk),
        gpu.download(oCov, out.coverage),
      ]);
    } finally {
      for (const b of held) gpu.pool.release(b);
    }
  });
  return coaddResult(input, p, out, weights);
}
