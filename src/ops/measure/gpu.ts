/**
 * `measure` on the WebGPU backend (shaders/measure.wgsl): the image planes and the peak
 * list go up, one invocation per source computes every measurement in float32 with its
 * sums in a fixed pixel order (deterministic; no float atomics), the value table comes
 * back and the host assembles the result exactly as for the CPU.
 */
import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import { OpInputError } from '../errors.ts';
import { type MeasureResult, measureResult } from './result.ts';
import type { MeasureInput, PreparedMeasure } from './spec.ts';

/** Measure every peak on the GPU. */
export async function measureGpu(
  gpu: WebGpuBackend,
  input: MeasureInput,
  p: PreparedMeasure,
): Promise<MeasureResult> {
  const mi = input.image;
  const n = p.count;
  const planeBytes = p.width * p.height * 4;
  if (planeBytes > gpu.limit('maxStorageBufferBindingSize')) {
    throw new OpInputError(
      'measure',
      `a ${p.width}x${p.height} plane exceeds this adapter's binding limit; use --backend cpu`,
    );
  }
  const vals = new Float32Array(n * p.nv);
  const flags = new Uint32Array(n);
  if (n > 0) {
    await gpu.scoped('measure', async () => {
      const pipe = gpu.pipeline('measure.wgsl', 'measure_sources');
      const held: GPUBuffer[] = [];
      const buf = (label: string, bytes: number) => {
        const b = gpu.storage(label, Math.max(4, bytes));
        held.push(b);
        return b;
      };
      try {
        const bImg = buf('measure image', planeBytes);
        const bVar = buf('measure variance', planeBytes);
        const bMsk = buf('measure mask', planeBytes);
        gpu.upload(bImg, mi.image.data);
        gpu.upload(bVar, mi.variance.data);
        gpu.upload(bMsk, mi.mask.data);
        const pk = new Int32Array(2 * n);
        for (let i = 0; i < n; i++) {
          pk[2 * i] = p.peakX[i] as number;
          pk[2 * i + 1] = p.peakY[i] as number;
        }
        const bPk = buf('measure peaks', pk.byteLength);
        gpu.upload(bPk, pk);
        const radii = Float32Array.from(p.radii);
        const bRad = buf('measure radii', radii.byteLength);
        gpu.upload(bRad, radii);
        const kernel = Float32Array.from(p.psfKernel);
        const bKer = buf('measure psf kernel', kernel.byteLength);
        gpu.upload(bKer, kernel);
        const bVals = buf('measure values', vals.byteLength);
        const bFlags = buf('measure flags', flags.byteLength);
        const u = new Uint32Array(16);
        u.set([
          p.width,
          p.height,
          n,
          p.nv,
          p.radii.length,
          p.centroidIter,
          p.shapeIter,
          p.badBits >>> 0,
          p.edgeBits >>> 0,
          p.satBits >>> 0,
          p.intrpBits >>> 0,
        ]);
        new Float32Array(u.buffer)[11] = p.sigma;
        u.set([p.psfKind, p.psfWidth, p.psfHeight], 12);
        const bU = gpu.uniform('measure params', u);
        held.push(bU);
        const enc = gpu.device.createCommandEncoder({ label: 'measure' });
        gpu.dispatch(
          enc,
          'measure sources',
          pipe,
          gpu.bindGroup(pipe, 'measure', [bU, bImg, bVar, bMsk, bPk, bRad, bVals, bFlags, bKer]),
          Math.ceil(n / 64),
        );
        gpu.device.queue.submit([enc.finish()]);
        await Promise.all([gpu.download(bVals, vals), gpu.download(bFlags, flags)]);
      } finally {
        for (const b of held) gpu.pool.release(b);
      }
    });
  }
  return measureResult(input, p, vals, flags);
}
