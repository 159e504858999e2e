/**
 * `gpu-bench convolve`: a MaskedImage (image f32, variance f32, mask i32) convolved
 * with separable and general kernels of several widths, on each backend.
 *
 * Bytes counted for GPU bandwidth (per output pixel): separable = 2 passes x (12 read +
 * 12 written) = 48 B; general = 12 read + 12 written = 24 B (halo re-reads excluded,
 * so this is the floor's count).
 */
import type { Backend } from '../src/compute/select.ts';
import { MaskedImage } from '../src/image/masked-image.ts';
import { convolve, type Kernel } from '../src/ops/convolve/index.ts';
import { type BenchRecord, makeRecord, measureCase, type TimingOptions } from './harness.ts';

export type KernelKind = 'separable' | 'general';

export interface ConvolveBenchOptions extends TimingOptions {
  readonly sizes: readonly number[];
  readonly widths: readonly number[];
  readonly kinds: readonly KernelKind[];
  /** Called after each record (progress). */
  readonly onRecord?: (r: BenchRecord) => void;
}

/** A deterministic, non-trivial test image: noise-like values, a few mask bits. */
export function benchImage(width: number, height: number): MaskedImage {
  const mi = MaskedImage.create(width, height);
  let s = 12345;
  const n = width * height;
  const img = mi.image.data;
  const vr = mi.variance.data;
  const msk = mi.mask.data;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    img[i] = (s >>> 8) / 65536 - 128;
    vr[i] = 50 + (s & 255);
    msk[i] = (s & 0x3ff) === 0 ? 1 : 0;
  }
  return mi;
}

/** The kernel of a case: a Gaussian (separable) or a general table of the same Gaussian. */
export function benchKernel(kind: KernelKind, width: number): Kernel {
  const sigma = Math.max(0.5, (width - 1) / 6);
  if (kind === 'separable') return { kind: 'gaussian', sigma, size: width };
  const r = (width - 1) / 2;
  const values: number[] = [];
  for (let j = 0; j < width; j++) {
    for (let i = 0; i < width; i++)
      values.push(Math.exp(-((i - r) ** 2 + (j - r) ** 2) / (2 * sigma * sigma)));
  }
  return { kind: 'general', width, height: width, values };
}

/** Largest |a - b| over finite pixels, relative to the largest |a|. */
function relDiff(a: MaskedImage, b: MaskedImage): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.image.data.length; i++) {
    const x = a.image.data[i] as number;
    const y = b.image.data[i] as number;
    if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY;
    if (Number.isNaN(x)) continue;
    d = Math.max(d, Math.abs(x - y));
    s = Math.max(s, Math.abs(x));
  }
  for (let i = 0; i < a.mask.data.length; i++)
    if (a.mask.data[i] !== b.mask.data[i]) return Number.POSITIVE_INFINITY;
  return s > 0 ? d / s : d;
}

/** Run the convolve benchmark on `backend`; `reference` (a CPU backend) checks GPU results first. */
export async function benchConvolve(
  backend: Backend,
  reference: Backend | null,
  o: ConvolveBenchOptions,
): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  for (const size of o.sizes) {
    const mi = benchImage(size, size);
    for (const kind of o.kinds) {
      for (const width of o.widths) {
        if (width > size) continue;
        const kernel = benchKernel(kind, width);
        const run = () => convolve(backend, mi, { kernel });
        let verified: boolean | null = null;
        if (backend.kind === 'webgpu' && reference) {
          const crop = benchImage(Math.min(size, 256), Math.min(size, 256));
          const [a, b] = [
            await convolve(reference, crop, { kernel }),
            await convolve(backend, crop, { kernel }),
          ];
          verified = relDiff(a, b) <= 1e-5;
        }
        const m = await measureCase(backend, run, o);
        const rec = makeRecord(backend, m, o, {
          op: 'convolve',
          width: size,
          height: size,
          params: { kernel: kind, kernel_width: width },
          pixels: size * size,
          gpuBytes: (kind === 'separable' ? 48 : 24) * size * size,
          verified,
        });
        out.push(rec);
        o.onRecord?.(rec);
      }
    }
  }
  return out;
}
