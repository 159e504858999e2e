/**
 * `convolve` on the WebGPU backend (shaders/convolve.wgsl). The image is processed in
 * bands of rows sized to the adapter's maxStorageBufferBindingSize and a memory budget,
 * each band uploaded with the kernel's halo; within a band all passes run in one
 * command buffer. Tile shapes are chosen so the staged tile (halo included) fits the
 * adapter's workgroup memory; they are WGSL override constants, so each shape is one
 * cached pipeline.
 */
import type { WebGpuBackend } from '../../compute/webgpu/webgpu-backend.ts';
import { ImageF } from '../../image/image.ts';
import { Mask } from '../../image/mask.ts';
import { MaskedImage } from '../../image/masked-image.ts';
import { allocFloat32, allocInt32 } from '../../image/pixel-buffer.ts';
import { OpInputError } from '../errors.ts';
import type { PreparedConvolve } from './spec.ts';

const SHADER = 'convolve.wgsl';
/** Bytes of workgroup memory per staged pixel: image f32 + variance f32 + mask u32. */
const STAGE_BYTES = 12;
/** Default device memory one convolve may hold at once (all bands' buffers). */
export const DEFAULT_CONVOLVE_BUDGET = 1 << 30;

const TILE_SHAPES: ReadonlyArray<readonly [number, number]> = [
  [16, 16],
  [16, 8],
  [8, 8],
  [8, 4],
  [4, 4],
  [4, 2],
  [2, 2],
  [1, 1],
];

/** Workgroup shape for a tile needing (wx + 2 rx) x (wy + 2 ry) staged pixels. */
function tileShape(
  gpu: WebGpuBackend,
  rx: number,
  ry: number,
  shapes = TILE_SHAPES,
): [number, number] {
  const limit = gpu.limit('maxComputeWorkgroupStorageSize');
  for (const [wx, wy] of shapes) {
    if ((wx + 2 * rx) * (wy + 2 * ry) * STAGE_BYTES <= limit) return [wx, wy];
  }
  throw new OpInputError(
    'convolve',
    `a ${2 * rx + 1}x${2 * ry + 1} kernel does not fit this adapter's ${limit} bytes of workgroup memory; ` +
      'use a separable kernel or --backend cpu',
  );
}

/** Convolve on the GPU; returns a new MaskedImage with the input's xy0 and mask planes. */
export async function convolveGpu(
  gpu: WebGpuBackend,
  mi: MaskedImage,
  p: PreparedConvolve,
  options: { budgetBytes?: number } = {},
): Promise<MaskedImage> {
  const { width: W, height: H, rx, ry } = p;
  const rowBytes = W * 4;
  const planesPerBand = p.separable ? 9 : 6;
  const maxBind = gpu.limit('maxStorageBufferBindingSize');
  const budget = options.budgetBytes ?? DEFAULT_CONVOLVE_BUDGET;
  const maxInRows = Math.min(
    Math.floor(maxBind / rowBytes),
    Math.floor(budget / (planesPerBand * rowBytes)),
  );
  if (maxInRows < 2 * ry + 1) {
    throw new OpInputError(
      'convolve',
      `rows of ${W} pixels with a ${2 * ry + 1}-row kernel do not fit the device (binding limit ${maxBind} bytes); ` +
        'raise the memory budget or use --backend cpu',
    );
  }
  const outRowsPerBand = H <= maxInRows ? H : maxInRows - 2 * ry;

  const tapsData = p.separable ? concat([p.fx, p.fx2, p.fy, p.fy2]) : concat([p.f, p.f2]);
  const kw = p.separable ? p.fx.length : p.kw;
  const kh = p.separable ? p.fy.length : p.kh;

  const out = { img: allocFloat32(W * H), vr: allocFloat32(W * H), msk: allocInt32(W * H) };
  const src = { img: mi.image.data, vr: mi.variance.data, msk: mi.mask.data };

  await gpu.scoped('convolve', async () => {
    // Pipelines (and tile shapes) are the same for every band.
    const hWg = 256;
    const [vx, vy] = p.separable
      ? tileShape(gpu, 0, ry, [
          [32, 8],
          [16, 8],
          [16, 4],
          [16, 2],
          [16, 1],
          [8, 1],
          [4, 1],
          [1, 1],
        ])
      : [0, 0];
    const [tx, ty] = p.separable ? [0, 0] : tileShape(gpu, rx, ry);
    const hPipe = p.separable
      ? gpu.pipeline(SHADER, 'conv_h', { WG_X: hWg, WG_Y: 1, TILE_N: hWg + 2 * rx })
      : null;
    const vPipe = p.separable
      ? gpu.pipeline(SHADER, 'conv_v', { WG_X: vx, WG_Y: vy, TILE_N: vx * (vy + 2 * ry) })
      : null;
    const dPipe = p.separable
      ? null
      : gpu.pipeline(SHADER, 'conv_2d', {
          WG_X: tx,
          WG_Y: ty,
          TILE_N: (tx + 2 * rx) * (ty + 2 * ry),
        });
    const ePipe = gpu.pipeline(SHADER, 'edge', { TILE_N: 1 });

    const taps = gpu.storage('convolve taps', tapsData.byteLength);
    gpu.upload(taps, tapsData);
    const held: GPUBuffer[] = [taps];
    try {
      for (let o0 = 0; o0 < H; o0 += outRowsPerBand) {
        const o1 = Math.min(H, o0 + outRowsPerBand);
        const g0 = Math.max(0, o0 - ry);
        const g1 = Math.min(H, o1 + ry);
        const inRows = g1 - g0;
        const outRows = o1 - o0;
        const inBytes = inRows * rowBytes;
        const outBytes = outRows * rowBytes;
        const label = `convolve rows ${o0}..${o1 - 1}`;
        const sImg = gpu.storage(`${label} image`, inBytes);
        const sVar = gpu.storage(`${label} variance`, inBytes);
        const sMsk = gpu.storage(`${label} mask`, inBytes);
        const dImg = gpu.storage(`${label} out image`, outBytes);
        const dVar = gpu.storage(`${label} out variance`, outBytes);
        const dMsk = gpu.storage(`${label} out mask`, outBytes);
        const band = [sImg, sVar, sMsk, dImg, dVar, dMsk];
        held.push(...band);
        gpu.upload(sImg, src.img.subarray(g0 * W, g1 * W));
        gpu.upload(sVar, src.vr.subarray(g0 * W, g1 * W));
        gpu.upload(sMsk, src.msk.subarray(g0 * W, g1 * W));
        const nIn = W - 2 * rx;
        // `zero`: the pass stages raw input (conv_h, conv_2d), where nonFinite 'zero' applies.
        const params = (groupsX: number, total: number, zero = false) =>
          gpu.uniform(
            `${label} params`,
            Uint32Array.from([
              W,
              inRows,
              rx,
              ry,
              kw,
              kh,
              o0 - g0,
              outRows,
              g0,
              H,
              p.edge === 'copy' ? 1 : 0,
              p.edgeBits >>> 0,
              p.noDataBits >>> 0,
              groupsX,
              total,
              zero && p.zeroNonFinite ? 1 : 0,
            ]),
          );
        const enc = gpu.device.createCommandEncoder({ label });
        if (hPipe && vPipe) {
          const tImg = gpu.storage(`${label} tmp image`, inBytes);
          const tVar = gpu.storage(`${label} tmp variance`, inBytes);
          const tMsk = gpu.storage(`${label} tmp mask`, inBytes);
          held.push(tImg, tVar, tMsk);
          const hgx = Math.ceil(nIn / hWg);
          const hU = params(hgx, hgx * inRows, true);
          held.push(hU);
          gpu.dispatch(
            enc,
            `${label} conv_h`,
            hPipe,
            gpu.bindGroup(hPipe, `${label} conv_h`, [hU, sImg, sVar, sMsk, taps, tImg, tVar, tMsk]),
            hgx * inRows,
          );
          const vgx = Math.ceil(nIn / vx);
          const vTotal = vgx * Math.ceil(outRows / vy);
          const vU = params(vgx, vTotal);
          held.push(vU);
          gpu.dispatch(
            enc,
            `${label} conv_v`,
            vPipe,
            gpu.bindGroup(vPipe, `${label} conv_v`, [vU, tImg, tVar, tMsk, taps, dImg, dVar, dMsk]),
            vTotal,
          );
        } else if (dPipe) {
          const gx = Math.ceil(nIn / tx);
          const total = gx * Math.ceil(outRows / ty);
          const u = params(gx, total, true);
          held.push(u);
          gpu.dispatch(
            enc,
            `${label} conv_2d`,
            dPipe,
            gpu.bindGroup(dPipe, `${label} conv_2d`, [u, sImg, sVar, sMsk, taps, dImg, dVar, dMsk]),
            total,
          );
        }
        const eTotal = Math.ceil((outRows * W) / 64);
        const eU = params(0, eTotal);
        held.push(eU);
        gpu.dispatch(
          enc,
          `${label} edge`,
          ePipe,
          gpu.bindGroup(ePipe, `${label} edge`, [eU, sImg, sVar, sMsk, null, dImg, dVar, dMsk]),
          eTotal,
        );
        gpu.device.queue.submit([enc.finish()]);
        await Promise.all([
          gpu.download(dImg, out.img.subarray(o0 * W, o1 * W)),
          gpu.download(dVar, out.vr.subarray(o0 * W, o1 * W)),
          gpu.download(dMsk, out.msk.subarray(o0 * W, o1 * W)),
        ]);
        for (const b of held.splice(1)) gpu.pool.release(b);
      }
    } finally {
      for (const b of held) gpu.pool.release(b);
    }
  });

  const xy0 = mi.xy0;
  return new MaskedImage(
    new ImageF(W, H, { xy0, data: out.img }),
    new Mask(W, H, { xy0, data: out.msk, planes: mi.mask.planes }),
    new ImageF(W, H, { xy0, data: out.vr }),
  );
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of parts) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}
