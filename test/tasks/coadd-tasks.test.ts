/**
 * The coadd PipelineTasks against `gpu-coadd run`'s scheduler on the committed tiny
 * fixtures (fixtures/sim): one patch, the four tasks run quantum by quantum through a
 * context whose datasets pass through the datastore's formatters (FITS, Parquet, JSON),
 * and every product compared with runCoadd's files, bit for bit on the CPU backend.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetCatalogFormatter } from '../../src/butler/datastore/formatters/index.ts';
import type { DataId, DatasetRef, DatasetType } from '../../src/butler/refs.ts';
import type { Catalog } from '../../src/catalog/table.ts';
import { DiscreteSkyMap } from '../../src/geom/skymap.ts';
import type { Exposure } from '../../src/image/exposure.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import { ImagePsf } from '../../src/image/psf.ts';
import { makeTask, NoWorkFound, Pipeline, type PipelineTask } from '../../src/pipe/index.ts';
import { psfGaussianSigma } from '../../src/scheduler/coadd-steps.ts';
import { scanInputs } from '../../src/scheduler/inputs.ts';
import { planCoadds, skymapTargets } from '../../src/scheduler/plan.ts';
import { runCoadd, type UnitSummary } from '../../src/scheduler/run-coadd.ts';
import {
  AssembleCoaddTask,
  DetectCoaddSourcesTask,
  getWarpFacts,
  MakeDirectWarpTask,
  MeasureCoaddSourcesTask,
} from '../../tasks/index.ts';
import { cpuBackend, disposeBackends } from '../helpers/backends.ts';
import { EncodedQuantumContext, EncodedStore } from './formatter-context.ts';

const fixtures = new URL('../../fixtures/sim/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-tasks-'));
afterAll(async () => {
  await disposeBackends();
  rmSync(dir, { recursive: true, force: true });
});

function skyMapFrom(cfg: Record<string, unknown>): DiscreteSkyMap {
  const { kind: _k, name: _n, ...rest } = cfg;
  return new DiscreteSkyMap(rest as unknown as ConstructorParameters<typeof DiscreteSkyMap>[0]);
}
const skymapConfig = JSON.parse(readFileSync(join(fixtures, 'skymap.json'), 'utf8'));
const skyMap = skyMapFrom(skymapConfig);

const COADD_DIMS = ['tract', 'patch', 'band', 'skymap'];
const TYPES: Record<string, DatasetType> = {
  calexp: {
    name: 'calexp',
    storageClass: 'ExposureF',
    dimensions: ['instrument', 'visit', 'detector'],
  },
  skyMap: { name: 'skyMap', storageClass: 'SkyMap', dimensions: ['skymap'] },
  directWarp: {
    name: 'directWarp',
    storageClass: 'ExposureF',
    dimensions: ['tract', 'patch', 'visit', 'skymap', 'instrument'],
  },
  deepCoadd: { name: 'deepCoadd', storageClass: 'ExposureF', dimensions: COADD_DIMS },
  deepCoadd_coverage: { name: 'deepCoadd_coverage', storageClass: 'Bytes', dimensions: COADD_DIMS },
  deepCoadd_calexp: { name: 'deepCoadd_calexp', storageClass: 'ExposureF', dimensions: COADD_DIMS },
  deepCoadd_det: {
    name: 'deepCoadd_det',
    storageClass: 'StructuredDataDict',
    dimensions: COADD_DIMS,
  },
  deepCoadd_meas: { name: 'deepCoadd_meas', storageClass: 'SourceCatalog', dimensions: COADD_DIMS },
};
type TypeName = string;
const type = (n: TypeName): DatasetType => {
  const t = TYPES[n];
  if (!t) throw new Error(`unknown dataset type ${n}`);
  return t;
};

/** Runs one quantum of `task`; returns the output refs. */
async function quantum(
  task: PipelineTask<never, never, never>,
  store: EncodedStore,
  dataId: DataId,
  inputs: Record<string, DatasetRef | DatasetRef[]>,
  outputs: Record<string, TypeName>,
): Promise<Record<string, DatasetRef>> {
  const outRefs: Record<string, DatasetRef> = {};
  for (const [field, t] of Object.entries(outputs)) outRefs[field] = store.ref(type(t), dataId);
  const ctx = new EncodedQuantumContext(store, dataId, cpuBackend());
  await (task as unknown as PipelineTask).runQuantum(ctx, inputs, outRefs);
  return outRefs;
}

function bytesOf(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('coadd tasks vs gpu-coadd run (tiny fixtures, CPU backend)', () => {
  const patchKey = 'tract0/patch1,1';
  const tract = 0;
  const patch = skyMap.tract(0).patch({ x: 1, y: 1 }).sequentialIndex;
  const quantumId = { skymap: 'sim-tiny', tract, patch, band: 'r' };
  let summary: UnitSummary;
  const store = new EncodedStore();
  let out: Record<string, DatasetRef>;
  const warpRefs: DatasetRef[] = [];
  const tasks = {
    warp: makeTask(MakeDirectWarpTask),
    assemble: makeTask(AssembleCoaddTask),
    detect: makeTask(DetectCoaddSourcesTask),
    measure: makeTask(MeasureCoaddSourcesTask),
  };

  beforeAll(async () => {
    const { inputs } = await scanInputs([join(fixtures, 'calexp')]);
    const unit = planCoadds(inputs, skymapTargets(skyMap)).find((u) => u.target.key === patchKey);
    if (!unit) throw new Error(`no unit ${patchKey}`);
    const [s] = await runCoadd([unit], {
      backend: cpuBackend(),
      outDir: join(dir, 'files'),
      statistic: 'MEANCLIP',
      kernel: 'lanczos3',
      threshold: 5,
      clobber: false,
    });
    summary = s as UnitSummary;

    // Every calexp of every visit goes in (both detectors), in reverse detector order:
    // the task keeps the CCDs that land on the patch and warps them in detector order.
    const skyRef = await store.add(type('skyMap'), { skymap: 'sim-tiny' }, skyMap);
    for (const visit of [1003, 1001, 1000, 1002]) {
      const calexps: DatasetRef[] = [];
      for (const detector of [1, 0]) {
        const path = join(
          fixtures,
          'calexp',
          String(visit),
          `calexp_SimCam_r_${visit}_${String(detector).padStart(3, '0')}.fits`,
        );
        const e = await readExposure(path);
        calexps.push(await store.add(type('calexp'), { instrument: 'SimCam', visit, detector }, e));
      }
      tasks.warp.resetMetadata();
      const r = await quantum(
        tasks.warp as never,
        store,
        { instrument: 'SimCam', skymap: 'sim-tiny', tract, patch, visit },
        { calexps, skyMap: skyRef },
        { directWarp: 'directWarp' },
      );
      warpRefs.push(r.directWarp as DatasetRef);
    }
    const a = await quantum(
      tasks.assemble as never,
      store,
      quantumId,
      { directWarps: warpRefs, skyMap: skyRef },
      { coadd: 'deepCoadd', coverage: 'deepCoadd_coverage' },
    );
    const d = await quantum(
      tasks.detect as never,
      store,
      quantumId,
      { coadd: a.coadd as DatasetRef },
      { calexp: 'deepCoadd_calexp', detections: 'deepCoadd_det' },
    );
    const m = await quantum(
      tasks.measure as never,
      store,
      quantumId,
      { calexp: d.calexp as DatasetRef, detections: d.detections as DatasetRef, skyMap: skyRef },
      { catalog: 'deepCoadd_meas' },
    );
    out = { ...a, ...d, ...m };
  });

  it('warps carry the visit, CCD count, per-CCD PSF sigmas and the visit PSF image', async () => {
    const w = (await store.get(warpRefs[0] as DatasetRef)) as Exposure;
    const facts = getWarpFacts(w.metadata);
    expect(facts.visit).toBe(1003);
    expect(facts.nCcd).toBe(2);
    expect(facts.psfTerms).toHaveLength(2);
    // The calexps carry IMAGE PSFs: the warp's PSF is their mean on the patch grid,
    // weighted by the patch pixels each CCD covers (at most the whole patch box).
    expect(w.psf).toBeInstanceOf(ImagePsf);
    expect(facts.psfArea).toBeGreaterThan(0);
    expect(facts.psfArea).toBeLessThanOrEqual(summary.bbox.width * summary.bbox.height + 1e-6);
    // Same pixel scale on both grids: the effective width stays that of the CCDs.
    expect((w.psf as ImagePsf).sigma / facts.psfTerms[0]!).toBeGreaterThan(0.95);
    expect((w.psf as ImagePsf).sigma / facts.psfTerms[0]!).toBeLessThan(1.1);
    expect(w.bbox.width).toBe(summary.bbox.width);
    expect(w.bbox.minX).toBe(summary.bbox.minX);
    expect(tasks.warp.metadata.get('backend')).toBe('cpu');
    expect(tasks.warp.metadata.get('nCcd')).toBe(2);
  });

  it('deepCoadd: image, variance and PSF equal the scheduler coadd bit for bit', async () => {
    const file = await readExposure(join(dir, 'files', patchKey, 'r', 'coadd.fits'));
    const coadd = (await store.get(out.coadd as DatasetRef)) as Exposure;
    expect(coadd.bbox.toString()).toBe(file.bbox.toString());
    expect(bytesOf(coadd.image.data).equals(bytesOf(file.image.data))).toBe(true);
    expect(bytesOf(coadd.variance.data).equals(bytesOf(file.variance.data))).toBe(true);
    // The PSF: the same kernel image bits (an IMAGE PSF, float64 in FITS both ways).
    expect(coadd.psf).toBeInstanceOf(ImagePsf);
    expect(file.psf).toBeInstanceOf(ImagePsf);
    expect(Array.from(coadd.psf!.kernelValues())).toEqual(Array.from(file.psf!.kernelValues()));
    expect(psfGaussianSigma(coadd.psf!)).toBe(summary.psfSigma);
    // Before detection: no DETECTED bit; the scheduler's coadd.fits has them.
    const det = coadd.mask.planes.bitMask('DETECTED');
    expect(coadd.mask.data.some((m) => (m & det) !== 0)).toBe(false);
    expect(file.mask.data.some((m) => (m & det) !== 0)).toBe(true);
    expect(tasks.assemble.metadata.get('visits')).toEqual([1000, 1001, 1002, 1003]);
  });

  it('deepCoadd_coverage equals coverage.fits byte for byte', async () => {
    const bytes = (await store.get(out.coverage as DatasetRef)) as Uint8Array;
    const file = readFileSync(join(dir, 'files', patchKey, 'r', 'coverage.fits'));
    expect(Buffer.from(bytes).equals(file)).toBe(true);
  });

  it('deepCoadd_calexp equals coadd.fits (mask with DETECTED, image, variance)', async () => {
    const file = await readExposure(join(dir, 'files', patchKey, 'r', 'coadd.fits'));
    const calexp = (await store.get(out.calexp as DatasetRef)) as Exposure;
    expect(bytesOf(calexp.mask.data).equals(bytesOf(file.mask.data))).toBe(true);
    expect(bytesOf(calexp.image.data).equals(bytesOf(file.image.data))).toBe(true);
    expect(bytesOf(calexp.variance.data).equals(bytesOf(file.variance.data))).toBe(true);
    // Detection measured the coadd's smoothed noise: warping correlates it, so it is
    // above the variance plane's prediction (Lanczos3: ~1.1-1.2).
    const ratio = tasks.detect.metadata.get('noiseRatio') as number;
    expect(ratio).toBeGreaterThan(1.03);
    expect(ratio).toBeLessThan(1.3);
    const det = (await store.get(out.detections as DatasetRef)) as Record<string, unknown>;
    expect(det.noiseRatio).toBe(ratio);
  });

  it('deepCoadd_meas equals sources.parquet column by column', async () => {
    const cat = (await store.get(out.catalog as DatasetRef)) as Catalog;
    const file = await parquetCatalogFormatter.fromFile(
      join(dir, 'files', patchKey, 'r', 'sources.parquet'),
    );
    expect(cat.length).toBe(summary.sources);
    expect(cat.length).toBeGreaterThan(10);
    expect(cat.columns.map((c) => c.name)).toEqual(file.columns.map((c) => c.name));
    for (const c of file.columns) {
      const mine = cat.column(c.name);
      expect(mine.kind, c.name).toBe(c.kind);
      expect(Array.from(mine.data as ArrayLike<unknown>), c.name).toEqual(
        Array.from(c.data as ArrayLike<unknown>),
      );
    }
    expect(tasks.measure.metadata.get('nSources')).toBe(summary.sources);
  });

  it('a patch no CCD lands on: NoWorkFound', async () => {
    const far = skyMapFrom({ ...skymapConfig, centers: [{ ra: 10, dec: -40 }] });
    const e = await readExposure(join(fixtures, 'calexp/1000/calexp_SimCam_r_1000_000.fits'));
    const task = makeTask(MakeDirectWarpTask);
    await expect(
      task.runWith(
        { calexps: [e], skyMap: far },
        {
          dataId: { instrument: 'SimCam', skymap: 'far', tract: 0, patch: 0, visit: 1000 },
          backend: cpuBackend(),
        },
      ),
    ).rejects.toBeInstanceOf(NoWorkFound);
  });

  it('the pipeline YAML builds a graph with the four tasks in order', async () => {
    const p = Pipeline.fromFile(
      new URL('../../tasks/pipelines/coadd.yaml', import.meta.url).pathname,
    );
    await p.importTasks();
    const g = p.toGraph();
    expect(g.order).toEqual([
      'makeDirectWarp',
      'assembleCoadd',
      'detectCoaddSources',
      'measureCoaddSources',
    ]);
    expect(p.toGraph({}).tasks.get('assembleCoadd')?.config.statistic).toBe('MEANCLIP');
  });
});
