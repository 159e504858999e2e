/** `convolve` on the CPU backend: row bands of the kernels in cpu-kernel.ts on the worker pool. */
import type { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import { ImageF } from '../../image/image.ts';
import { Mask } from '../../image/mask.ts';
import { MaskedImage } from '../../image/masked-image.ts';
import {
  allocFloat32,
  allocInt32,
  toSharedFloat32,
  toSharedInt32,
} from '../../image/pixel-buffer.ts';
import type { Planes } from './cpu-kernel.ts';
import type { PreparedConvolve } from './spec.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

function planesOf(mi: MaskedImage): Planes {
  return {
    img: toSharedFloat32(mi.image.data),
    vr: toSharedFloat32(mi.variance.data),
    msk: toSharedInt32(mi.mask.data),
  };
}

function allocPlanes(n: number): Planes {
  return { img: allocFloat32(n), vr: allocFloat32(n), msk: allocInt32(n) };
}

/** Convolve on the CPU; returns a new MaskedImage with the input's xy0 and mask planes. */
export async function convolveCpu(
  cpu: CpuBackend,
  mi: MaskedImage,
  p: PreparedConvolve,
): Promise<MaskedImage> {
  const { width: W, height: H, rx, ry } = p;
  const src = planesOf(mi);
  const dst = allocPlanes(W * H);
  const interiorRows = H - 2 * ry;
  const opt = { pixelsPerRow: W, minRowsPerTask: 8 };
  const common = {
    src,
    dst,
    width: W,
    rx,
    ry,
    noData: p.noDataBits,
    zeroNonFinite: p.zeroNonFinite,
  };
  if (p.separable) {
    await cpu.parallelRows(
      KERNELS,
      'convolveSeparable',
      { ...common, fx: p.fx, fx2: p.fx2, fy: p.fy, fy2: p.fy2 },
      interiorRows,
      { pixelsPerRow: W * (p.fx.length + p.fy.length), minRowsPerTask: 64 },
    );
  } else {
    await cpu.parallelRows(
      KERNELS,
      'convolve2D',
      { ...common, f: p.f, f2: p.f2, kw: p.kw },
      interiorRows,
      { pixelsPerRow: W * p.f.length, minRowsPerTask: 16 },
    );
  }
  await cpu.parallelRows(
    KERNELS,
    'fillEdges',
    { src, dst, width: W, height: H, rx, ry, copy: p.edge === 'copy', edgeBits: p.edgeBits },
    H,
    opt,
  );
  const xy0 = mi.xy0;
  return new MaskedImage(
    new ImageF(W, H, { xy0, data: dst.img }),
    new Mask(W, H, { xy0, data: dst.msk, planes: mi.mask.planes }),
    new ImageF(W, H, { xy0, data: dst.vr }),
  );
}
