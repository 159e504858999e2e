/**
 * FITS read benchmark: a 4096 x 4096 three-plane exposure (IMAGE float32, MASK int32,
 * VARIANCE float32) written uncompressed and GZIP_2-compressed into a temp directory;
 * times, median of 5 after a warm-up, alternating within each run so every case sees
 * the same machine load:
 * - `readFits` (headers, then each data unit read into its own memory and decoded to
 *   native typed arrays), plain and with `sharedMemory` (pixels on SharedArrayBuffer, as
 *   src/image wants them);
 * - `readExposure` (what the datastore's get does for a local file: shared planes
 *   adopted without a copy, WCS, mask planes);
 * - `readFile` of the same file (the raw page-cache read the datastore is measured
 *   against: nothing is dropped from the page cache, so all reads are cache reads);
 * and, when a Python with astropy is found, astropy reading the same files with every
 * plane converted to a native-order array. Wall times and this process's CPU times
 * (less sensitive to other load on a shared machine) are recorded.
 *
 * Writes bench/results/fits-read-<size>.json and prints it.
 * Run: npx tsx bench/fits-read.ts [--size 4096] [--runs 5]
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header, readFits, writeFits } from '../src/fits/index.ts';
import { readExposure } from '../src/image/exposure-fits.ts';
import { cliArg, machineFacts, skyPlanes, wallAndCpu } from './harness.ts';

const size = Number(cliArg('size', '4096'));
const runs = Number(cliArg('runs', '5'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const CASES = ['readFits', 'readFitsShared', 'readExposure', 'readFile'] as const;
type Case = (typeof CASES)[number];

/** The cases, alternated within each run; run 0 is the warm-up. */
async function timeNode(path: string): Promise<Record<Case, { wall: number[]; cpu: number[] }>> {
  const out = Object.fromEntries(
    CASES.map((c) => [c, { wall: [] as number[], cpu: [] as number[] }]),
  ) as Record<Case, { wall: number[]; cpu: number[] }>;
  const calls: Record<Case, () => Promise<unknown>> = {
    readFits: async () => {
      if ((await readFits(path)).hdus.length !== 4) throw new Error('unexpected HDU count');
    },
    readFitsShared: async () => {
      const f = await readFits(path, { sharedMemory: true });
      if (!(f.image('IMAGE').data!.buffer instanceof SharedArrayBuffer)) {
        throw new Error('pixels not on shared memory');
      }
    },
    readExposure: async () => {
      if ((await readExposure(path)).width !== size) throw new Error('unexpected width');
    },
    readFile: async () => {
      if ((await readFile(path)).length === 0) throw new Error('empty file');
    },
  };
  for (let r = 0; r <= runs; r++) {
    for (const c of CASES) {
      const t = await wallAndCpu(calls[c]);
      if (r > 0) {
        out[c].wall.push(t.wall);
        out[c].cpu.push(t.cpu);
      }
    }
  }
  return out;
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
const load0 = loadavg();
try {
  const { image, mask, variance } = skyPlanes(size);
  const shape = [size, size];
  const decodedBytes = image.byteLength + mask.byteLength + variance.byteLength;
  const files = {
    uncompressed: join(dir, 'exposure.fits'),
    gzip2: join(dir, 'exposure-gzip2.fits'),
  };
  // The exposure layout readExposure expects (EXTNAME planes, format key in the primary).
  const primary = new Header();
  primary.set('DRPFMT', 'EXPOSURE-1');
  const tw0 = performance.now();
  await writeFits(files.uncompressed, [
    { header: primary, data: null },
    { name: 'IMAGE', data: image, shape },
    { name: 'MASK', data: mask, shape },
    { name: 'VARIANCE', data: variance, shape },
  ]);
  const tw1 = performance.now();
  const gz = { type: 'GZIP_2' } as const;
  await writeFits(files.gzip2, [
    { header: primary, data: null },
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
    const summary = (t: { wall: number[]; cpu: number[] }) => ({
      medianMs: median(t.wall),
      medianCpuMs: median(t.cpu),
      decodedMBps: mbps(median(t.wall)),
      runsMs: t.wall,
      runsCpuMs: t.cpu,
    });
    results[kind] = {
      fileMB: fileBytes / 1e6,
      node: summary(node.readFits),
      nodeSharedMemory: summary(node.readFitsShared),
      readExposure: summary(node.readExposure),
      readFile: summary(node.readFile),
      readExposureToReadFile: median(node.readFile.wall) / median(node.readExposure.wall),
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
  const result = {
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
    machine: { ...machineFacts(), loadavgBefore: load0, loadavgAfter: loadavg() },
  };
  const out = join(import.meta.dirname, 'results', `fits-read-${size}.json`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(`${out}.tmp-${process.pid}`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${out}.tmp-${process.pid}`, out);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${out}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
