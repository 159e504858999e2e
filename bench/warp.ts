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
import { type BenchRecord, makeRecord, measureCase, type TimingOptions } from './harness.ts';

export type WarpKernel = 'lanczos3' | 'lanczos4' | 'lanczos5' | 'bilinear';

export interface WarpBenchOptions extends TimingOptions {
  readonly sizes: readonly number[];
  readonly kernels: readonly WarpKernel[];
  readonly onRecord?: (r: BenchRecord) => void;
}

/** The benchmark's CCD (`ccdWidth` x `ccdHeight`, default S x S) and S x S patch. */
export function warpCase(size: number, ccdWidth = size, ccdHeight = size) {
  const src = benchImage(ccdWidth, ccdHeight);
  // Positive, noise-like values with a sane variance.
  for (let i = 0; i < src.image.data.length; i++)
    src.image.data[i] = (src.image.data[i] as number) + 200;
  const ccd = Wcs.fromScaleRotation({
    crpix: [ccdWidth / 2, ccdHeight / 2],
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
      const m = await measureCase(backend, run, o);
      const filled = (m.first as Awaited<ReturnType<typeof run>>).sources.reduce(
        (sum, r) => sum + r.pixels,
        0,
      );
      const rec = makeRecord(backend, m, o, {
        op: 'warp',
        width: size,
        height: size,
        params: { kernel, interp_length: 10, filled_pixels: filled },
        pixels: filled,
        gpuBytes: 24 * filled,
        verified,
      });
      out.push(rec);
      o.onRecord?.(rec);
    }
  }
  return out;
}
