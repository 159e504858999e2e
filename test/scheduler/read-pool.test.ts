/**
 * ReadPool: CCD inputs read and decoded on worker threads must come back exactly as the
 * main-thread readers return them (pixels bit for bit, on shared memory; mask planes,
 * WCS, PSF, calibration, visit info, metadata), and failures as the same error (class,
 * code, message, context, cause chain). Inputs: the simulator's calexp fixtures, written
 * exposures with every component, plain images with weight maps, astropy's real-world
 * test files, and broken files. Also: closing, and that neither the sources (tsx) nor
 * the built .js keep a process alive.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageHduInput } from '../../src/fits/hdu.ts';
import { Header } from '../../src/fits/header.ts';
import { writeFits } from '../../src/fits/writer.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { Exposure } from '../../src/image/exposure.ts';
import { ExposureError, isExposureError } from '../../src/image/exposure-errors.ts';
import {
  exposureToHdus,
  readExposure,
  readPlainImageWithWeight,
  writeExposure,
} from '../../src/image/exposure-fits.ts';
import { Mask, MaskPlaneDict } from '../../src/image/mask.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { PhotoCalib } from '../../src/image/photo-calib.ts';
import { isShared } from '../../src/image/pixel-buffer.ts';
import { DoubleGaussianPsf, GaussianPsf, ImagePsf } from '../../src/image/psf.ts';
import { SchedulerError } from '../../src/scheduler/errors.ts';
import { type ReadInput, ReadPool } from '../../src/scheduler/read-pool.ts';

const repo = new URL('../../', import.meta.url).pathname;
const simDir = join(repo, 'fixtures/sim/calexp');
const simCalexps = readdirSync(simDir)
  .sort()
  .flatMap((v) =>
    readdirSync(join(simDir, v))
      .filter((f) => f.endsWith('.fits'))
      .sort()
      .map((f) => join(simDir, v, f)),
  );
/** astropy's test files: the copy in fixtures/, and the shared data directory when present. */
const astropyFiles = [join(repo, 'fixtures/fits/astropy'), '/work/shared/data/astropy-fits']
  .filter((d) => existsSync(d))
  .flatMap((d) =>
    readdirSync(d)
      .filter((f) => /\.fits(\.Z)?$/.test(f))
      .map((f) => join(d, f)),
  );

let pool: ReadPool;
let dir: string;
beforeAll(async () => {
  pool = new ReadPool(2);
  dir = await mkdtemp(join(tmpdir(), 'read-pool-'));
});
afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The fields of an Exposure this comparison covers; a new field fails the test until added. */
const EXPOSURE_FIELDS = ['maskedImage', 'metadata', 'photoCalib', 'psf', 'visitInfo', 'wcs'];

function expectSameExposure(got: Exposure, want: Exposure): void {
  expect(Object.keys(want).sort()).toEqual(EXPOSURE_FIELDS);
  expect(got).toBeInstanceOf(Exposure);
  expect(got.width).toBe(want.width);
  expect(got.height).toBe(want.height);
  for (const p of ['image', 'mask', 'variance'] as const) {
    expect(got.maskedImage[p].xy0, p).toEqual(want.maskedImage[p].xy0);
    expect(got.maskedImage[p].data.constructor).toBe(want.maskedImage[p].data.constructor);
    // Bit for bit (NaN payloads and -0 included), and still on shared memory.
    expect(bytesOf(got.maskedImage[p].data).equals(bytesOf(want.maskedImage[p].data)), p).toBe(
      true,
    );
    expect(isShared(got.maskedImage[p].data), p).toBe(true);
  }
  expect(Object.entries(got.mask.planes.planes)).toEqual(Object.entries(want.mask.planes.planes));
  // Whole objects, private state included (rotation matrix, SIP polynomials, PSF kernel).
  expect(got.wcs).toStrictEqual(want.wcs);
  expect(got.psf).toStrictEqual(want.psf);
  expect(got.photoCalib).toStrictEqual(want.photoCalib);
  expect(got.visitInfo).toStrictEqual(want.visitInfo);
  expect(got.metadata).toBeInstanceOf(Header);
  expect(got.metadata.cards).toStrictEqual(want.metadata.cards);
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Same class, message, own fields and cause chain (stacks differ: other thread). */
function expectSameError(got: unknown, want: unknown, depth = 0): void {
  expect(got, `cause depth ${depth}`).toBeInstanceOf(Error);
  const g = got as Error;
  const w = want as Error;
  expect(g.constructor, `cause depth ${depth}: ${w.message}`).toBe(w.constructor);
  expect(g.name).toBe(w.name);
  expect(g.message).toBe(w.message);
  const own = (e: Error) =>
    Object.fromEntries(
      Object.entries(e).filter(([, v]) => v === null || typeof v !== 'object'),
    ) as Record<string, unknown>;
  expect(own(g)).toEqual(own(w));
  expect(Object.keys(g).sort()).toEqual(Object.keys(w).sort());
  expect(Object.hasOwn(g, 'cause')).toBe(Object.hasOwn(w, 'cause'));
  if (w.cause instanceof Error) expectSameError(g.cause, w.cause, depth + 1);
  else expect(g.cause).toBe(w.cause);
}

/** Reads `input` on the pool and on this thread; both must succeed alike or fail alike. */
async function compare(input: ReadInput): Promise<Outcome<Exposure>> {
  const [got, want] = await Promise.all([
    outcome(pool.read(input)),
    outcome(
      input.weightPath
        ? readPlainImageWithWeight(input.path, input.weightPath)
        : readExposure(input.path),
    ),
  ]);
  if (!want.ok) {
    expect(got.ok, `${input.path} was read by the pool but not on the main thread`).toBe(false);
    expectSameError((got as { error: unknown }).error, want.error);
    return want;
  }
  if (!got.ok) throw got.error;
  expectSameExposure(got.value.exposure, want.value);
  return want;
}

function fileBytes(input: ReadInput): number {
  return statSync(input.path).size + (input.weightPath ? statSync(input.weightPath).size : 0);
}

/** A 41 x 29 exposure at xy0 (-7, 300) with every component and a pattern in each plane. */
function fullExposure(): Exposure {
  const planes = new MaskPlaneDict().withPlane('STREAK').withPlane('CROSSTALK');
  const metadata = new Header();
  metadata.set('OBSERVER', 'sim', 'who');
  metadata.set('SEEING', 0.71, '[arcsec]');
  metadata.set('BIGINT', 12345678901234567890n);
  metadata.addHistory('made by read-pool.test');
  metadata.addComment('a comment');
  const wcs = Wcs.tanSip({
    crpix: [1000.5, -300.25],
    crval: [359.99, -28.2],
    cd: [
      [-5.5e-5, 1.2e-6],
      [1.1e-6, 5.5e-5],
    ],
    radesys: 'FK5',
    equinox: 2000,
    sip: {
      a: { order: 2, coefficients: [[0, 0, 2e-7], [0, -3e-7], [4e-7]] },
      b: { order: 2, coefficients: [[0, 0, -1e-7], [0, 2e-7], [1e-7]] },
      ap: { order: 2, coefficients: [[0, 0, -2e-7], [0, 3e-7], [-4e-7]] },
      bp: { order: 2, coefficients: [[0, 0, 1e-7], [0, -2e-7], [-1e-7]] },
    },
  });
  const w = 41;
  const h = 29;
  const xy0 = { x: -7, y: 300 };
  const mi = MaskedImage.create(w, h, { xy0 });
  const withPlanes = new MaskedImage(mi.image, new Mask(w, h, { xy0, planes }), mi.variance);
  for (let i = 0; i < w * h; i++) {
    withPlanes.image.data[i] = Math.sin(i * 0.37) * 100 + i * 1e-3;
    withPlanes.variance.data[i] = 10 + (i % 17) / 3;
    withPlanes.mask.data[i] =
      i % 5 === 0 ? planes.bitMask('STREAK') : i % 7 === 0 ? planes.bitMask('SAT', 'CR') : 0;
  }
  withPlanes.image.data[5] = Number.NaN;
  withPlanes.image.data[8] = -0;
  withPlanes.variance.data[6] = Number.POSITIVE_INFINITY;
  return new Exposure(withPlanes, {
    wcs,
    psf: new DoubleGaussianPsf(21, 19, 1.6, 3.5, 0.1),
    photoCalib: new PhotoCalib(0.57, 0.003),
    visitInfo: {
      visit: 2024110800123,
      detector: 94,
      band: 'r',
      physicalFilter: 'r_57',
      exposureTime: 30,
      mjd: 60622.123456789,
      instrument: 'LSSTCam',
      boresightRa: 53.1,
      boresightDec: -28.2,
      rotationAngle: Number.NaN,
    },
    metadata,
  });
}

describe('ReadPool decodes like the main-thread readers', () => {
  it('the simulator calexps (GZIP_2, image PSFs, TAN-SIP), all queued at once', async () => {
    expect(simCalexps.length).toBeGreaterThanOrEqual(8);
    const reads = simCalexps.map((path) => pool.read({ path }));
    const results = await Promise.all(reads);
    for (const [i, path] of simCalexps.entries()) {
      const r = results[i]!;
      expectSameExposure(r.exposure, await readExposure(path));
      expect(r.bytes).toBe(fileBytes({ path }));
      expect(r.ms).toBeGreaterThan(0);
    }
    // The fixtures exercise what the comparison is meant to cover.
    expect(results.every((r) => r.exposure.psf !== null && r.exposure.wcs !== null)).toBe(true);
    expect(results.some((r) => r.exposure.psf?.kind === 'image')).toBe(true);
    expect(results.some((r) => r.exposure.visitInfo !== null)).toBe(true);
  });

  it.each(['none', 'gzip2'] as const)(
    'a written exposure with every component (compress %s)',
    async (compress) => {
      const path = join(dir, `full-${compress}.fits`);
      await writeExposure(path, fullExposure(), { compress });
      const want = await compare({ path });
      expect(want.ok).toBe(true);
      const e = (want as { value: Exposure }).value;
      expect(e.wcs?.hasSipInverse).toBe(true);
      expect(e.psf?.kind).toBe('double-gaussian');
      expect(e.mask.planes.has('CROSSTALK')).toBe(true);
      expect(e.metadata.get('BIGINT')).toBe(12345678901234567890n);
    },
  );

  it('an exposure without WCS, calibration or visit info, and one with a Gaussian PSF', async () => {
    const bare = Exposure.create(16, 9);
    bare.image.data.fill(3.5);
    const barePath = join(dir, 'bare.fits');
    await writeExposure(barePath, bare);
    const b = await compare({ path: barePath });
    expect(b.ok && b.value.wcs === null && b.value.psf === null).toBe(true);

    const gauss = Exposure.create(16, 9, {
      xy0: { x: 4, y: 5 },
      psf: new GaussianPsf(15, 15, 2.25),
      wcs: Wcs.tan({
        crpix: [3, 4],
        crval: [10, 89.5],
        cd: [
          [-1e-4, 0],
          [0, 1e-4],
        ],
      }),
    });
    const gaussPath = join(dir, 'gauss.fits');
    await writeExposure(gaussPath, gauss, { compress: 'gzip2' });
    const g = await compare({ path: gaussPath });
    expect(g.ok && g.value.psf?.kind).toBe('gaussian');
  });

  it('an image PSF extension holding an unnormalized kernel (as another writer may)', async () => {
    // The pool rebuilds the PSF from the extension's own values, as the reader does,
    // not from the kernel the worker normalized.
    const n = 25;
    const data = Float64Array.from({ length: n * n }, (_, i) => {
      const dx = (i % n) - 12;
      const dy = Math.floor(i / n) - 12;
      return 3 * Math.exp(-(dx * dx + dy * dy) / 8) * (1 + 0.01 * Math.sin(i));
    });
    const psf = new ImagePsf({ width: n, height: n, data });
    const hdus = exposureToHdus(Exposure.create(8, 8, { psf }), { compress: 'gzip2' });
    const psfHdu = hdus[4] as ImageHduInput;
    expect(psfHdu.name).toBe('PSF');
    hdus[4] = { ...psfHdu, data };
    const path = join(dir, 'image-psf.fits');
    await writeFits(path, hdus);
    const o = await compare({ path });
    expect(o.ok && o.value.psf?.kind).toBe('image');
  });

  it('a plain image with its weight map (variance, NO_DATA, WCS, xy0 from LTV)', async () => {
    const w = 23;
    const h = 17;
    const img = new Float32Array(w * h);
    const wt = new Float32Array(w * h);
    for (let i = 0; i < w * h; i++) {
      img[i] = 100 + 10 * Math.cos(i * 0.7);
      wt[i] = i % 11 === 0 ? 0 : 1 / (50 + (i % 13));
    }
    img[3] = Number.NaN;
    const header = new Header();
    for (const c of Wcs.tan({
      crpix: [11, 8],
      crval: [150.1, 2.2],
      cd: [
        [-5e-5, 0],
        [0, 5e-5],
      ],
    }).toFitsCards())
      header.set(c.key, c.value, c.comment);
    header.set('LTV1', -100);
    header.set('LTV2', -40);
    header.set('OBJECT', 'field 7');
    const path = join(dir, 'plain.fits');
    const weightPath = join(dir, 'plain.weight.fits');
    await writeFits(path, [{ header, data: img, shape: [w, h] }]);
    await writeFits(weightPath, [{ data: wt, shape: [w, h] }]);
    const want = await compare({ path, weightPath });
    expect(want.ok).toBe(true);
    const e = (want as { value: Exposure }).value;
    const noData = e.mask.planes.bitMask('NO_DATA');
    expect(e.mask.data.filter((m) => m === noData).length).toBeGreaterThan(0);
    expect(e.xy0).toEqual({ x: 100, y: 40 });
    const r = await pool.read({ path, weightPath });
    expect(r.bytes).toBe(fileBytes({ path, weightPath }));
  });

  it("astropy's real-world test files, as calexps and as plain images (weight = itself)", async () => {
    expect(astropyFiles.length).toBeGreaterThan(20);
    let decoded = 0;
    let failed = 0;
    for (const path of astropyFiles) {
      for (const input of [{ path }, { path, weightPath: path }]) {
        const o = await compare(input);
        if (o.ok) decoded++;
        else failed++;
      }
    }
    // Both branches of the comparison ran on these files.
    expect(decoded).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
  });
});

describe('ReadPool errors are the readers own', () => {
  let good: string;
  beforeAll(async () => {
    good = join(dir, 'good.fits');
    await writeExposure(good, fullExposure(), { compress: 'gzip2' });
  });

  async function expectSame(input: ReadInput, code: string): Promise<void> {
    const o = await compare(input);
    expect(o.ok).toBe(false);
    const err = (o as { error: unknown }).error;
    expect(isExposureError(err)).toBe(true);
    expect((err as ExposureError).code).toBe(code);
    // And what the scheduler branches on, on the pool's error itself.
    const got = await outcome(pool.read(input));
    expect(!got.ok && got.error instanceof ExposureError && got.error.code).toBe(code);
    expect(!got.ok && (got.error as ExposureError).file).toBe((err as ExposureError).file);
  }

  it('truncated files', async () => {
    // Cut inside a compressed data unit: the reader reports it as truncated.
    const path = join(dir, 'truncated.fits');
    const sim = readFileSync(simCalexps[0]!);
    await writeFile(path, sim.subarray(0, Math.floor(sim.length / 2)));
    await expectSame({ path }, 'EXPOSURE_BAD_FITS');
    const err = (await outcome(pool.read({ path }))) as { error: Error };
    expect((err.error.cause as { code: string }).code).toBe('FITS_TRUNCATED');
    // Cut elsewhere: whatever the reader says (a missing plane; nothing, when only the
    // last block's padding is gone), the pool says too.
    const bytes = readFileSync(good);
    let failed = 0;
    for (const fraction of [0.1, 0.35, 0.6, 0.85, 0.99]) {
      const cut = join(dir, `cut-${fraction}.fits`);
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * fraction)));
      if (!(await compare({ path: cut })).ok) failed++;
    }
    expect(failed).toBeGreaterThanOrEqual(4);
  });

  it('a corrupt compressed tile (zlib data check)', async () => {
    const path = join(dir, 'corrupt.fits');
    const sim = readFileSync(simCalexps[0]!);
    const bytes = Buffer.from(sim);
    const at = Math.floor(bytes.length * 0.4);
    for (let i = 0; i < 64; i++) bytes[at + i]! ^= 0x5a;
    await writeFile(path, bytes);
    await expectSame({ path }, 'EXPOSURE_BAD_FITS');
    const err = (await outcome(pool.read({ path }))) as { error: Error };
    expect((err.error.cause as { code: string }).code).toBe('FITS_DECOMPRESS');
  });

  it('not FITS, a missing file, a missing weight map, a weight map of another size', async () => {
    const text = join(dir, 'text.fits');
    await writeFile(text, 'this is not a FITS file\n'.repeat(200));
    await expectSame({ path: text }, 'EXPOSURE_BAD_FITS');
    await expectSame({ path: join(dir, 'absent.fits') }, 'EXPOSURE_IO');
    const plain = join(dir, 'p.fits');
    await writeFits(plain, [{ data: new Float32Array(12), shape: [4, 3] }]);
    await expectSame({ path: plain, weightPath: join(dir, 'absent.weight.fits') }, 'EXPOSURE_IO');
    const small = join(dir, 'p.weight.fits');
    await writeFits(small, [{ data: new Float32Array(6), shape: [3, 2] }]);
    await expectSame({ path: plain, weightPath: small }, 'EXPOSURE_SHAPE_MISMATCH');
  });

  it('a singular WCS and mask bits no plane names', async () => {
    const e = fullExposure();
    const header = new Header();
    for (const c of e.wcs!.toFitsCards()) header.set(c.key, c.value, c.comment);
    header.set('CD2_2', 0);
    header.set('CD2_1', 0);
    const path = join(dir, 'singular.fits');
    await writeFits(path, [
      { header, data: new Float32Array(12), shape: [4, 3] },
      { data: new Float32Array(12), shape: [4, 3] },
    ]);
    await expectSame({ path, weightPath: path }, 'EXPOSURE_BAD_WCS');

    // A bit-8 pixel, and the MASK header's MP_NO_DATA = 8 renamed (same length), so no
    // plane names bit 8 any more.
    const bits = join(dir, 'bits.fits');
    const masked = Exposure.create(4, 3);
    masked.mask.data[0] = 1 << 8;
    await writeExposure(bits, masked);
    const text = readFileSync(bits).toString('latin1');
    expect(text).toContain('MP_NO_DATA');
    await writeFile(bits, Buffer.from(text.replace('MP_NO_DATA', 'XP_NO_DATA'), 'latin1'));
    await expectSame({ path: bits }, 'EXPOSURE_UNKNOWN_MASK_BITS');
  });
});

describe('ReadPool lifetime', () => {
  it('close() rejects reads in flight and later ones with READ_POOL_CLOSED; idempotent', async () => {
    const p = new ReadPool(1);
    const inFlight = [p.read({ path: simCalexps[0]! }), p.read({ path: simCalexps[1]! })].map(
      outcome,
    );
    await p.close();
    for (const r of await Promise.all(inFlight)) {
      expect(r.ok).toBe(false);
      const e = (r as { error: unknown }).error;
      expect(e).toBeInstanceOf(SchedulerError);
      expect((e as SchedulerError).code).toBe('READ_POOL_CLOSED');
    }
    await expect(p.read({ path: simCalexps[0]! })).rejects.toMatchObject({
      code: 'READ_POOL_CLOSED',
    });
    await p.close();
  });

  it('threads: 0 is one per core; a negative count is refused', () => {
    expect(new ReadPool(0).threads).toBeGreaterThanOrEqual(1);
    expect(new ReadPool(3.7).threads).toBe(3);
    expect(() => new ReadPool(-1)).toThrow(SchedulerError);
  });

  /** A script that reads one calexp through a pool it never closes, and prints a digest. */
  const script = (from: string, ext: string) => `
    import { ReadPool } from '${from}/src/scheduler/read-pool.${ext}';
    import { readExposure } from '${from}/src/image/exposure-fits.${ext}';
    const path = ${JSON.stringify(simCalexps[0])};
    const pool = new ReadPool(2);
    const [a, b] = await Promise.all([pool.read({ path }), pool.read({ path: ${JSON.stringify(simCalexps[1])} })]);
    const m = await readExposure(path);
    const same = Buffer.compare(Buffer.from(a.exposure.image.data.buffer), Buffer.from(m.image.data.buffer)) === 0
      && JSON.stringify(a.exposure.wcs) === JSON.stringify(m.wcs) && b.exposure.width > 0;
    console.log(JSON.stringify({ same, width: a.exposure.width }));
    // No close(): idle workers must not keep the process alive.
  `;

  function runScript(
    file: string,
    args: string[],
  ): { code: number | null; out: string; ms: number } {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...args, file], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, ms: performance.now() - t0 };
  }

  it('from the sources (tsx): works, and an unclosed idle pool lets the process exit', async () => {
    const file = join(dir, 'from-src.mts');
    await writeFile(file, script(repo.replace(/\/$/, ''), 'ts'));
    const r = runScript(file, ['--import', 'tsx']);
    expect(r.code, r.out).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').at(-1)!)).toEqual({ same: true, width: 256 });
  });

  it('from built .js (tsc): works, and an unclosed idle pool lets the process exit', async () => {
    // Compile this module's import graph (and the pool's worker entry, which is loaded by
    // URL) as `npm run build` does, into the git-ignored tmp/ so node_modules resolve.
    const root = join(repo, 'tmp');
    mkdirSync(root, { recursive: true });
    const out = await mkdtemp(join(root, 'read-pool-dist-'));
    try {
      const config = join(out, 'tsconfig.json');
      await writeFile(
        config,
        JSON.stringify({
          extends: join(repo, 'tsconfig.json'),
          compilerOptions: {
            outDir: join(out, 'dist'),
            rootDir: repo,
            declaration: false,
            sourceMap: false,
            // Types are the typecheck's business; other files may be mid-edit.
            noCheck: true,
          },
          files: [
            join(repo, 'src/scheduler/read-pool.ts'),
            join(repo, 'src/scheduler/read-worker.ts'),
            join(repo, 'src/compute/cpu/worker.ts'),
          ],
          include: [],
        }),
      );
      const tsc = spawnSync(
        process.execPath,
        [join(repo, 'node_modules/typescript/bin/tsc'), '-p', config],
        { cwd: repo, encoding: 'utf8', timeout: 120_000 },
      );
      expect(tsc.status, `${tsc.stdout}${tsc.stderr}`).toBe(0);
      const dist = join(out, 'dist');
      expect(existsSync(join(dist, 'src/scheduler/read-worker.js'))).toBe(true);
      const file = join(out, 'from-dist.mjs');
      await writeFile(file, script(dist, 'js'));
      const r = runScript(file, []);
      expect(r.code, r.out).toBe(0);
      expect(JSON.parse(r.out.trim().split('\n').at(-1)!)).toEqual({ same: true, width: 256 });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
