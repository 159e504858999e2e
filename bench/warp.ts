/**
 * `gpu-bench warp`: one CCD (S x S, TAN) onto a patch grid rotated by 10 degrees and
 * shifted, with each kernel. Output Mpix/s counts the target pixels that received a
 * value (image, variance and mask). GPU bytes: 12 B read + 12 B written per output
 * pixel (the floor's count; kernel taps come from cache).
 */
import type { Backend } from '../src/compute/select.ts';
import { Box2I } from '../src/geom/box.ts';
import { Wcs } from '../src/geom/wcs.ts';
import { warp } from '../src/ops/warp/index.ts';
import { benchImage } from './convolve.ts';
import { type BenchRecord, machineFacts, median, timeIt } from './harness.ts';

export type WarpKernel = 'lanczos3' | 'lanczos4' | 'lanczos5' | 'bilinear';

export interface WarpBenchOptions {
  readonly sizes: readonly number[];
  readonly kernels: readonly WarpKernel[];
  readonly repeats: number;
  readonly warmup: number;
  readonly budgetMs: number;
  readonly onRecord?: (r: BenchRecord) => void;
}

/** The benchmark's CCD and patch for size S. */
export function warpCase(size: number) {
  const src = benchImage(size, size);
  // Positive, noise-like values with a sane variance.
  for (let i = 0; i < src.image.data.length; i++)
    src.image.data[i] = (src.image.data[i] as number) + 200;
  const ccd = Wcs.fromScaleRotation({
    crpix: [size / 2, size / 2],
    crval: [45, -30],
    scale: 0.2,
    rotation: 0,
  });
  const patch = Wcs.fromScaleRotation({
    crpix: [size / 2 + 37.3, size / 2 - 21.6],
    crval: [45, -30],
    scale: 0.2,
    rotation: 10,
  });
  return {
    sources: [{ maskedImage: src, wcs: ccd }],
    target: { wcs: patch, bbox: new Box2I(0, 0, size, size) },
  };
}

export async function benchWarp(
  backend: Backend,
  reference: Backend | null,
  o: WarpBenchOptions,
): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  const facts = machineFacts();
  const info = backend.info();
  for (const size of o.sizes) {
    const c = warpCase(size);
    for (const kernel of o.kernels) {
      const run = () => warp(backend, c.sources, c.target, { kernel });
      let verified: boolean | null = null;
      if (backend.kind === 'webgpu' && reference) {
        const small = warpCase(Math.min(size, 256));
        const [a, b] = [
          await warp(reference, small.sources, small.target, { kernel }),
          await warp(backend, small.sources, small.target, { kernel }),
        ];
        let ok = a.sources[0]?.pixels === b.sources[0]?.pixels;
        for (let i = 0; ok && i < a.warp.image.data.length; i++) {
          const x = a.warp.image.data[i] as number;
          const y = b.warp.image.data[i] as number;
          ok = Number.isNaN(x) ? Number.isNaN(y) : Math.abs(x - y) <= 1e-4 * Math.abs(x) + 1e-3;
        }
        verified = ok;
      }
      const t0 = performance.now();
      const first = await run();
      const once = performance.now() - t0;
      const filled = first.sources.reduce((s, r) => s + r.pixels, 0);
      const repeats = Math.max(
        3,
        Math.min(o.repeats, Math.floor(o.budgetMs / Math.max(once, 1e-3))),
      );
      const wall = await timeIt(run, repeats, Math.max(0, o.warmup - 1));
      let gpuMs: number | null = null;
      if (backend.kind === 'webgpu' && backend.hasTimestamps) {
        const g: number[] = [];
        for (let i = 0; i < repeats; i++) g.push((await backend.profile(run)).timing.totalMs);
        gpuMs = median(g);
      }
      const bytes = backend.kind === 'webgpu' ? 24 * filled : null;
      const rec: BenchRecord = {
        op: 'warp',
        backend: backend.kind,
        adapter: info.adapter,
        width: size,
        height: size,
        params: { kernel, interp_length: 10, filled_pixels: filled },
        median_ms: wall.median,
        min_ms: wall.min,
        max_ms: wall.max,
        mpix_per_s: filled / wall.median / 1e3,
        gpu_median_ms: gpuMs,
        gpu_bytes: bytes,
        gpu_gb_per_s: gpuMs !== null && bytes !== null ? bytes / gpuMs / 1e6 : null,
        repeats,
        warmup: o.warmup,
        threads: info.threads,
        verified,
        ...facts,
      };
      out.push(rec);
      o.onRecord?.(rec);
    }
  }
  return out;
}
