/**
 * Exposure I/O on the streaming FITS paths (src/image/exposure-fits.ts): planes read
 * from a path or bytes land on SharedArrayBuffer memory and are adopted without a copy;
 * `exposureToChunks` yields the bytes of `exposureToBytes`, which `writeExposure` writes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFits } from '../../src/fits/index.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { Exposure } from '../../src/image/exposure.ts';
import {
  exposureFromFits,
  exposureToBytes,
  exposureToChunks,
  readExposure,
  writeExposure,
} from '../../src/image/exposure-fits.ts';
import { DoubleGaussianPsf } from '../../src/image/psf.ts';

const dir = await mkdtemp(join(tmpdir(), 'exposure-streaming-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A 1031 x 1029 exposure (each plane > 4 MiB: two encoder chunks), odd xy0. */
function makeExposure(): Exposure {
  const w = 1031;
  const h = 1029;
  const exp = Exposure.create(w, h, {
    xy0: { x: 17, y: -4 },
    wcs: Wcs.tan({
      crpix: [500, 500],
      crval: [150, 2],
      cd: [
        [-5.5e-5, 0],
        [0, 5.5e-5],
      ],
    }),
    psf: new DoubleGaussianPsf(15, 15, 1.8),
  });
  let s = 99;
  for (let i = 0; i < w * h; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    exp.image.data[i] = 1000 + s / 2 ** 26;
    exp.variance.data[i] = 900 + (s & 0xfff);
    exp.mask.data[i] = s % 97 === 0 ? 1 << (s % 9) : 0;
  }
  exp.image.data[5] = Number.NaN;
  return exp;
}

function expectSamePixels(a: Exposure, b: Exposure): void {
  expect(a.width).toBe(b.width);
  expect(a.height).toBe(b.height);
  expect(a.xy0).toEqual(b.xy0);
  for (const [x, y] of [
    [a.image.data, b.image.data],
    [a.mask.data, b.mask.data],
    [a.variance.data, b.variance.data],
  ] as const) {
    const bx = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    const by = Buffer.from(y.buffer, y.byteOffset, y.byteLength);
    expect(bx.equals(by)).toBe(true);
  }
}

function planesShared(e: Exposure): void {
  for (const d of [e.image.data, e.mask.data, e.variance.data]) {
    expect(d.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(d.byteOffset).toBe(0);
    expect(d.length).toBe(e.width * e.height);
  }
}

describe('exposure I/O on the streaming paths', () => {
  it('writeExposure writes the bytes of exposureToBytes and of exposureToChunks', async () => {
    const exp = makeExposure();
    for (const compress of ['none', 'gzip2'] as const) {
      const bytes = exposureToBytes(exp, { compress });
      const chunks = exposureToChunks(exp, { compress });
      expect(chunks.byteLength).toBe(bytes.length);
      const parts: Buffer[] = [];
      for (const c of chunks) parts.push(Buffer.from(c)); // copies: views are reused
      expect(Buffer.concat(parts).equals(Buffer.from(bytes)), compress).toBe(true);
      const path = join(dir, `exp-${compress}.fits`);
      await writeExposure(path, exp, { compress });
      expect((await readFile(path)).equals(Buffer.from(bytes)), compress).toBe(true);
      // Checksums written on every HDU verify.
      const f = await readFits(path, { verifyChecksum: true, decompress: false });
      for (const hdu of f.hdus) expect(hdu.header.has('DATASUM')).toBe(true);
    }
  });

  it('readExposure from a path and from bytes: the same pixels, planes on shared memory', async () => {
    const exp = makeExposure();
    const path = join(dir, 'read.fits');
    await writeExposure(path, exp);
    const fromPath = await readExposure(path);
    const fromBytes = await readExposure(new Uint8Array(await readFile(path)));
    for (const back of [fromPath, fromBytes]) {
      expectSamePixels(back, exp);
      planesShared(back);
      expect(back.wcs?.pixelToSky(10, 20)).toEqual(exp.wcs?.pixelToSky(10, 20));
      expect(back.psf?.computeKernelImage().data).toEqual(exp.psf?.computeKernelImage().data);
    }
  });

  it('readExposure of a GZIP_2 file: planes decompressed straight onto shared memory', async () => {
    const exp = makeExposure();
    const path = join(dir, 'read-gzip2.fits');
    await writeExposure(path, exp, { compress: 'gzip2' });
    const fits = await readFits(path, { sharedMemory: true });
    const back = exposureFromFits(fits);
    expect(back.image.data === fits.image('IMAGE').data).toBe(true);
    planesShared(back);
    expectSamePixels(back, exp);
    const viaReadExposure = await readExposure(path);
    planesShared(viaReadExposure);
    expectSamePixels(viaReadExposure, exp);
  });

  it('mask bits no plane names are refused wherever they sit (any lane, the tail)', async () => {
    const exp = makeExposure();
    const n = exp.width * exp.height; // 1060899 = 4k + 3: a tail after the 4-wide loop
    for (const at of [1, 2, n - 1]) {
      const m = exp.mask.data;
      const before = m[at]!;
      m[at] = before | (1 << 20);
      expect(() => exposureToBytes(exp), `pixel ${at}`).toThrow(
        expect.objectContaining({ code: 'EXPOSURE_UNKNOWN_MASK_BITS' }),
      );
      const path = join(dir, `bad-mask-${at}.fits`);
      await expect(writeExposure(path, exp)).rejects.toMatchObject({
        code: 'EXPOSURE_UNKNOWN_MASK_BITS',
      });
      await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
      m[at] = before;
    }
    expect(exposureToBytes(exp).length).toBeGreaterThan(0);
  });

  it('exposureFromFits adopts shared planes and copies the others onto shared memory', async () => {
    const exp = makeExposure();
    const path = join(dir, 'adopt.fits');
    await writeExposure(path, exp);
    const shared = await readFits(path, { sharedMemory: true });
    const adopted = exposureFromFits(shared);
    expect(adopted.image.data === shared.image('IMAGE').data).toBe(true);
    expect(adopted.mask.data === shared.image('MASK').data).toBe(true);
    expect(adopted.variance.data === shared.image('VARIANCE').data).toBe(true);
    const plain = await readFits(path);
    const copied = exposureFromFits(plain);
    // (A boolean: vitest's not.toBe on 4 MB arrays spends seconds building its message.)
    expect(copied.image.data === plain.image('IMAGE').data).toBe(false);
    planesShared(copied);
    expectSamePixels(copied, exp);
    expectSamePixels(adopted, exp);
  });
});
