/**
 * FITS read benchmark: a 4096 x 4096 three-plane exposure (IMAGE float32, MASK int32,
 * VARIANCE float32) written uncompressed and GZIP_2-compressed into a temp directory;
 * times `readFits` (read + decode to native typed arrays), median of 5 after a warm-up,
 * and, when `python3 -c 'import astropy'` works, astropy reading the same files with
 * every plane converted to a native-order array. Prints one JSON object.
 *
 * Run: node --import tsx bench/fits-read.ts [--size 4096] [--runs 5]
 */

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFits, writeFits } from '../src/fits/index.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const size = arg('size', 4096);
const runs = arg('runs', 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Deterministic sky-like planes: noise around a background, a few bits in the mask. */
function planes(n: number): { image: Float32Array; mask: Int32Array; variance: Float32Array } {
  const npix = n * n;
  const image = new Float32Array(npix);
  const mask = new Int32Array(npix);
  const variance = new Float32Array(npix);
  let s = 12345;
  for (let i = 0; i < npix; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u = s / 4294967296;
    image[i] = 1000 + 30 * (u - 0.5);
    variance[i] = 900 + u;
    mask[i] = u < 0.01 ? 1 << (s % 9) : 0;
  }
  return { image, mask, variance };
}

async function timeNode(path: string): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    const f = await readFits(path);
    const t = performance.now() - t0;
    if (f.hdus.length !== 4) throw new Error('unexpected HDU count');
    if (r > 0) times.push(t); // run 0 is the warm-up
  }
  return times;
}

const PY = `
import sys, time, json
import numpy as np
from astropy.io import fits
path, runs = sys.argv[1], int(sys.argv[2])
times = []
for r in range(runs + 1):
    t0 = time.perf_counter()
    with fits.open(path, memmap=False) as hl:
        out = [np.ascontiguousarray(h.data, dtype=h.data.dtype.newbyteorder('=')) for h in hl[1:]]
    t = time.perf_counter() - t0
    if r > 0:
        times.append(t * 1000)
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

const python = findPython();

function timeAstropy(path: string): number[] | null {
  if (!python) return null;
  const out = execFileSync(python, ['-c', PY, path, String(runs)], { encoding: 'utf8' });
  return JSON.parse(out) as number[];
}

const dir = await mkdtemp(join(tmpdir(), 'fits-bench-'));
try {
  const { image, mask, variance } = planes(size);
  const shape = [size, size];
  const decodedBytes = image.byteLength + mask.byteLength + variance.byteLength;
  const files = {
    uncompressed: join(dir, 'exposure.fits'),
    gzip2: join(dir, 'exposure-gzip2.fits'),
  };
  const tw0 = performance.now();
  await writeFits(files.uncompressed, [
    { data: null },
    { name: 'IMAGE', data: image, shape },
    { name: 'MASK', data: mask, shape },
    { name: 'VARIANCE', data: variance, shape },
  ]);
  const tw1 = performance.now();
  const gz = { type: 'GZIP_2' } as const;
  await writeFits(files.gzip2, [
    { data: null },
    { name: 'IMAGE', data: image, shape, compression: gz },
    { name: 'MASK', data: mask, shape, compression: gz },
    { name: 'VARIANCE', data: variance, shape, compression: gz },
  ]);
  const tw2 = performance.now();
  const results: Record<string, unknown> = {};
  for (const [kind, path] of Object.entries(files)) {
    const fileBytes = (await stat(path)).size;
    const node = await timeNode(path);
    const astropy = timeAstropy(path);
    const mbps = (ms: number) => decodedBytes / 1e6 / (ms / 1000);
    results[kind] = {
      fileMB: fileBytes / 1e6,
      node: { medianMs: median(node), decodedMBps: mbps(median(node)), runsMs: node },
      ...(astropy
        ? {
            astropy: {
              medianMs: median(astropy),
              decodedMBps: mbps(median(astropy)),
              runsMs: astropy,
            },
          }
        : { astropy: null }),
    };
  }
  console.log(
    JSON.stringify(
      {
        bench: 'fits-read',
        size: [size, size],
        planes: ['IMAGE float32', 'MASK int32', 'VARIANCE float32'],
        decodedMB: decodedBytes / 1e6,
        runs,
        writeMs: { uncompressed: tw1 - tw0, gzip2: tw2 - tw1 },
        node: process.version,
        astropy: python
          ? execFileSync(python, ['-c', 'import astropy; print(astropy.__version__)'], {
              encoding: 'utf8',
            }).trim()
          : null,
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        results,
      },
      null,
      2,
    ),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
