/**
 * The WebGPU backend's resource discipline on the machine's adapter (lavapipe in CI):
 * dispatch folding, buffer pool, pipeline cache, uploads from shared memory, error
 * scopes, timestamps, device loss and dispose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackendDisposedError,
  DeviceLostError,
  GpuOutOfMemoryError,
  GpuValidationError,
} from '../../src/compute/errors.ts';
import { sizeClass } from '../../src/compute/webgpu/buffer-pool.ts';
import { WebGpuBackend } from '../../src/compute/webgpu/webgpu-backend.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { allocFloat32 } from '../../src/image/pixel-buffer.ts';
import { convolve } from '../../src/ops/convolve/index.ts';
import { webgpuOrNull } from '../helpers/backends.ts';

describe('buffer size classes', () => {
  it('round up by at most 12.5% and never below 256 bytes', () => {
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(256)).toBe(256);
    expect(sizeClass(64 << 20)).toBe(64 << 20);
    for (const n of [257, 1000, 4097, 12345678, 67_108_865, 4095 * 4097 * 4]) {
      const c = sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c / n).toBeLessThanOrEqual(1.125);
    }
  });
});

describe('WebGPU backend', async () => {
  const probe = await webgpuOrNull();
  // Outside CI a machine without an adapter skips this block (webgpuOrNull warned);
  // under CI=true webgpuOrNull has already failed the file.
  describe.runIf(probe !== null)('on the adapter', () => {
    let gpu: WebGpuBackend;
    beforeAll(async () => {
      gpu = await WebGpuBackend.create();
    });
    afterAll(async () => {
      await gpu.dispose();
    });

    it('requests the adapter limits large images need', () => {
      expect(gpu.limit('maxStorageBufferBindingSize')).toBeGreaterThanOrEqual(128 << 20);
      expect(gpu.limit('maxBufferSize')).toBeGreaterThanOrEqual(256 << 20);
      expect(gpu.limit('maxComputeWorkgroupsPerDimension')).toBeGreaterThanOrEqual(65535);
      const info = gpu.info();
      expect(info.kind).toBe('webgpu');
      expect(info.adapter?.vendor.length).toBeGreaterThan(0);
    });

    it('folds dispatches that exceed maxComputeWorkgroupsPerDimension', () => {
      const m = gpu.limit('maxComputeWorkgroupsPerDimension');
      expect(gpu.foldWorkgroups(10)).toEqual([10, 1, 1]);
      expect(gpu.foldWorkgroups(m)).toEqual([m, 1, 1]);
      const [x, y, z] = gpu.foldWorkgroups(65536 * 4);
      expect(x).toBeLessThanOrEqual(m);
      expect(y).toBeLessThanOrEqual(m);
      expect(x * y * z).toBeGreaterThanOrEqual(65536 * 4);
      const big = gpu.foldWorkgroups(m * m + 1);
      expect(big).toEqual([m, m, 2]);
    });

    it('a folded dispatch covers every pixel (2048 x 2048 border pass needs 65536 groups)', async () => {
      const W = 2048;
      const mi = MaskedImage.create(W, W);
      mi.image.data.fill(3);
      mi.variance.data.fill(1);
      const out = await convolve(gpu, mi, {
        kernel: { kind: 'gaussian', sigma: 1, size: 3 },
        edge: 'copy',
      });
      expect(out.image.data[0]).toBe(3);
      expect(out.image.data[W * W - 1]).toBe(3);
      expect(out.mask.data[W * W - 1]).toBe(1 << 4);
      expect(out.image.data[1000 * W + 1000]).toBeCloseTo(3, 5);
      expect(out.mask.data[1000 * W + 1000]).toBe(0);
    });

    it('reuses pooled buffers and caches pipelines by shader, entry point and constants', () => {
      const a = gpu.storage('a', 1000);
      gpu.pool.release(a);
      const b = gpu.storage('b', 1024);
      expect(b).toBe(a);
      expect(b.label).toBe('b');
      gpu.pool.release(b);
      const p1 = gpu.pipeline('convolve.wgsl', 'edge', { TILE_N: 1 });
      const p2 = gpu.pipeline('convolve.wgsl', 'edge', { TILE_N: 1 });
      const p3 = gpu.pipeline('convolve.wgsl', 'conv_h', { WG_X: 64, WG_Y: 1, TILE_N: 66 });
      expect(p2).toBe(p1);
      expect(p3).not.toBe(p1);
    });

    it('uploads shared-memory arrays across the staging chunk boundary and reads them back', async () => {
      const n = (9 << 20) / 4 + 3; // a little over 9 MiB: two staging chunks
      const src = allocFloat32(n);
      for (let i = 0; i < n; i++) src[i] = i * 0.5;
      const buf = gpu.storage('roundtrip', src.byteLength);
      gpu.upload(buf, src);
      const back = new Float32Array(n);
      await gpu.download(buf, back);
      gpu.pool.release(buf);
      expect(back[0]).toBe(0);
      expect(back[(8 << 20) / 4]).toBe(((8 << 20) / 4) * 0.5);
      expect(back[n - 1]).toBe((n - 1) * 0.5);
    });

    it('turns WebGPU errors into typed errors', async () => {
      await expect(
        gpu.scoped('oversized buffer', () => {
          gpu.device.createBuffer({
            size: 2 ** 52,
            usage: GPUBufferUsage.STORAGE,
            label: 'too big',
          });
        }),
      ).rejects.toSatisfy(
        (e: unknown) => e instanceof GpuValidationError || e instanceof GpuOutOfMemoryError,
      );
      await expect(
        gpu.scoped('bad pipeline', () => gpu.pipeline('convolve.wgsl', 'no_such_entry')),
      ).rejects.toBeInstanceOf(GpuValidationError);
      // The device is still usable afterwards.
      const mi = MaskedImage.create(8, 8);
      mi.image.data.fill(1);
      const out = await convolve(gpu, mi, { kernel: { kind: 'gaussian', sigma: 1, size: 3 } });
      expect(out.image.data[3 * 8 + 3]).toBeCloseTo(1, 6);
    });

    it('measures pass times with timestamp queries when the adapter has them', async () => {
      const mi = MaskedImage.create(256, 256);
      mi.image.data.fill(1);
      const { result, timing } = await gpu.profile(() =>
        convolve(gpu, mi, { kernel: { kind: 'gaussian', sigma: 2, size: 11 } }),
      );
      expect(result.width).toBe(256);
      expect(timing.totalMs).toBeGreaterThan(0);
      if (gpu.hasTimestamps) {
        expect(timing.passes.map((p) => p.label.split(' ').pop())).toEqual([
          'conv_h',
          'conv_v',
          'edge',
        ]);
      }
    });
  });

  describe.runIf(probe !== null)('lifetime', () => {
    it('reports a lost device as DeviceLostError', async () => {
      const g = await WebGpuBackend.create();
      g.device.destroy();
      await g.device.lost;
      expect(g.isLost).toBe(true);
      const mi = MaskedImage.create(8, 8);
      await expect(
        convolve(g, mi, { kernel: { kind: 'gaussian', sigma: 1, size: 3 } }),
      ).rejects.toBeInstanceOf(DeviceLostError);
      await g.dispose();
    });

    it('dispose() is idempotent and later use is a typed error', async () => {
      const g = await WebGpuBackend.create();
      await g.dispose();
      await g.dispose();
      const mi = MaskedImage.create(8, 8);
      await expect(
        convolve(g, mi, { kernel: { kind: 'gaussian', sigma: 1, size: 3 } }),
      ).rejects.toBeInstanceOf(BackendDisposedError);
    });
  });
});
