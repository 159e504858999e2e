/**
 * Quantum-graph building on the tiny fixture repository (4 visits x 2 CCDs, 3x3 patches), on
 * SQLite and PostgreSQL registries: quanta counts and the inputs of each warp quantum against
 * CCD-patch overlaps computed here independently (gnomonic projection + separating axes, not
 * the registry's HTM / spherical code), pruning by `minimum`, deterministic ids, where
 * constraints, and the `.qg` file (single-quantum reads, also from a 10k-quanta graph).
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Butler } from '../../../src/butler/butler.ts';
import { datasetId } from '../../../src/butler/registry/index.ts';
import {
  buildQuantumGraph,
  EmptyGraphError,
  type GraphHeader,
  loadPipelineGraph,
  loadQuantumGraph,
  type Quantum,
  QuantumGraph,
  QuantumGraphReader,
  saveQuantumGraph,
} from '../../../src/pipe/graph/index.ts';
import { Pipeline, type PipelineGraph, parseConfigOption } from '../../../src/pipe/index.ts';
import { declareUnavailable, testDatabases } from '../../butler/registry/databases.ts';
import { makeFixtureRepo, TEST_PIPELINE } from './repo.ts';

type Poly = Array<[number, number]>;

/** Gnomonic projection about (ra0, dec0), degrees in, tangent-plane units out. */
function gnomonic(ra0: number, dec0: number): (p: [number, number]) => [number, number] {
  const r = Math.PI / 180;
  const [a0, d0] = [ra0 * r, dec0 * r];
  return ([ra, dec]) => {
    const a = ra * r;
    const d = dec * r;
    const cosc = Math.sin(d0) * Math.sin(d) + Math.cos(d0) * Math.cos(d) * Math.cos(a - a0);
    return [
      (Math.cos(d) * Math.sin(a - a0)) / cosc,
      (Math.cos(d0) * Math.sin(d) - Math.sin(d0) * Math.cos(d) * Math.cos(a - a0)) / cosc,
    ];
  };
}

function convexOverlap(a: Poly, b: Poly): boolean {
  for (const poly of [a, b]) {
    for (let i = 0; i < poly.length; i++) {
      const p = poly[i]!;
      const q = poly[(i + 1) % poly.length]!;
      const n = [q[1] - p[1], p[0] - q[0]] as const;
      const proj = (pts: Poly) => pts.map(([x, y]) => x * n[0] + y * n[1]);
      const pa = proj(a);
      const pb = proj(b);
      if (Math.max(...pa) < Math.min(...pb) || Math.max(...pb) < Math.min(...pa)) return false;
    }
  }
  return true;
}

interface Expected {
  /** "visit/patch" -> overlapping detectors. */
  readonly warps: Map<string, number[]>;
  /** patch -> visits with at least one overlapping CCD. */
  readonly patches: Map<number, number[]>;
}

async function expectedOverlaps(butler: Butler): Promise<Expected> {
  const ccds = await butler.registry.queryDimensionRecords('visit_detector_region');
  const patches = await butler.registry.queryDimensionRecords('patch');
  const all = [...ccds, ...patches].flatMap((r) => r.region as Poly);
  const ra0 = all.reduce((s, p) => s + p[0], 0) / all.length;
  const dec0 = all.reduce((s, p) => s + p[1], 0) / all.length;
  const proj = gnomonic(ra0, dec0);
  const warps = new Map<string, number[]>();
  const byPatch = new Map<number, Set<number>>();
  for (const p of patches) {
    const pp = (p.region as Poly).map(proj);
    for (const c of ccds) {
      if (!convexOverlap(pp, (c.region as Poly).map(proj))) continue;
      const k = `${c.visit}/${p.id}`;
      warps.set(
        k,
        [...(warps.get(k) ?? []), c.detector as number].sort((a, b) => a - b),
      );
      const s = byPatch.get(p.id as number) ?? new Set();
      s.add(c.visit as number);
      byPatch.set(p.id as number, s);
    }
  }
  return {
    warps,
    patches: new Map([...byPatch].map(([k, v]) => [k, [...v].sort((a, b) => a - b)])),
  };
}

async function pipelineGraph(butler: Butler, overrides: string[] = []): Promise<PipelineGraph> {
  const p = Pipeline.fromFile(TEST_PIPELINE);
  await p.importTasks({ baseDir: dirname(TEST_PIPELINE) });
  return p.toGraph({
    universe: butler.registry.universe,
    overrides: overrides.map(parseConfigOption),
  });
}

const byLabel = (qs: Iterable<Quantum>, label: string) => [...qs].filter((q) => q.label === label);

describe.each(testDatabases())('quantum graph building ($name)', (db) => {
  if (declareUnavailable(db, 'graph')) return;
  let dir: string;
  let butler: Butler;
  let expected: Expected;
  beforeAll(async () => {
    await db.setup();
    dir = mkdtempSync(join(tmpdir(), 'gpu-drp-graph-'));
    await makeFixtureRepo(join(dir, 'repo'), db.name === 'sqlite' ? undefined : await db.newUrl());
    butler = await Butler.open(join(dir, 'repo'));
    expected = await expectedOverlaps(butler);
  }, 60_000);
  afterAll(async () => {
    await butler?.close();
    await db.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes one warp quantum per overlapping (visit, patch) with exactly the overlapping CCDs', async () => {
    const g = await buildQuantumGraph(butler.registry, await pipelineGraph(butler), {
      inputCollections: ['run/in'],
      outputRun: 'out/a',
    });
    const warps = byLabel(g.quanta.values(), 'makeWarp');
    expect(expected.warps.size).toBeGreaterThan(4);
    expect(warps.length).toBe(expected.warps.size);
    for (const q of warps) {
      const k = `${q.dataId.visit}/${q.dataId.patch}`;
      const dets = q.inputs.calexps!.map((r) => r.dataId.detector as number);
      expect(dets, k).toEqual(expected.warps.get(k));
      for (const r of q.inputs.calexps!) {
        expect(r.dataId.visit).toBe(q.dataId.visit);
        // records of the overall inputs travel with the quantum
        expect(q.records[r.id]?.[0]?.path).toMatch(/calexp/);
      }
      expect(q.upstream).toEqual([]);
    }
    const assembles = byLabel(g.quanta.values(), 'assemble');
    expect(assembles.length).toBe(expected.patches.size);
    for (const q of assembles) {
      const visits = q.inputs.warps!.map((r) => r.dataId.visit as number).sort((a, b) => a - b);
      expect(visits).toEqual(expected.patches.get(q.dataId.patch as number));
      // edges: one upstream warp quantum per input warp
      expect(q.upstream.length).toBe(visits.length);
      for (const u of q.upstream) expect(g.quantum(u).label).toBe('makeWarp');
    }
    expect(byLabel(g.quanta.values(), 'detect').length).toBe(expected.patches.size);
    expect(g.header.quantaPerTask).toEqual({
      makeWarp: expected.warps.size,
      assemble: expected.patches.size,
      detect: expected.patches.size,
    });
  });

  it('prunes quanta with fewer inputs than the minimum, and their dependents', async () => {
    const counts = [...expected.patches.values()].map((v) => v.length);
    const min = Math.max(...counts);
    const keep = counts.filter((n) => n >= min).length;
    expect(keep).toBeLessThan(counts.length);
    const g = await buildQuantumGraph(
      butler.registry,
      await pipelineGraph(butler, [`assemble:minWarps=${min}`]),
      { inputCollections: ['run/in'], outputRun: 'out/a' },
    );
    expect(g.header.quantaPerTask.assemble).toBe(keep);
    expect(g.header.prunedPerTask.assemble).toBe(counts.length - keep);
    expect(g.header.quantaPerTask.detect).toBe(keep);
    for (const q of byLabel(g.quanta.values(), 'assemble'))
      expect(q.inputs.warps!.length).toBeGreaterThanOrEqual(min);
  });

  it('gives deterministic ids: same run same ids, another run other ids', async () => {
    const pg = await pipelineGraph(butler);
    const a = await buildQuantumGraph(butler.registry, pg, {
      inputCollections: ['run/in'],
      outputRun: 'out/a',
    });
    const b = await buildQuantumGraph(butler.registry, pg, {
      inputCollections: ['run/in'],
      outputRun: 'out/a',
    });
    const c = await buildQuantumGraph(butler.registry, pg, {
      inputCollections: ['run/in'],
      outputRun: 'out/c',
    });
    expect([...a.quanta.keys()]).toEqual([...b.quanta.keys()]);
    const outIds = (g: QuantumGraph) =>
      [...g.quanta.values()].flatMap((q) =>
        Object.values(q.outputs).flatMap((l) => l.map((r) => r.id)),
      );
    expect(outIds(a)).toEqual(outIds(b));
    const setC = new Set(outIds(c));
    expect(outIds(a).some((id) => setC.has(id))).toBe(false);
    const q = byLabel(a.quanta.values(), 'assemble')[0]!;
    const ref = q.outputs.coadd![0]!;
    expect(ref.id).toBe(
      datasetId(
        'DATAID_TYPE_RUN',
        'testCoadd',
        { skymap: ref.dataId.skymap!, tract: ref.dataId.tract!, patch: ref.dataId.patch! },
        'out/a',
      ),
    );
    // the assemble quantum's inputs are the warp quanta's predicted outputs
    const warpOutputs = new Set(
      byLabel(a.quanta.values(), 'makeWarp').map((w) => w.outputs.warp![0]!.id),
    );
    for (const r of q.inputs.warps!) expect(warpOutputs.has(r.id)).toBe(true);
  });

  it('applies the where-expression to every task', async () => {
    const g = await buildQuantumGraph(butler.registry, await pipelineGraph(butler), {
      inputCollections: ['run/in'],
      outputRun: 'out/a',
      where: 'visit = 1001',
    });
    const warps = byLabel(g.quanta.values(), 'makeWarp');
    const want = [...expected.warps.keys()].filter((k) => k.startsWith('1001/'));
    expect(warps.map((q) => `${q.dataId.visit}/${q.dataId.patch}`).sort()).toEqual(want.sort());
    for (const q of byLabel(g.quanta.values(), 'assemble'))
      expect(q.inputs.warps!.map((r) => r.dataId.visit)).toEqual([1001]);
    await expect(
      buildQuantumGraph(butler.registry, await pipelineGraph(butler), {
        inputCollections: ['run/in'],
        outputRun: 'out/a',
        where: 'visit = 99',
      }),
    ).rejects.toBeInstanceOf(EmptyGraphError);
  });

  it('saves to a .qg file from which single quanta and the pipeline read back', async () => {
    const g = await buildQuantumGraph(
      butler.registry,
      await pipelineGraph(butler, ['assemble:minWarps=2']),
      { inputCollections: ['run/in'], outputRun: 'out/a', pipelineDir: dirname(TEST_PIPELINE) },
    );
    const file = join(dir, 'a.qg');
    await saveQuantumGraph(g, file);
    const r = await QuantumGraphReader.open(file);
    try {
      for (const q of g.quanta.values()) expect(await r.readQuantum(q.id)).toEqual(q);
      const nodes = await r.nodes();
      expect(nodes.map((n) => n.id)).toEqual([...g.quanta.keys()]);
      expect(nodes.map((n) => n.upstream)).toEqual([...g.quanta.values()].map((q) => q.upstream));
      const pg = await loadPipelineGraph(r.header, butler.registry.universe);
      expect(pg.order).toEqual(['makeWarp', 'assemble', 'detect']);
      expect(pg.task('assemble').config.minWarps).toBe(2);
      expect(pg.task('assemble').connections.inputs.get('warps')!.minimum).toBe(2);
    } finally {
      await r.close();
    }
    const all = await loadQuantumGraph(file);
    expect(all.header).toEqual(JSON.parse(JSON.stringify(g.header)));
  });
});

describe('.qg file of 10k quanta', () => {
  it('reads one quantum by id without loading the graph', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-qg10k-'));
    try {
      const header: GraphHeader = {
        format: 'gpu-drp-qgraph',
        version: 1,
        created: new Date().toISOString(),
        universe: null,
        inputCollections: ['in'],
        outputRun: 'out',
        output: null,
        where: '',
        pipeline: { description: '', instrument: null, parameters: {}, tasks: [] },
        datasetTypes: {},
        initRefs: {},
        initRecords: {},
        quantaPerTask: { t: 10_000 },
        prunedPerTask: {},
      };
      const quanta: Quantum[] = [];
      for (let i = 0; i < 10_000; i++) {
        const id = randomUUID();
        quanta.push({
          id,
          label: 't',
          dataId: { instrument: 'X', visit: i },
          inputs: {
            a: Array.from({ length: 5 }, (_, d) => ({
              id: randomUUID(),
              type: 'calexp',
              dataId: { instrument: 'X', visit: i, detector: d },
              run: 'in',
            })),
          },
          outputs: {},
          records: {},
          upstream: i > 0 ? [quanta[i - 1]!.id] : [],
        });
      }
      const file = join(dir, 'big.qg');
      await saveQuantumGraph(new QuantumGraph(header, quanta), file);
      expect(statSync(file).size).toBeGreaterThan(10_000 * 50);
      const t0 = performance.now();
      const r = await QuantumGraphReader.open(file);
      const q = await r.readQuantum(quanta[7777]!.id);
      const ms = performance.now() - t0;
      await r.close();
      expect(q).toEqual(quanta[7777]);
      expect(r.size).toBe(10_000);
      // open + one lookup reads a few hundred bytes, far from the whole (MBs) file
      expect(ms).toBeLessThan(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
