/**
 * Registry benchmark (SQLite and PostgreSQL):
 *
 * 1. **Ingest**: the dimension records of an LSST-sized night (instrument, 6 filters, 189
 *    detectors, 700 visits with regions) and 132,300 calexp datasets (700 visits x 189
 *    detectors), inserted one visit at a time as an ingest would; then, timed apart, the
 *    132,300 visit_detector_region records (CCD polygons from TAN WCSs) with their HTM
 *    skypix index.
 * 2. **Queries over 1,000,000 datasets**: the repository is filled to 5,292 visits x 189
 *    detectors (1,000,188 calexps in two runs), statistics refreshed (Registry.optimize),
 *    then each query is run `--repeats` times after one warm-up; the median is reported:
 *    - `visit IN (100..200) AND detector = 42`
 *    - `visit.exposure_time > 20 AND detector = 42` (a record-field clause: joins visit)
 *    - the first with findFirst through a CHAINED collection of both runs
 *    - a spatial queryDataIds (tract, patch, visit, detector) for 10 visits.
 *    The EXPLAIN plan of each is recorded.
 *
 * Usage: `npx tsx bench/registry.ts [--backend sqlite|postgres|both] [--visits 700]
 *   [--detectors 189] [--total 1000000] [--repeats 7] [--pg-url URL] [--out FILE] [--note TEXT]`.
 * PostgreSQL comes from --pg-url or GPU_DRP_TEST_POSTGRES_URL (a database is created and
 * dropped). Writes bench/results/registry-<date>.json (or --out).
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { DataId } from '../src/butler/refs.ts';
import { Registry } from '../src/butler/registry/index.ts';
import { type ConvexPolygon, convexHull } from '../src/butler/registry/spatial/regions.ts';
import { Box2I } from '../src/geom/box.ts';
import { Wcs } from '../src/geom/wcs.ts';
import { insertBenchSkymap } from './bench-skymap.ts';
import { gitRev, median } from './harness.ts';

interface Options {
  backends: Array<'sqlite' | 'postgres'>;
  visits: number;
  detectors: number;
  total: number;
  repeats: number;
  pgUrl: string | null;
  out: string;
  note: string | null;
}

function parseArgs(argv: readonly string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const pgUrl = get('pg-url') ?? process.env.GPU_DRP_TEST_POSTGRES_URL ?? null;
  const backend = get('backend') ?? (pgUrl ? 'both' : 'sqlite');
  const backends: Array<'sqlite' | 'postgres'> =
    backend === 'both' ? ['sqlite', 'postgres'] : [backend as 'sqlite' | 'postgres'];
  if (backends.includes('postgres') && !pgUrl) {
    throw new Error(
      'PostgreSQL needs --pg-url or GPU_DRP_TEST_POSTGRES_URL (scripts/services/postgres.sh start DIR)',
    );
  }
  const date = new Date().toISOString().slice(0, 10);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  return {
    backends,
    visits: Number(get('visits') ?? 700),
    detectors: Number(get('detectors') ?? 189),
    total: Number(get('total') ?? 1_000_000),
    repeats: Number(get('repeats') ?? 7),
    pgUrl,
    out: get('out') ?? join(root, 'bench', 'results', `registry-${date}.json`),
    note: get('note') ?? null,
  };
}

const CAM = 'LSSTCam-sim';
const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'];
const PIXEL_SCALE = 0.2;
const CCD_W = 4072;
const CCD_H = 4000;

/** LSST-like focal plane: 5 x 5 rafts without the corners, 3 x 3 CCDs each (189 CCDs). */
function focalPlane(
  n: number,
): Array<{ id: number; x: number; y: number; raft: string; name: string }> {
  const out: Array<{ id: number; x: number; y: number; raft: string; name: string }> = [];
  const step = 4100;
  for (let ry = 0; ry < 5; ry++) {
    for (let rx = 0; rx < 5; rx++) {
      if ((rx === 0 || rx === 4) && (ry === 0 || ry === 4)) continue;
      for (let sy = 0; sy < 3; sy++) {
        for (let sx = 0; sx < 3; sx++) {
          if (out.length >= n) return out;
          out.push({
            id: out.length,
            x: ((rx - 2) * 3 + (sx - 1)) * step,
            y: ((ry - 2) * 3 + (sy - 1)) * step,
            raft: `R${rx}${ry}`,
            name: `R${rx}${ry}_S${sx}${sy}`,
          });
        }
      }
    }
  }
  return out;
}

/** Boresight of visit v: a survey grid of 3.5-degree steps in 40 columns. */
function boresight(v: number): { ra: number; dec: number; rot: number } {
  return {
    ra: 10 + (v % 40) * 3.5 + (Math.floor(v / 40) % 2) * 1.7,
    dec: -60 + Math.floor(v / 40) * 0.5,
    rot: (v * 37) % 360,
  };
}

function ccdCorners(v: number, det: { x: number; y: number }): Array<[number, number]> {
  const b = boresight(v);
  const wcs = Wcs.fromScaleRotation({
    crpix: [(CCD_W - 1) / 2 - det.x, (CCD_H - 1) / 2 - det.y],
    crval: [b.ra, b.dec],
    scale: PIXEL_SCALE,
    rotation: b.rot,
  });
  return wcs.skyPolygon(new Box2I(0, 0, CCD_W, CCD_H)).map((p) => [p.ra, p.dec]);
}

function isoTime(v: number): string {
  return new Date(Date.UTC(2026, 0, 1) + v * 40_000).toISOString().replace('Z', '');
}

function visitRecord(v: number, region: ConvexPolygon | null): Record<string, unknown> {
  return {
    instrument: CAM,
    id: v,
    physical_filter: `${BANDS[v % 6]}_sim`,
    day_obs: 20260101 + Math.floor(v / 1000),
    exposure_time: 15 + (v % 4) * 5,
    name: `v${v}`,
    datetime_begin: isoTime(v),
    datetime_end: isoTime(v + 0.75),
    ...(region ? { region } : {}),
  };
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/**
 * CPU seconds (user + system) used so far by the PostgreSQL backends serving `db`, read
 * from /proc (Linux; empty elsewhere). With the wall time on a loaded machine this shows
 * how much of a phase was work and how much waiting for a core.
 */
async function pgBackendCpu(adminUrl: string, db: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db]);
    for (const row of r.rows as Array<{ pid: number }>) {
      try {
        const stat = readFileSync(`/proc/${row.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 Hz).
        out.set(row.pid, (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // The backend ended, or /proc is not there.
      }
    }
  } finally {
    await c.end();
  }
  return out;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, v] of after) s += v - (before.get(pid) ?? 0);
  return s;
}

/** Wall time plus CPU seconds of this process and of the database server's backends. */
async function timeWithCpu<T>(
  fn: () => Promise<T>,
  pgCpu: (() => Promise<Map<number, number>>) | null,
): Promise<{ ms: number; value: T; cpu: { node_s: number; server_s: number | null } }> {
  const b = pgCpu ? await pgCpu() : null;
  const c0 = process.cpuUsage();
  const r = await time(fn);
  const c1 = process.cpuUsage(c0);
  const a = pgCpu ? await pgCpu() : null;
  return {
    ...r,
    cpu: { node_s: (c1.user + c1.system) / 1e6, server_s: b && a ? cpuDelta(b, a) : null },
  };
}

interface QueryCase {
  readonly name: string;
  readonly run: (reg: Registry) => Promise<number>;
  readonly explain: (reg: Registry) => Promise<string>;
}

async function benchBackend(
  kind: 'sqlite' | 'postgres',
  o: Options,
): Promise<Record<string, unknown>> {
  let url: string;
  let cleanup: () => Promise<void>;
  let pgCpu: (() => Promise<Map<number, number>>) | null = null;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'registry-bench-'));
    url = `sqlite:${join(dir, 'gpu_drp.sqlite3')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `registry_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: o.pgUrl! });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const u = new URL(o.pgUrl!);
    u.pathname = `/${name}`;
    url = u.toString();
    pgCpu = () => pgBackendCpu(o.pgUrl!, name);
    cleanup = async () => {
      const c = new pg.Client({ connectionString: o.pgUrl! });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    };
  }
  const log = (m: string): void => console.error(`[registry bench ${kind}] ${m}`);
  const reg = await Registry.open(url, { create: true });
  try {
    const dets = focalPlane(o.detectors);
    const ccdsPerVisit = dets.length;
    const runA = 'LSSTCam-sim/raw/night';
    const runB = 'LSSTCam-sim/bulk';

    // Geometry is the caller's work (define-visits computes it from the WCSs): made before
    // the clock starts.
    const visitRegions = Array.from({ length: o.visits }, (_, v) =>
      convexHull(dets.flatMap((d) => ccdCorners(v, d))),
    );
    const vdrRows = Array.from({ length: o.visits }, (_, v) =>
      dets.map((d) => ({ instrument: CAM, visit: v, detector: d.id, region: ccdCorners(v, d) })),
    );
    log(`geometry of ${o.visits} visits ready`);

    // ---- 1. timed ingest: dimension records + datasets, one visit per transaction
    const ingest = await timeWithCpu(async () => {
      await reg.insertDimensionData('instrument', [
        {
          name: CAM,
          visit_max: 10_000_000,
          detector_max: ccdsPerVisit,
          class_name: 'gpu_drp.bench.LsstCamSim',
        },
      ]);
      await reg.insertDimensionData(
        'physical_filter',
        BANDS.map((b) => ({ instrument: CAM, name: `${b}_sim`, band: b })),
      );
      await reg.insertDimensionData(
        'detector',
        dets.map((d) => ({
          instrument: CAM,
          id: d.id,
          full_name: d.name,
          raft: d.raft,
          purpose: 'SCIENCE',
        })),
      );
      await reg.registerDatasetType({
        name: 'calexp',
        dimensions: ['instrument', 'visit', 'detector'],
        storageClass: 'ExposureF',
      });
      await reg.registerRun(runA);
      let n = 0;
      for (let v = 0; v < o.visits; v++) {
        await reg.insertDimensionData('visit', [visitRecord(v, visitRegions[v]!)]);
        const ids: DataId[] = dets.map((d) => ({ instrument: CAM, visit: v, detector: d.id }));
        n += (await reg.insertDatasets('calexp', ids, runA)).length;
      }
      return n;
    }, pgCpu);
    log(
      `ingest: ${ingest.value} datasets + ${o.visits} visits in ${(ingest.ms / 1000).toFixed(1)} s ` +
        `(cpu: node ${ingest.cpu.node_s.toFixed(1)} s, server ${ingest.cpu.server_s?.toFixed(1) ?? '-'} s)`,
    );

    const vdr = await timeWithCpu(async () => {
      let n = 0;
      for (const rows of vdrRows) {
        await reg.insertDimensionData('visit_detector_region', rows);
        n += rows.length;
      }
      return n;
    }, pgCpu);
    log(
      `visit_detector_region: ${vdr.value} regions in ${(vdr.ms / 1000).toFixed(1)} s ` +
        `(cpu: node ${vdr.cpu.node_s.toFixed(1)} s, server ${vdr.cpu.server_s?.toFixed(1) ?? '-'} s)`,
    );

    // Sky map: one tract of 10 x 10 patches over the first visits.
    await insertBenchSkymap(reg, boresight(0), PIXEL_SCALE);

    // ---- 2. fill to `total` datasets (untimed for the figure, reported)
    const totalVisits = Math.ceil(o.total / ccdsPerVisit);
    const fill = await time(async () => {
      await reg.registerRun(runB);
      const step = 20;
      for (let v0 = o.visits; v0 < totalVisits; v0 += step) {
        const vs = Array.from({ length: Math.min(step, totalVisits - v0) }, (_, i) => v0 + i);
        await reg.insertDimensionData(
          'visit',
          vs.map((v) => visitRecord(v, null)),
        );
        const ids: DataId[] = vs.flatMap((v) =>
          dets.map((d) => ({ instrument: CAM, visit: v, detector: d.id })),
        );
        await reg.insertDatasets('calexp', ids, runB);
      }
    });
    const analyze = await time(() => reg.optimize());
    const totalDatasets = totalVisits * ccdsPerVisit;
    log(
      `filled to ${totalDatasets} datasets in ${(fill.ms / 1000).toFixed(1)} s; optimize ${analyze.ms.toFixed(0)} ms`,
    );
    await reg.registerCollection('LSSTCam-sim/all', 'CHAINED');
    await reg.setCollectionChain('LSSTCam-sim/all', [runA, runB]);

    const both = [runA, runB];
    const detMid = Math.min(42, ccdsPerVisit - 1);
    const q1 = { collections: both, where: `visit IN (100..200) AND detector = ${detMid}` };
    const q2 = { collections: both, where: `visit.exposure_time > 20 AND detector = ${detMid}` };
    const q3 = {
      collections: 'LSSTCam-sim/all',
      findFirst: true,
      where: `visit IN (100..200) AND detector = ${detMid}`,
    };
    const q4 = { where: 'visit IN (0..9)' };
    const cases: QueryCase[] = [
      {
        name: 'queryDatasets visit IN (100..200) AND detector = 42',
        run: async (r) => (await r.queryDatasets('calexp', q1)).length,
        explain: (r) => r.explain('queryDatasets', 'calexp', q1),
      },
      {
        name: 'queryDatasets visit.exposure_time > 20 AND detector = 42',
        run: async (r) => (await r.queryDatasets('calexp', q2)).length,
        explain: (r) => r.explain('queryDatasets', 'calexp', q2),
      },
      {
        name: 'queryDatasets findFirst through a chain, visit IN (100..200) AND detector = 42',
        run: async (r) => (await r.queryDatasets('calexp', q3)).length,
        explain: (r) => r.explain('queryDatasets', 'calexp', q3),
      },
      {
        name: 'queryDataIds tract, patch, visit, detector (spatial join) for visits 0..9',
        run: async (r) =>
          (await r.queryDataIds(['tract', 'patch', 'visit', 'detector'], q4)).length,
        explain: (r) => r.explain('queryDataIds', ['tract', 'patch', 'visit', 'detector'], q4),
      },
    ];
    const queries = [];
    for (const c of cases) {
      const rows = await c.run(reg);
      const times: number[] = [];
      for (let i = 0; i < o.repeats; i++) times.push((await time(() => c.run(reg))).ms);
      const plan = await c.explain(reg);
      queries.push({
        name: c.name,
        rows,
        median_ms: median(times),
        min_ms: Math.min(...times),
        max_ms: Math.max(...times),
        repeats: o.repeats,
        plan,
      });
      log(`${c.name}: ${rows} rows, median ${median(times).toFixed(1)} ms`);
    }
    return {
      backend: kind,
      sizes: {
        visits_ingested: o.visits,
        detectors: ccdsPerVisit,
        datasets_ingested: ingest.value,
        visit_detector_regions: vdr.value,
        datasets_total: totalDatasets,
      },
      ingest: {
        what: 'instrument, filters, detectors, visits (with regions) and calexp datasets, one visit per insertDimensionData + insertDatasets',
        seconds: ingest.ms / 1000,
        datasets_per_s: ingest.value / (ingest.ms / 1000),
        cpu_seconds: ingest.cpu,
        target_seconds: 30,
      },
      visit_detector_region: {
        seconds: vdr.ms / 1000,
        regions_per_s: vdr.value / (vdr.ms / 1000),
        cpu_seconds: vdr.cpu,
      },
      fill: { seconds: fill.ms / 1000, datasets: totalDatasets - ingest.value },
      optimize_ms: analyze.ms,
      queries,
      query_target_ms: 200,
    };
  } finally {
    await reg.close();
    await cleanup();
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadBefore = loadavg();
  const results = [];
  for (const b of o.backends) results.push(await benchBackend(b, o));
  const record = {
    bench: 'registry',
    date: new Date().toISOString(),
    git_rev: gitRev(),
    node: process.version,
    machine: {
      platform: `${platform()} ${release()}`,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      cpu_count: cpus().length,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      load_average_before: loadBefore,
      load_average_after: loadavg(),
    },
    options: { visits: o.visits, detectors: o.detectors, total: o.total, repeats: o.repeats },
    ...(o.note ? { note: o.note } : {}),
    results,
  };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(record, null, 2)}\n`);
  console.log(o.out);
}

await main();
