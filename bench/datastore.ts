/**
 * Datastore benchmark: put/get of a 4096 x 4096 ExposureF (IMAGE float32, MASK int32,
 * VARIANCE float32: 201 MB of pixels) through a local-file datastore with the
 * `noCompression` recipe, against raw disk I/O of the same byte count measured in the
 * same run, alternating (put, raw write, get, raw read) so both see the same machine
 * load.
 *
 * - put: encode to FITS + write a temporary file + fsync + link into place (what
 *   `Datastore.put` does); raw write: `open` + `write` + `fsync` + `close` of a buffer of
 *   the file's size.
 * - get: `Datastore.get` (stat, read, decode big-endian planes into an Exposure); raw
 *   read: `readFile` of a file of the same size. Nothing is dropped from the page cache,
 *   so both reads are page-cache reads (the file was just written).
 * - To show where the time goes: the FITS encode (`exposureToBytes`) and decode
 *   (`readExposure` of bytes) alone, in memory; and put/get of a `Bytes` dataset of the
 *   same size (the datastore's own I/O path: template, existence check, temporary file,
 *   fsync, link, directory fsync; stat + readFile), i.e. everything but the FITS codec.
 *
 * Writes bench/results/datastore-<YYYY-MM-DD>.json and prints it.
 * Run: npx tsx bench/datastore.ts [--size 4096] [--runs 5] [--dir /path/on/the/disk]
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Datastore } from '../src/butler/datastore/index.ts';
import type { DatasetRef } from '../src/butler/refs.ts';
import { Wcs } from '../src/geom/wcs.ts';
import { Exposure } from '../src/image/exposure.ts';
import { exposureToBytes, readExposure } from '../src/image/exposure-fits.ts';
import { cliArg, gitRev, machineFacts, median } from './harness.ts';

const size = Number(cliArg('size', '4096'));
const runs = Number(cliArg('runs', '5'));
const baseDir = cliArg('dir', tmpdir());

/** Sky-like planes: noise around a background, a few mask bits. */
function makeExposure(n: number): Exposure {
  const exp = Exposure.create(n, n, {
    xy0: { x: 0, y: 0 },
    wcs: Wcs.tan({
      crpix: [n / 2, n / 2],
      crval: [150, 2],
      cd: [
        [-5.5e-5, 0],
        [0, 5.5e-5],
      ],
    }),
  });
  const img = exp.image.data;
  const msk = exp.mask.data;
  const vr = exp.variance.data;
  let s = 12345;
  for (let i = 0; i < n * n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u = s / 4294967296;
    img[i] = 1000 + 30 * (u - 0.5);
    vr[i] = 900 + u;
    msk[i] = u < 0.01 ? 1 << (s % 9) : 0;
  }
  return exp;
}

async function rawWrite(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function fsType(dir: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const time = async <T>(f: () => Promise<T> | T): Promise<[number, T]> => {
  const t0 = performance.now();
  const r = await f();
  return [performance.now() - t0, r];
};

const dir = await mkdtemp(join(baseDir, 'datastore-bench-'));
const load0 = loadavg();
try {
  const exp = makeExposure(size);
  const ds = Datastore.fromUrl(join(dir, 'repo'), { recipes: { ExposureF: 'noCompression' } });
  const dt = {
    name: 'calexp',
    dimensions: ['instrument', 'visit', 'detector'],
    storageClass: 'ExposureF',
  };
  const ref = (i: number): DatasetRef => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    datasetType: dt,
    dataId: { instrument: 'Sim', visit: 1, detector: i },
    run: 'bench',
  });
  const t = {
    put: [] as number[],
    rawWrite: [] as number[],
    get: [] as number[],
    rawRead: [] as number[],
  };
  let fileBytes = 0;
  // Run 0 warms up (JIT, allocations) and is not counted.
  for (let r = 0; r <= runs; r++) {
    const [tPut, rec] = await time(() => ds.put(exp, ref(r)));
    fileBytes = rec.size;
    const buf = new Uint8Array(rec.size).fill(r + 1);
    const rawPath = join(dir, `raw-${r}.bin`);
    const [tRawW] = await time(() => rawWrite(rawPath, buf));
    const [tGet, back] = await time(() => ds.get<Exposure>(rec));
    if (back.width !== size || back.image.data[12345] !== exp.image.data[12345]) {
      throw new Error('get returned different pixels');
    }
    const [tRawR, rawBack] = await time(() => readFile(rawPath));
    if (rawBack.length !== rec.size) throw new Error('raw read size');
    if (r > 0) {
      t.put.push(tPut);
      t.rawWrite.push(tRawW);
      t.get.push(tGet);
      t.rawRead.push(tRawR);
    }
    await ds.remove(rec);
    await rm(rawPath);
  }
  // The datastore's own I/O path without the FITS codec: a Bytes dataset of the same
  // size (template, existence check, temporary file, fsync, link; stat + readFile).
  const blobType = {
    name: 'blob',
    dimensions: ['instrument', 'visit', 'detector'],
    storageClass: 'Bytes',
  };
  const blob = new Uint8Array(fileBytes).fill(7);
  const tb = { put: [] as number[], get: [] as number[] };
  for (let r = 0; r <= runs; r++) {
    const bref = { ...ref(100 + r), datasetType: blobType };
    const [tPut, rec] = await time(() => ds.put(blob, bref));
    const [tGet, back] = await time(() => ds.get<Uint8Array>(rec));
    if (back.length !== blob.length) throw new Error('bytes get size');
    if (r > 0) {
      tb.put.push(tPut);
      tb.get.push(tGet);
    }
    await ds.remove(rec);
  }
  // Where the time goes: FITS encode/decode alone, in memory.
  const enc: number[] = [];
  const dec: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const [te, bytes] = await time(() => exposureToBytes(exp, { compress: 'none' }));
    const [td] = await time(() => readExposure(bytes));
    if (r > 0) {
      enc.push(te);
      dec.push(td);
    }
  }
  const m = {
    put: median(t.put),
    rawWrite: median(t.rawWrite),
    get: median(t.get),
    rawRead: median(t.rawRead),
    encode: median(enc),
    decode: median(dec),
    bytesPut: median(tb.put),
    bytesGet: median(tb.get),
  };
  const mbps = (ms: number) => fileBytes / 1e6 / (ms / 1000);
  const load1 = loadavg();
  const result = {
    bench: 'datastore',
    description:
      'local-file Datastore put/get of an uncompressed ExposureF vs raw write+fsync / readFile of the same byte count, alternated in one run; reads are page-cache reads (nothing dropped)',
    size: [size, size],
    planes: ['IMAGE float32', 'MASK int32', 'VARIANCE float32'],
    pixelBytes: size * size * 12,
    fileBytes,
    runs,
    medianMs: m,
    runsMs: { ...t, encode: enc, decode: dec, bytesPut: tb.put, bytesGet: tb.get },
    MBps: {
      put: mbps(m.put),
      rawWrite: mbps(m.rawWrite),
      get: mbps(m.get),
      rawRead: mbps(m.rawRead),
    },
    ratioToRaw: {
      put: m.rawWrite / m.put,
      get: m.rawRead / m.get,
      bytesPut: m.rawWrite / m.bytesPut,
      bytesGet: m.rawRead / m.bytesGet,
    },
    target: 'put and get >= 0.8 of raw',
    machine: {
      ...machineFacts(),
      cores: cpus().length,
      memGiB: Math.round(totalmem() / 2 ** 30),
      freeMemGiB: Math.round(freemem() / 2 ** 30),
      loadavgBefore: load0,
      loadavgAfter: load1,
      dir,
      fs: fsType(dir),
    },
    git_rev: gitRev(),
  };
  const day = new Date().toISOString().slice(0, 10);
  const out = join(import.meta.dirname, 'results', `datastore-${day}.json`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(`${out}.tmp-${process.pid}`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${out}.tmp-${process.pid}`, out);
  console.log(JSON.stringify(result, null, 2));
  console.log(`written to ${out}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
