/**
 * FITS write benchmark: a 4096 x 4096 three-plane exposure (IMAGE float32, MASK int32,
 * VARIANCE float32; 201 MB of pixels) written with DATASUM/CHECKSUM (the writer's
 * default), against raw disk writes of the same byte counts measured in the same run.
 *
 * Each run times, in turn (so all cases see the same machine load):
 * - `raw`: `open` + one `write` of a buffer the size of the uncompressed file + `fsync`,
 *   and `rawChunked`, the same in 4 MiB writes (on the development VM one 201 MB write
 *   is often the slower of the two; ratios use the faster);
 * - `writeFits`: uncompressed, through `writeFits` (temporary file, pixels encoded chunk
 *   by chunk while the previous chunk is written, headers after their data, `fsync`,
 *   rename);
 * - `fitsToBytes`: the in-memory encode alone (a fresh 201 MB result);
 * - `fitsChunks`: the streaming encode alone (every chunk produced, nothing kept);
 * - `writeFitsGzip2`: GZIP_2 tile compression, one row per tile (LSST's default recipe),
 *   and `rawGzip2`, a raw write of that file's size.
 * Wall times and this process's CPU times (user + system, all threads: less sensitive to
 * other load on a shared machine) are recorded; run 0 is a warm-up. When `python3` has
 * astropy, its `writeto(checksum=True)` (+ fsync) of the same planes is timed too.
 *
 * Writes bench/results/fits-write-<size>.json and prints it.
 * Run: npx tsx bench/fits-write.ts [--size 4096] [--runs 5] [--dir /path/on/the/disk]
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitsChunks, fitsToBytes, type HduInput, writeFits } from '../src/fits/index.ts';
import { cliArg, machineFacts, median, skyPlanes, wallAndCpu } from './harness.ts';

const size = Number(cliArg('size', '4096'));
const runs = Number(cliArg('runs', '5'));
const baseDir = cliArg('dir', tmpdir());

/** open + write (`piece` bytes per call, default all at once) + fsync + close. */
async function rawWrite(path: string, bytes: Uint8Array, piece = bytes.length): Promise<void> {
  const fh = await open(path, 'w');
  try {
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(piece, bytes.length - off);
      off += (await fh.write(bytes, off, n, off)).bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const PY = `
import sys, os, time, json
import numpy as np
from astropy.io import fits
n, runs, path, compress = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == 'gzip2'
i = np.arange(n * n, dtype=np.uint64)
# Same kind of content as the Node side (not the same values: timing only).
rng = np.random.default_rng(12345)
u = rng.random(n * n, dtype=np.float64)
image = (1000 + 30 * (u - 0.5)).astype(np.float32).reshape(n, n)
variance = (900 + u).astype(np.float32).reshape(n, n)
mask = np.where(u < 0.01, 1 << (i % 9).astype(np.int32), 0).astype(np.int32).reshape(n, n)
def hdus():
    if compress:
        mk = lambda d, name: fits.CompImageHDU(d, name=name, compression_type='GZIP_2', tile_shape=(1, n))
    else:
        mk = lambda d, name: fits.ImageHDU(d, name=name)
    return fits.HDUList([fits.PrimaryHDU(), mk(image, 'IMAGE'), mk(mask, 'MASK'), mk(variance, 'VARIANCE')])
times = []
for r in range(runs + 1):
    t0 = time.perf_counter()
    with open(path, 'wb') as f:
        hdus().writeto(f, checksum=True)
        f.flush()
        os.fsync(f.fileno())
    t = time.perf_counter() - t0
    if r > 0:
        times.append(t * 1000)
    os.remove(path)
print(json.dumps(times))
`;

/** The first Python that has astropy: $PYTHON, python3, then Debian's /usr/bin/python3. */
function findPython(): string | null {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  );
  for (const py of candidates) {
    try {
      execFileSync(py, ['-c', 'import astropy'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return null;
}

const dir = await mkdtemp(join(baseDir, 'fits-write-bench-'));
const load0 = loadavg();
try {
  const { image, mask, variance } = skyPlanes(size);
  const shape = [size, size];
  const pixelBytes = image.byteLength + mask.byteLength + variance.byteLength;
  const hdus: HduInput[] = [
    { data: null },
    { name: 'IMAGE', data: image, shape },
    { name: 'MASK', data: mask, shape },
    { name: 'VARIANCE', data: variance, shape },
  ];
  const gz = { type: 'GZIP_2' } as const;
  const gzHdus: HduInput[] = [
    { data: null },
    { name: 'IMAGE', data: image, shape, compression: gz },
    { name: 'MASK', data: mask, shape, compression: gz },
    { name: 'VARIANCE', data: variance, shape, compression: gz },
  ];
  const fileBytes = fitsChunks(hdus).byteLength;
  const rawBuffer = new Uint8Array(fileBytes).fill(1);
  let gzBytes = 0;
  const cases = [
    'raw',
    'rawChunked',
    'writeFits',
    'fitsToBytes',
    'fitsChunks',
    'writeFitsGzip2',
    'rawGzip2',
  ] as const;
  const wall: Record<(typeof cases)[number], number[]> = {
    raw: [],
    rawChunked: [],
    writeFits: [],
    fitsToBytes: [],
    fitsChunks: [],
    writeFitsGzip2: [],
    rawGzip2: [],
  };
  const cpu: typeof wall = {
    raw: [],
    rawChunked: [],
    writeFits: [],
    fitsToBytes: [],
    fitsChunks: [],
    writeFitsGzip2: [],
    rawGzip2: [],
  };
  const record = (name: (typeof cases)[number], r: number, t: { wall: number; cpu: number }) => {
    if (r === 0) return; // warm-up
    wall[name].push(t.wall);
    cpu[name].push(t.cpu);
  };
  for (let r = 0; r <= runs; r++) {
    const rawPath = join(dir, `raw-${r}.bin`);
    record('raw', r, await wallAndCpu(() => rawWrite(rawPath, rawBuffer)));
    await rm(rawPath);
    record('rawChunked', r, await wallAndCpu(() => rawWrite(rawPath, rawBuffer, 1 << 22)));
    await rm(rawPath);
    const path = join(dir, `exposure-${r}.fits`);
    record('writeFits', r, await wallAndCpu(() => writeFits(path, hdus)));
    if ((await stat(path)).size !== fileBytes) throw new Error('unexpected file size');
    await rm(path);
    let encoded: Uint8Array | null = null;
    record(
      'fitsToBytes',
      r,
      await wallAndCpu(() => {
        encoded = fitsToBytes(hdus);
      }),
    );
    if ((encoded as Uint8Array | null)?.length !== fileBytes) throw new Error('encode size');
    encoded = null;
    let streamed = 0;
    record(
      'fitsChunks',
      r,
      await wallAndCpu(() => {
        for (const chunk of fitsChunks(hdus)) streamed += chunk.length;
      }),
    );
    if (streamed !== fileBytes) throw new Error('chunks size');
    const gzPath = join(dir, `exposure-gzip2-${r}.fits`);
    record('writeFitsGzip2', r, await wallAndCpu(() => writeFits(gzPath, gzHdus)));
    gzBytes = (await stat(gzPath)).size;
    await rm(gzPath);
    const rawGz = join(dir, `raw-gz-${r}.bin`);
    record('rawGzip2', r, await wallAndCpu(() => rawWrite(rawGz, rawBuffer.subarray(0, gzBytes))));
    await rm(rawGz);
  }
  const python = findPython();
  const astropy = python
    ? {
        version: execFileSync(python, ['-c', 'import astropy; print(astropy.__version__)'], {
          encoding: 'utf8',
        }).trim(),
        uncompressedMs: median(
          JSON.parse(
            execFileSync(
              python,
              ['-c', PY, String(size), String(runs), join(dir, 'astropy.fits'), 'none'],
              { encoding: 'utf8' },
            ),
          ) as number[],
        ),
        gzip2Ms: median(
          JSON.parse(
            execFileSync(
              python,
              ['-c', PY, String(size), String(runs), join(dir, 'astropy-gz.fits'), 'gzip2'],
              { encoding: 'utf8' },
            ),
          ) as number[],
        ),
      }
    : null;
  const med = (xs: number[]) => median(xs);
  const m = Object.fromEntries(cases.map((c) => [c, med(wall[c])])) as Record<
    (typeof cases)[number],
    number
  >;
  const mc = Object.fromEntries(cases.map((c) => [c, med(cpu[c])])) as typeof m;
  const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
  const rawBest = Math.min(m.raw, m.rawChunked);
  const load1 = loadavg();
  const result = {
    bench: 'fits-write',
    description:
      'writeFits of a 3-plane exposure with DATASUM/CHECKSUM vs raw write+fsync of the same byte count, alternated in one run; encode-only cases in memory',
    size: [size, size],
    planes: ['IMAGE float32', 'MASK int32', 'VARIANCE float32'],
    pixelBytes,
    fileBytes,
    gzip2FileBytes: gzBytes,
    runs,
    medianWallMs: m,
    medianCpuMs: mc,
    runsWallMs: wall,
    runsCpuMs: cpu,
    MBps: {
      raw: mbps(fileBytes, m.raw),
      rawChunked: mbps(fileBytes, m.rawChunked),
      writeFits: mbps(fileBytes, m.writeFits),
      fitsToBytes: mbps(fileBytes, m.fitsToBytes),
      fitsChunks: mbps(fileBytes, m.fitsChunks),
      writeFitsGzip2PixelMBps: mbps(pixelBytes, m.writeFitsGzip2),
    },
    /** Against the faster raw pattern (one write or 4 MiB writes). */
    ratioToRaw: {
      writeFits: rawBest / m.writeFits,
      writeFitsGzip2: m.rawGzip2 / m.writeFitsGzip2,
    },
    astropy,
    machine: {
      ...machineFacts(),
      cores: cpus().length,
      loadavgBefore: load0,
      loadavgAfter: load1,
    },
  };
  const out = join(import.meta.dirname, 'results', `fits-write-${size}.json`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(`${out}.tmp-${process.pid}`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${out}.tmp-${process.pid}`, out);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${out}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
