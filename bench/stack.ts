/**
 * `gpu-bench stack`: N warps of S x S into a coadd with each statistic. Records carry
 * `params.statistic`, `params.n` and `minput_per_s` (million input pixels per second).
 * GPU bytes: N x 12 B read + 16 B written per output pixel (inputs read once).
 */
import type { Backend } from '../src/compute/select.ts';
import type { MaskedImage } from '../src/image/masked-image.ts';
import { stack } from '../src/ops/stack/index.ts';
import { benchImage } from './convolve.ts';
import { type BenchRecord, machineFacts, median, timeIt } from './harness.ts';

export type Statistic = 'MEAN' | 'MEANCLIP' | 'MEDIAN';

export interface StackBenchOptions {
  readonly sizes: readonly number[];
  readonly ns: readonly number[];
  readonly statistics: readonly Statistic[];
  readonly repeats: number;
  readonly warmup: number;
  readonly budgetMs: number;
  readonly onRecord?: (r: BenchRecord & { minput_per_s: number }) => void;
}

/** N different warps of one size (shifted copies of the noise-like bench image). */
export function stackInputs(size: number, n: number): MaskedImage[] {
  const base = benchImage(size, size);
  const out: MaskedImage[] = [];
  for (let i = 0; i < n; i++) {
    const mi = base.clone();
    const shift = (i * 7919) % (size * size);
    mi.image.data.set(base.image.data.subarray(shift));
    mi.image.data.set(base.image.data.subarray(0, shift), size * size - shift);
    out.push(mi);
  }
  return out;
}

export async function benchStack(
  backend: Backend,
  reference: Backend | null,
  o: StackBenchOptions,
): Promise<Array<BenchRecord & { minput_per_s: number }>> {
  const out: Array<BenchRecord & { minput_per_s: number }> = [];
  const facts = machineFacts();
  const info = backend.info();
  for (const size of o.sizes) {
    for (const n of o.ns) {
      const inputs = stackInputs(size, n);
      for (const statistic of o.statistics) {
        const run = () => stack(backend, inputs, { statistic });
        let verified: boolean | null = null;
        if (backend.kind === 'webgpu' && reference) {
          const small = stackInputs(Math.min(size, 128), n);
          const [a, b] = [
            await stack(reference, small, { statistic }),
            await stack(backend, small, { statistic }),
          ];
          let ok = true;
          for (let i = 0; ok && i < a.coverage.length; i++) {
            const x = a.coadd.image.data[i] as number;
            const y = b.coadd.image.data[i] as number;
            ok =
              a.coverage[i] === b.coverage[i] &&
              (Number.isNaN(x) ? Number.isNaN(y) : Math.abs(x - y) <= 1e-5 * (Math.abs(x) + 1));
          }
          verified = ok;
        }
        const t0 = performance.now();
        await run();
        const once = performance.now() - t0;
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
        const px = size * size;
        const bytes = backend.kind === 'webgpu' ? (12 * n + 16) * px : null;
        const rec = {
          op: 'stack',
          backend: backend.kind,
          adapter: info.adapter,
          width: size,
          height: size,
          params: { statistic, n },
          median_ms: wall.median,
          min_ms: wall.min,
          max_ms: wall.max,
          mpix_per_s: px / wall.median / 1e3,
          minput_per_s: (n * px) / wall.median / 1e3,
          gpu_median_ms: gpuMs,
          gpu_bytes: bytes,
          gpu_gb_per_s: gpuMs !== null && bytes !== null ? bytes / gpuMs / 1e6 : null,
          repeats,
          warmup: o.warmup,
          threads: info.threads,
          verified,
          ...facts,
        } satisfies BenchRecord & { minput_per_s: number };
        out.push(rec);
        o.onRecord?.(rec);
      }
    }
  }
  return out;
}
