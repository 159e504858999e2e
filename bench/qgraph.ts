/**
 * Quantum-graph figures.
 *
 * 1. **Graph generation for one tract at LSST-like depth**: a SQLite registry holding 100
 *    visits x 189 CCDs (CCD polygons from TAN WCSs, 0.2"/px 4k x 4k CCDs, visits dithered by up
 *    to +-0.6 deg and rotated) over a tract of 10 x 10 patches (4000 px each), 18,900 calexp
 *    datasets with datastore records and a skyMap dataset; then the quantum graph of the coadd
 *    pipeline (tasks/pipelines/coadd.yaml: makeDirectWarp, assembleCoadd, detectCoaddSources,
 *    measureCoaddSources) is built (registry queries with the spatial joins, refs, ids, records)
 *    and saved to a .qg file. Target: <= 10 s.
 * 2. **Per-quantum framework overhead**: the test pipeline (test/pipe/graph/pipelines: warp ->
 *    assemble -> detect stand-ins whose run() returns at once) on the tiny fixture repository,
 *    executed in process against the full Butler (SQLite) and quantum-backed; wall time per
 *    quantum (read inputs, run, put outputs + metadata + log, registration, outcome file).
 *    Target: <= 50 ms.
 *
 * Usage: `npx tsx bench/qgraph.ts [--visits 100] [--out FILE]`. Writes
 * bench/results/qgraph-<YYYY-MM-DD>.json with machine facts and the git revision.
 */

import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataId } from '../src/butler/refs.ts';
import { Registry } from '../src/butler/registry/index.ts';
import { convexHull } from '../src/butler/registry/spatial/regions.ts';
import { Box2I } from '../src/geom/box.ts';
import { Wcs } from '../src/geom/wcs.ts';
import { executeGraph, outcomeDirOf } from '../src/pipe/exec/index.ts';
import { buildQuantumGraph, saveQuantumGraph } from '../src/pipe/graph/index.ts';
import { Pipeline } from '../src/pipe/index.ts';
import { saveTestGraph } from '../test/pipe/exec/harness.ts';
import { makeFixtureRepo, TEST_PIPELINE } from '../test/pipe/graph/repo.ts';
import { insertBenchSkymap } from './bench-skymap.ts';
import { cliArg, gitRev, machineFacts } from './harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CAM = 'LSSTCam-sim';
/** Arcseconds per pixel. */
const PIXEL_SCALE = 0.2;
const CCD = 4096;
const RA0 = 150;
const DEC0 = -30;

/** 189 CCDs: a 15 x 15 grid of 4k CCDs minus the 4 x 9 corner positions. */
function focalPlane(): { id: number; x: number; y: number }[] {
  const out: { id: number; x: number; y: number }[] = [];
  for (let j = 0; j < 15; j++) {
    for (let i = 0; i < 15; i++) {
      const corner = (i < 3 || i > 11) && (j < 3 || j > 11);
      if (corner) continue;
      out.push({ id: out.length, x: (i - 7) * CCD, y: (j - 7) * CCD });
    }
  }
  return out.slice(0, 189);
}

function ccdCorners(v: number, d: { x: number; y: number }): Array<[number, number]> {
  // deterministic dithers up to +-0.6 deg and rotations
  const dra = (((v * 7919) % 1000) / 1000 - 0.5) * 1.2;
  const ddec = (((v * 104729) % 1000) / 1000 - 0.5) * 1.2;
  const wcs = Wcs.fromScaleRotation({
    crpix: [(CCD - 1) / 2 - d.x, (CCD - 1) / 2 - d.y],
    crval: [RA0 + dra / Math.cos((DEC0 * Math.PI) / 180), DEC0 + ddec],
    scale: PIXEL_SCALE,
    rotation: (v * 37) % 360,
  });
  return wcs.skyPolygon(new Box2I(0, 0, CCD, CCD)).map((p) => [p.ra, p.dec]);
}

async function graphGeneration(visits: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'qgraph-bench-'));
  try {
    const reg = await Registry.open(`sqlite:${join(dir, 'gpu_drp.sqlite3')}`, { create: true });
    const dets = focalPlane();
    const t0 = performance.now();
    await reg.insertDimensionData('instrument', [
      { name: CAM, visit_max: 1_000_000, detector_max: 189, class_name: 'bench' },
    ]);
    await reg.insertDimensionData('physical_filter', [
      { instrument: CAM, name: 'r_sim', band: 'r' },
    ]);
    await reg.insertDimensionData(
      'detector',
      dets.map((d) => ({ instrument: CAM, id: d.id, full_name: `D${d.id}`, purpose: 'SCIENCE' })),
    );
    await reg.registerDatasetType({
      name: 'calexp',
      dimensions: ['instrument', 'visit', 'detector'],
      storageClass: 'ExposureF',
    });
    await reg.registerDatasetType({
      name: 'skyMap',
      dimensions: ['skymap'],
      storageClass: 'SkyMap',
    });
    await reg.registerRun('calexps');
    for (let v = 0; v < visits; v++) {
      const ccds = dets.map((d) => ccdCorners(v, d));
      await reg.insertDimensionData('visit', [
        {
          instrument: CAM,
          id: v,
          physical_filter: 'r_sim',
          day_obs: 20260101,
          exposure_time: 30,
          name: `v${v}`,
          region: convexHull(ccds.flat()),
        },
      ]);
      await reg.insertDimensionData(
        'visit_detector_region',
        dets.map((d, i) => ({ instrument: CAM, visit: v, detector: d.id, region: ccds[i] })),
      );
      const ids: DataId[] = dets.map((d) => ({ instrument: CAM, visit: v, detector: d.id }));
      const refs = await reg.insertDatasets('calexp', ids, 'calexps');
      await reg.insertDatastoreRecords(
        refs.map((r) => ({
          datasetId: r.id,
          path: `calexps/calexp/${v}/calexp_${v}_${r.dataId.detector}.fits`,
          formatter: 'ExposureFitsFormatter',
          storageClass: 'ExposureF',
          checksum: null,
          size: 100_000_000,
        })),
      );
    }
    await insertBenchSkymap(reg, { ra: RA0, dec: DEC0 }, PIXEL_SCALE);
    await reg.registerRun('skymaps');
    await reg.insertDatasets('skyMap', [{ skymap: 'bench' }], 'skymaps');
    await reg.optimize();
    const setupS = (performance.now() - t0) / 1000;
    console.error(`[qgraph bench] registry ready in ${setupS.toFixed(1)} s`);

    const pipelineFile = join(ROOT, 'tasks/pipelines/coadd.yaml');
    const p = Pipeline.fromFile(pipelineFile);
    await p.importTasks({ baseDir: dirname(pipelineFile), moduleRoot: ROOT });
    const pg = p.toGraph({ universe: reg.universe });
    const tb = performance.now();
    const g = await buildQuantumGraph(reg, pg, {
      inputCollections: ['calexps', 'skymaps'],
      outputRun: 'u/bench/run',
      pipelineDir: dirname(pipelineFile),
      moduleRoot: ROOT,
    });
    const buildS = (performance.now() - tb) / 1000;
    const ts = performance.now();
    const file = join(dir, 'bench.qg');
    const bytes = await saveQuantumGraph(g, file);
    const saveS = (performance.now() - ts) / 1000;
    await reg.close();
    const warpInputs = [...g.quanta.values()]
      .filter((q) => q.label === 'makeDirectWarp')
      .map((q) => Object.values(q.inputs)[0]?.length ?? 0);
    return {
      visits,
      ccdsPerVisit: dets.length,
      calexps: visits * dets.length,
      patches: 100,
      quanta: g.size,
      quantaPerTask: g.header.quantaPerTask,
      meanCalexpsPerWarp: warpInputs.reduce((a, b) => a + b, 0) / warpInputs.length,
      registrySetupSeconds: setupS,
      buildSeconds: buildS,
      saveSeconds: saveS,
      totalSeconds: buildS + saveS,
      fileBytes: bytes,
      fileBytesCheck: statSync(file).size,
      targetSeconds: 10,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function overhead(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'qgraph-overhead-'));
  try {
    const repo = join(dir, 'repo');
    await makeFixtureRepo(repo);
    const out: Record<string, unknown> = { pipeline: TEST_PIPELINE.slice(ROOT.length + 1) };
    for (const mode of ['butler', 'qbb'] as const) {
      const g = await saveTestGraph(repo, join(dir, `${mode}.qg`), { run: `bench/${mode}` });
      const spec = { repo, mode, graphPath: g.path, outcomesDir: outcomeDirOf(g.path) };
      const s = await executeGraph(spec, { registerDatasetTypes: true });
      const per = s.outcomes.map((o) => o.wallTime * 1000).sort((a, b) => a - b);
      out[mode] = {
        quanta: g.quanta,
        succeeded: s.totals.succeeded,
        wallSeconds: s.wallTime,
        // includes opening the repository and graph, dataset types, init-outputs
        msPerQuantumWallWithSetup: (s.wallTime * 1000) / g.quanta,
        msPerQuantumMean: per.reduce((a, b) => a + b, 0) / per.length,
        msPerQuantumMedian: per[Math.floor(per.length / 2)],
        msPerQuantumMax: per[per.length - 1],
      };
    }
    out.targetMs = 50;
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const visits = Number(cliArg('visits', '100'));
const gen = await graphGeneration(visits);
console.error(`[qgraph bench] generation: ${JSON.stringify(gen)}`);
const ovh = await overhead();
console.error(`[qgraph bench] overhead: ${JSON.stringify(ovh)}`);
const record = {
  bench: 'qgraph',
  date: new Date().toISOString(),
  gitRev: gitRev(),
  machine: machineFacts(),
  loadavg: loadavg(),
  generation: gen,
  perQuantumOverhead: ovh,
};
const outFile = cliArg(
  'out',
  join(ROOT, 'bench/results', `qgraph-${new Date().toISOString().slice(0, 10)}.json`),
);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(record, null, 2)}\n`);
console.log(JSON.stringify(record, null, 2));
