/**
 * Warps that stay on the device: per-warp weights reduced on the device equal the CPU
 * backend's to the bit (one definition, src/ops/stack/weights.ts, checked here against a
 * plain float32/float64 evaluation of it), and stacking warps left on the device by
 * warpToDevice gives the host path's coadd bit for bit, with no warp crossing to the host.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../../src/compute/webgpu/webgpu-backend.ts';
import { Box2I } from '../../src/geom/box.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { detect } from '../../src/ops/detect/index.ts';
import { measure } from '../../src/ops/measure/index.ts';
import { stackFromDevice, stackGpu, warpWeightGpu } from '../../src/ops/stack/gpu.ts';
import { prepareStack } from '../../src/ops/stack/index.ts';
import { perWarpWeights } from '../../src/ops/stack/weights.ts';
import { type DevicePlanes, warpGpu, warpToDevice } from '../../src/ops/warp/gpu.ts';
import type { WarpSource } from '../../src/ops/warp/spec.ts';
import { prepareWarp } from '../../src/ops/warp/spec.ts';
import { cpuBackend, disposeBackends, webgpuOrNull } from '../helpers/backends.ts';
import { Rng, TEST_SEED } from '../helpers/random.ts';

const f32 = Math.fround;
const BAD = 1 | 4;

/** The weight definition of weights.ts, evaluated plainly (float32 chunk trees, float64 sums). */
function referenceWeight(mi: MaskedImage, badBits: number): number {
  const { width: W, height: H } = mi;
  const chunks = Math.ceil(W / 64);
  let total = 0;
  let count = 0;
  for (let b = 0; b < H; b += 64) {
    let band = 0;
    for (let y = b; y < Math.min(H, b + 64); y++) {
      for (let c = 0; c < chunks; c++) {
        const s = new Array<number>(64).fill(0);
        for (let i = 0; i < 64; i++) {
          const x = 64 * c + i;
          if (x >= W) continue;
          const p = y * W + x;
          const v = mi.variance.data[p] as number;
          const good =
            ((mi.mask.data[p] as number) & badBits) === 0 &&
            Number.isFinite(mi.image.data[p]) &&
            Number.isFinite(v);
          if (good) {
            s[i] = v;
            count++;
          }
        }
        for (let h = 32; h >= 1; h >>= 1)
          for (let i = 0; i < h; i++) s[i] = f32((s[i] as number) + (s[i + h] as number));
        band += s[0] as number;
      }
    }
    total += band;
  }
  return f32(count > 0 && total > 0 ? count / total : 0);
}

/** A warp-like image: variances over four decades (so float32 sums round), holes of all kinds. */
function noisyWarp(rng: Rng, w: number, h: number): MaskedImage {
  const mi = MaskedImage.create(w, h);
  for (let p = 0; p < w * h; p++) {
    mi.image.data[p] = rng.normal() * 10;
    mi.variance.data[p] = 10 ** rng.uniform(-1, 3);
    const u = rng.next();
    if (u < 0.03) mi.mask.data[p] = 1;
    else if (u < 0.05)
      mi.mask.data[p] = 2; // not a bad plane: counts
    else if (u < 0.06) mi.mask.data[p] = 4;
    else if (u < 0.07) mi.image.data[p] = Number.NaN;
    else if (u < 0.08) mi.variance.data[p] = Number.POSITIVE_INFINITY;
    else if (u < 0.085) mi.image.data[p] = Number.NEGATIVE_INFINITY;
  }
  return mi;
}

/** Visit k: two 90x80 CCDs side by side, dithered, with stars, noise, a cosmic ray and holes. */
function visit(rng: Rng, k: number): WarpSource[] {
  const stars = [
    [40, 35, 4000],
    [120, 60, 9000],
    [75, 110, 2500],
  ] as const;
  return [0, 1].map((c) => {
    const wcs = Wcs.fromScaleRotation({
      crpix: [45 - 85 * c + 3.3 * k, 40 - 1.7 * k],
      crval: [150, 2],
      scale: 0.2,
      rotation: 2 * k,
    });
    const mi = MaskedImage.create(90, 80);
    for (let y = 0; y < 80; y++) {
      for (let x = 0; x < 90; x++) {
        const p = y * 90 + x;
        // Stars at fixed sky positions: their CCD pixel through this visit's WCS.
        let v = 20;
        for (const [sx, sy, f] of stars) {
          const sky = TARGET.pixelToSky(sx, sy);
          const c = wcs.skyToPixel(sky.ra, sky.dec);
          v += (f / (2 * Math.PI * 2.25)) * Math.exp(-((x - c.x) ** 2 + (y - c.y) ** 2) / 4.5);
        }
        mi.image.data[p] = v + rng.normal() * 3;
        mi.variance.data[p] = 9 * rng.uniform(0.8, 1.2) * (1 + k / 4);
        const u = rng.next();
        if (u < 0.01) mi.mask.data[p] = 1;
        else if (u < 0.012) mi.image.data[p] = Number.NaN;
        else if (u < 0.015) mi.image.data[p] = v + 5000; // unflagged cosmic ray
      }
    }
    return { maskedImage: mi, wcs };
  });
}

const TARGET = Wcs.fromScaleRotation({ crpix: [75, 70], crval: [150, 2], scale: 0.2, rotation: 0 });

const SHAPES: Array<[number, number]> = [
  [1, 1],
  [63, 5],
  [64, 64],
  [65, 130],
  [257, 71],
  [200, 129],
];

async function toDevice(gpu: WebGpuBackend, mi: MaskedImage): Promise<DevicePlanes> {
  const bytes = mi.width * mi.height * 4;
  const planes = {
    img: gpu.storage('test image', bytes),
    vr: gpu.storage('test variance', bytes),
    msk: gpu.storage('test mask', bytes),
  };
  gpu.upload(planes.img, mi.image.data);
  gpu.upload(planes.vr, mi.variance.data);
  gpu.upload(planes.msk, mi.mask.data);
  return planes;
}

function release(gpu: WebGpuBackend, planes: DevicePlanes[]): void {
  for (const p of planes) for (const b of [p.img, p.vr, p.msk]) gpu.pool.release(b);
}

describe('per-warp weights: one definition on every backend', () => {
  afterAll(disposeBackends);

  it('cpu (1 and 2 threads) equals the plain evaluation of the definition, bit for bit', async () => {
    const rng = new Rng(TEST_SEED);
    for (const [w, h] of SHAPES) {
      const warps = [noisyWarp(rng, w, h), noisyWarp(rng, w, h), noisyWarp(rng, w, h)];
      const want = warps.map((m) => referenceWeight(m, BAD));
      expect(want.every((x) => x > 0)).toBe(true);
      for (const threads of [1, 2]) {
        const got = await perWarpWeights(cpuBackend(threads), warps, BAD);
        expect(Array.from(got), `${w}x${h}, ${threads} threads`).toEqual(want);
      }
    }
    // The float32 chunk trees matter: a plain float64 sum of a large warp differs.
    const big = noisyWarp(rng, 300, 300);
    let s = 0;
    let c = 0;
    for (let p = 0; p < 300 * 300; p++) {
      const v = big.variance.data[p] as number;
      if (
        ((big.mask.data[p] as number) & BAD) === 0 &&
        Number.isFinite(big.image.data[p]) &&
        Number.isFinite(v)
      ) {
        s += v;
        c++;
      }
    }
    expect(referenceWeight(big, BAD)).toBeCloseTo(f32(c / s), 9);
  });

  it('webgpu: weights reduced on the device equal the cpu weights, bit for bit', async () => {
    const gpu = await webgpuOrNull();
    if (!gpu) return expect(process.env.CI).not.toBe('true');
    const rng = new Rng(TEST_SEED + 1);
    for (const [w, h] of SHAPES) {
      const warps = [noisyWarp(rng, w, h), noisyWarp(rng, w, h)];
      const cpu = await perWarpWeights(cpuBackend(2), warps, BAD);
      for (let i = 0; i < warps.length; i++) {
        const planes = await toDevice(gpu, warps[i] as MaskedImage);
        try {
          expect(await warpWeightGpu(gpu, planes, w, h, BAD), `${w}x${h} warp ${i}`).toBe(cpu[i]);
        } finally {
          release(gpu, [planes]);
        }
      }
    }
  });
});

describe('stacking warps that stay on the device', () => {
  afterAll(disposeBackends);

  it('warpToDevice + device weights + stackFromDevice equal warpGpu + stackGpu bit for bit, without moving a warp', async () => {
    const gpu = await webgpuOrNull();
    if (!gpu) return expect(process.env.CI).not.toBe('true');
    const rng = new Rng(TEST_SEED + 2);
    const target = { wcs: TARGET, bbox: new Box2I(0, 0, 150, 140) };
    const visits = [0, 1, 2, 3, 4].map((k) => visit(rng, k));
    for (const statistic of ['MEANCLIP', 'MEDIAN', 'MEAN'] as const) {
      // Host path.
      const hostWarps: MaskedImage[] = [];
      for (const sources of visits) {
        const p = prepareWarp({ sources, target }, { kernel: 'lanczos3' });
        hostWarps.push((await warpGpu(gpu, { sources, target }, p)).warp);
      }
      const ps = prepareStack(hostWarps, { statistic });
      const want = await stackGpu(gpu, hostWarps, ps);
      // Resident path.
      const before = { ...gpu.transfers };
      const dev: DevicePlanes[] = [];
      const weights: number[] = [];
      try {
        for (const sources of visits) {
          const p = prepareWarp({ sources, target }, { kernel: 'lanczos3' });
          const { planes } = await warpToDevice(gpu, { sources, target }, p);
          dev.push(planes);
          weights.push(await warpWeightGpu(gpu, planes, 150, 140, ps.badBits));
        }
        const sourceBytes = visits
          .flat()
          .reduce((a, s) => a + 12 * s.maskedImage.width * s.maskedImage.height, 0);
        expect(Array.from(want.weights ?? [])).toEqual(weights);
        const got = await stackFromDevice(
          gpu,
          dev,
          ps,
          Float32Array.from(weights),
          hostWarps[0]!.xy0,
          {
            bandRows: 64,
            keep: true,
          },
        );
        // Uploads: the CCDs, their grids and small parameters, never a warp plane.
        const up = gpu.transfers.uploadBytes - before.uploadBytes;
        expect(up).toBeGreaterThanOrEqual(sourceBytes);
        expect(up).toBeLessThan(sourceBytes + 150 * 140 * 4);
        // Bands packed on the device: 5 warps x 3 planes.
        expect(gpu.transfers.deviceCopyBytes - before.deviceCopyBytes).toBeGreaterThanOrEqual(
          5 * 3 * 150 * 140 * 4,
        );
        expect(
          Buffer.from(
            got.coadd.image.data.buffer,
            got.coadd.image.data.byteOffset,
            got.coadd.image.data.byteLength,
          ),
        ).toEqual(
          Buffer.from(
            want.coadd.image.data.buffer,
            want.coadd.image.data.byteOffset,
            want.coadd.image.data.byteLength,
          ),
        );
        expect(Array.from(got.coadd.variance.data)).toEqual(Array.from(want.coadd.variance.data));
        expect(Array.from(got.coadd.mask.data)).toEqual(Array.from(want.coadd.mask.data));
        expect(Array.from(got.coverage)).toEqual(Array.from(want.coverage));
        // Detection, then measurement on the kept coadd: both copy its image and variance
        // on the device instead of uploading them, and find and measure the same.
        const d0 = gpu.transfers.uploadBytes;
        const det = await detect(gpu, got.coadd, { psfSigma: 1.5, thresholdValue: 5 });
        const detResident = gpu.transfers.uploadBytes - d0;
        const fps = det.positive;
        if (!fps) throw new Error('detection found nothing');
        const mi = new MaskedImage(got.coadd.image, det.mask, got.coadd.variance);
        const params = { psf: { kind: 'gaussian' as const, sigma: 1.5 } };
        const up0 = gpu.transfers.uploadBytes;
        const a = await measure(gpu, mi, fps, params);
        const resident = gpu.transfers.uploadBytes - up0;
        gpu.dropTwins();
        const up1 = gpu.transfers.uploadBytes;
        const b = await measure(gpu, mi, fps, params);
        const uploaded = gpu.transfers.uploadBytes - up1;
        const d1 = gpu.transfers.uploadBytes;
        const det2 = await detect(gpu, got.coadd, { psfSigma: 1.5, thresholdValue: 5 });
        const detUploaded = gpu.transfers.uploadBytes - d1;
        expect(detUploaded - detResident).toBe(2 * 150 * 140 * 4);
        expect(Array.from(det2.mask.data)).toEqual(Array.from(det.mask.data));
        expect(a.count).toBeGreaterThanOrEqual(3);
        expect(uploaded - resident).toBe(2 * 150 * 140 * 4);
        expect(Array.from(a.x)).toEqual(Array.from(b.x));
        expect(Array.from(a.y)).toEqual(Array.from(b.y));
      } finally {
        gpu.dropTwins();
        release(gpu, dev);
      }
    }
  });
});
