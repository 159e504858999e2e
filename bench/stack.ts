/**
 * `gpu-bench stack`: N warps of S x S into a coadd with each statistic. Records carry
 * `params.statistic`, `params.n` and `minput_per_s` (million input pixels per second).
 * GPU bytes: N x 12 B read + 16 B written per output pixel (inputs read once).
 */
import type { Backend } from '../src/compute/select.ts';
import type { MaskedImage } from '../src/image/masked-image.ts';
import { stack } from '../src/ops/stack/index.ts';
import { benchImage } from './convolve.ts';
import { type BenchRecord, makeRecord, measureCase, type TimingOptions } from './harness.ts';

export type Statistic = 'MEAN' | 'MEANCLIP' | 'MEDIAN';

export interface StackBenchOptions extends TimingOptions {
  readonly sizes: readonly number[];
  readonly ns: readonly number[];
  readonly statistics: readonly Statistic[];
  readonly onRecord?: (r: BenchRecord & { minput_per_s: number }) => void;
}

/** N different warps of `width` x `height` (shifted copies of the noise-like bench image). */
export function stackInputs(width: number, n: number, height = width): MaskedImage[] {
  const base = benchImage(width, height);
  const px = width * height;
  const out: MaskedImage[] = [];
  for (let i = 0; i < n; i++) {
    const mi = base.clone();
    const shift = (i * 7919) % px;
    mi.image.data.set(base.image.data.subarray(shift));
    mi.image.data.set(base.image.data.subarray(0, shift), px - shift);
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
        const m = await measureCase(backend, run, o);
        const px = size * size;
        const rec = {
          ...makeRecord(backend, m, o, {
            op: 'stack',
            width: size,
            height: size,
            params: { statistic, n },
            pixels: px,
            gpuBytes: (12 * n + 16) * px,
            verified,
          }),
          minput_per_s: (n * px) / m.wall.median / 1e3,
        };
        out.push(rec);
        o.onRecord?.(rec);
      }
    }
  }
  return out;
}
