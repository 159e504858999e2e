/**
 * `detect` on the WebGPU backend: smoothing through `convolve`, then shaders/detect.wgsl
 * in one command buffer per polarity (threshold labels, union-find, flatten, component
 * sizes, peaks, vertical and horizontal growth, union-find of the grown set); the grown
 * root labels and the peak list come back, and the host turns the labels into raster
 * runs for the shared assembly (footprints.ts). Roots are lowest pixel indices, so the
 * footprints are those of the CPU backend.
 */

import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { OpInputError } from '../errors.ts';
import { assembleFootprints, type FootprintSet, type RasterRuns } from './footprints.ts';
import { type DetectResult, detectResult, smoothForDetection } from './result.ts';
import { RunList } from './run-list.ts';
import type { PreparedDetect } from './spec.ts';

const SHADER = 'detect.wgsl';
const NONE = 0xffffffff;

/** Detect on the GPU. */
export async function detectGpu(
  gpu: WebGpuBackend,
  mi: MaskedImage,
  p: PreparedDetect,
): Promise<DetectResult> {
  const smoothed = await smoothForDetection(gpu, mi, p);
  const sets: FootprintSet[] = [];
  for (const sign of p.polarities) sets.push(await footprintsGpu(gpu, smoothed, p, sign));
  return detectResult(mi, p, smoothed, sets);
}

/** Footprints of one polarity from a smoothed image, on the GPU. */
export async function footprintsGpu(
  gpu: WebGpuBackend,
  smoothed: MaskedImage,
  p: PreparedDetect,
  sign: 1 | -1,
): Promise<FootprintSet> {
  const { width: W, height: H } = p;
  const npix = W * H;
  const bytes = npix * 4;
  if (bytes > gpu.limit('maxStorageBufferBindingSize')) {
    throw new OpInputError(
      'detect',
      `a ${W}x${H} plane (${bytes} bytes) exceeds this adapter's binding limit; use --backend cpu`,
    );
  }
  const labels = new Uint32Array(npix);
  const maxPeaks = Math.min(p.maxPeaks, npix);
  const peakBuf = new Uint32Array(1 + maxPeaks);
  await gpu.scoped('detect', async () => {
    const pipes = Object.fromEntries(
      [
        'init_threshold',
        'unite_pass',
        'flatten_pass',
        'size_pass',
        'peaks_pass',
        'grow_v',
        'grow_h',
      ].map((e) => [e, gpu.pipeline(SHADER, e)]),
    ) as Record<string, GPUComputePipeline>;
    const held: GPUBuffer[] = [];
    const buf = (label: string, n: number) => {
      const b = gpu.storage(label, Math.max(4, n));
      held.push(b);
      return b;
    };
    try {
      const bImg = buf('detect smoothed image', bytes);
      const bVar = buf('detect smoothed variance', bytes);
      gpu.upload(bImg, smoothed.image.data);
      gpu.upload(bVar, smoothed.variance.data);
      const bLab = buf('detect labels', bytes);
      const bGrown = buf('detect grown labels', bytes);
      const bSize = buf('detect sizes', bytes);
      const bG = buf('detect vertical distance', bytes);
      const bPeaks = buf('detect peaks', 4 * (1 + maxPeaks));
      const u = new Uint32Array(8);
      u.set([W, H, npix, p.minPixels, p.growRadius, maxPeaks]);
      const uf = new Float32Array(u.buffer);
      uf[6] = sign;
      uf[7] = p.threshold;
      const bU = gpu.uniform('detect params', u);
      held.push(bU);
      const groups = Math.ceil(npix / 256);
      const enc = gpu.device.createCommandEncoder({ label: 'detect' });
      enc.clearBuffer(bSize, 0, bytes);
      enc.clearBuffer(bPeaks, 0, 4 * (1 + maxPeaks));
      const run = (entry: string, bindings: Array<GPUBuffer | null>) => {
        const pipe = pipes[entry] as GPUComputePipeline;
        gpu.dispatch(enc, `detect ${entry}`, pipe, gpu.bindGroup(pipe, entry, bindings), groups);
      };
      run('init_threshold', [bU, bImg, bVar, bLab]);
      run('unite_pass', [bU, null, null, bLab]);
      run('flatten_pass', [bU, null, null, bLab]);
      run('size_pass', [bU, null, null, bLab, bSize]);
      run('peaks_pass', [bU, bImg, bVar, bLab, bSize, null, bPeaks]);
      run('grow_v', [bU, null, null, bLab, bSize, bG]);
      run('grow_h', [bU, null, null, null, null, bG, null, bGrown]);
      run('unite_pass', [bU, null, null, bGrown]);
      run('flatten_pass', [bU, null, null, bGrown]);
      gpu.device.queue.submit([enc.finish()]);
      await Promise.all([gpu.download(bGrown, labels), gpu.download(bPeaks, peakBuf)]);
    } finally {
      for (const b of held) gpu.pool.release(b);
    }
  });
  const found = peakBuf[0] as number;
  const stored = Math.min(found, maxPeaks);
  return assembleFootprints({
    polarity: sign > 0 ? 'positive' : 'negative',
    width: W,
    height: H,
    xy0: smoothed.xy0,
    runs: labelRuns(labels, W, H),
    peaks: Int32Array.from(peakBuf.subarray(1, 1 + stored)),
    peaksDropped: found - stored,
    smoothed: smoothed.image.data,
    smoothedVariance: smoothed.variance.data,
    maxPeaksPerFootprint: p.maxPeaksPerFootprint,
  });
}

/** Raster runs of a root-label image (NONE = background); a run ends where the label changes. */
export function labelRuns(labels: Uint32Array, W: number, H: number): RasterRuns {
  const runs = new RunList();
  for (let yy = 0; yy < H; yy++) {
    const row = yy * W;
    let x = 0;
    while (x < W) {
      const l = labels[row + x] as number;
      if (l === NONE) {
        x++;
        continue;
      }
      const s = x;
      while (x < W && labels[row + x] === l) x++;
      runs.push(yy, s, x, l | 0);
    }
  }
  return { count: runs.n, y: runs.y, x0: runs.x0, x1: runs.x1, key: runs.key };
}
