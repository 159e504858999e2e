/**
 * Executors on the tiny fixture repository with the test pipeline (warp -> assemble -> detect):
 * in-process and `-j 2` (child processes) against the full Butler, quantum-backed execution of
 * two disjoint subsets followed by the aggregate step, skip-existing, failure pruning, NoWorkFound,
 * and a run killed mid-quantum then re-run (no duplicates, no leftover files). The registry
 * matters here (registration, aggregate), so the suite runs on SQLite and PostgreSQL.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Butler } from '../../../src/butler/butler.ts';
import {
  aggregateGraph,
  executeGraph,
  outcomeDirOf,
  reportGraph,
} from '../../../src/pipe/exec/index.ts';
import { QuantumGraphReader } from '../../../src/pipe/graph/index.ts';
import { declareUnavailable, testDatabases } from '../../butler/registry/databases.ts';
import { makeFixtureRepo, ROOT } from '../graph/repo.ts';
import { countRun, graphIn, leftovers, runContents, saveTestGraph } from './harness.ts';

describe.each(testDatabases())('executors ($name)', (db) => {
  if (declareUnavailable(db, 'exec')) return;
  let dir: string;
  let repo: string;
  let reference: Map<string, unknown>;
  beforeAll(async () => {
    await db.setup();
    dir = mkdtempSync(join(tmpdir(), 'gpu-drp-exec-'));
    repo = join(dir, 'repo');
    await makeFixtureRepo(repo, db.name === 'sqlite' ? undefined : await db.newUrl());
  }, 60_000);
  afterAll(async () => {
    await db.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a graph in process: every quantum, outputs registered with real values', async () => {
    const g = await saveTestGraph(repo, graphIn(dir, 'a'), { run: 'out/a' });
    const spec = {
      repo,
      mode: 'butler' as const,
      graphPath: g.path,
      outcomesDir: outcomeDirOf(g.path),
    };
    // the dataset types must be registered, or registration asked for
    await expect(executeGraph(spec)).rejects.toThrow(/--register-dataset-types/);
    const s = await executeGraph(spec, { registerDatasetTypes: true });
    expect(s.totals.succeeded).toBe(g.quanta);
    expect(s.totals.failed).toBe(0);
    reference = await runContents(repo, 'out/a');
    const reader = await QuantumGraphReader.open(g.path);
    const nodes = await reader.nodes();
    // each coadd lists the visits of its quantum's warps; each catalog counts them
    for (const n of nodes.filter((x) => x.label === 'assemble')) {
      const q = await reader.readQuantum(n.id);
      const visits = q.inputs.warps!.map((w) => w.dataId.visit).sort();
      expect(reference.get(`testCoadd - ${n.dataId.patch}`)).toMatchObject({ visits });
      expect(reference.get(`testCatalog - ${n.dataId.patch}`)).toMatchObject({
        nVisits: visits.length,
      });
    }
    for (const n of nodes.filter((x) => x.label === 'makeWarp')) {
      const q = await reader.readQuantum(n.id);
      expect(reference.get(`testWarp ${n.dataId.visit} ${n.dataId.patch}`)).toMatchObject({
        detectors: q.inputs.calexps!.map((c) => c.dataId.detector),
      });
    }
    await reader.close();
    // metadata, log and config datasets
    const b = await Butler.open(repo);
    const md = (await b.get(
      'assemble_metadata',
      { skymap: 'sim-tiny', tract: 0, patch: 4 },
      {
        collections: 'out/a',
      },
    )) as { quantum: Record<string, unknown>; exec: Record<string, unknown> };
    expect(md.exec.status).toBe('succeeded');
    expect(md.quantum.inputCount).toBeGreaterThan(0);
    expect(typeof md.quantum.runQuantumWallTime).toBe('number');
    const log = (await b.get(
      'assemble_log',
      { skymap: 'sim-tiny', tract: 0, patch: 4 },
      {
        collections: 'out/a',
      },
    )) as Uint8Array;
    expect(Buffer.from(log).toString()).toMatch(/"name":"gpu_drp.assemble"/);
    const cfg = (await b.get('assemble_config', {}, { collections: 'out/a' })) as {
      minWarps: number;
    };
    expect(cfg.minWarps).toBe(1);
    await b.close();
    expect(await leftovers(repo)).toEqual({ orphans: 0, temp: 0, missing: 0 });
    // a report from the outcome files
    const rep = await reportGraph(g.path);
    expect(rep.perTask.detect!.succeeded).toBe(nodes.filter((n) => n.label === 'detect').length);
  }, 120_000);

  it('skips quanta whose outputs exist (--skip-existing-in) and writes nothing new', async () => {
    const before = await countRun(repo, 'out/a');
    const s = await executeGraph({
      repo,
      mode: 'butler',
      graphPath: graphIn(dir, 'a'),
      skipExistingIn: ['out/a'],
    });
    expect(s.totals.skipped).toBe(s.outcomes.length);
    expect(s.totals.succeeded).toBe(0);
    expect(await countRun(repo, 'out/a')).toBe(before);
    // without skipping, finished outputs are an error per quantum (no duplicates)
    const again = await executeGraph({ repo, mode: 'butler', graphPath: graphIn(dir, 'a') });
    expect(again.totals.failed).toBeGreaterThan(0);
    expect(again.outcomes.find((o) => o.status === 'failed')!.error!.message).toMatch(
      /clobber-outputs/,
    );
    expect(await countRun(repo, 'out/a')).toBe(before);
  }, 120_000);

  it('runs with -j 2 (child processes) to the same contents', async () => {
    const g = await saveTestGraph(repo, graphIn(dir, 'j2'), { run: 'out/j2' });
    const s = await executeGraph(
      { repo, mode: 'butler', graphPath: g.path },
      { jobs: 2, registerDatasetTypes: true },
    );
    expect(s.totals.succeeded).toBe(g.quanta);
    const pids = new Set(s.outcomes.map((o) => o.pid));
    expect(pids.has(process.pid)).toBe(false);
    expect(pids.size).toBe(2);
    expect(await runContents(repo, 'out/j2')).toEqual(reference);
  }, 120_000);

  it('prunes the dependents of a failed quantum and treats NoWorkFound as a skip', async () => {
    // fail the visit covering the fewest patches, find no work in the next fewest
    const probe = await saveTestGraph(repo, graphIn(dir, 'probe'), { run: 'out/probe' });
    const pr = await QuantumGraphReader.open(probe.path);
    const perVisit = new Map<number, number>();
    for (const n of await pr.nodes())
      if (n.label === 'makeWarp')
        perVisit.set(n.dataId.visit as number, (perVisit.get(n.dataId.visit as number) ?? 0) + 1);
    await pr.close();
    const [failVisit, noWorkVisit] = [...perVisit].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
    const g = await saveTestGraph(repo, graphIn(dir, 'fail'), {
      run: 'out/fail',
      overrides: [`makeWarp:failVisits=[${failVisit}]`, `makeWarp:noWorkVisits=[${noWorkVisit}]`],
    });
    const s = await executeGraph(
      { repo, mode: 'butler', graphPath: g.path, outcomesDir: outcomeDirOf(g.path) },
      { registerDatasetTypes: true },
    );
    const reader = await QuantumGraphReader.open(g.path);
    const nodes = await reader.nodes();
    const warps = nodes.filter((n) => n.label === 'makeWarp');
    const failedIds = new Set(warps.filter((n) => n.dataId.visit === failVisit).map((n) => n.id));
    expect(s.perTask.makeWarp!.failed).toBe(failedIds.size);
    expect(s.perTask.makeWarp!['no-work']).toBe(
      warps.filter((n) => n.dataId.visit === noWorkVisit).length,
    );
    const blockedAssemble = nodes.filter(
      (n) => n.label === 'assemble' && n.upstream.some((u) => failedIds.has(u)),
    );
    expect(blockedAssemble.length).toBeGreaterThan(0);
    expect(s.perTask.assemble!.blocked).toBe(blockedAssemble.length);
    expect(s.perTask.detect!.blocked).toBe(blockedAssemble.length);
    const visitOf = new Map(warps.map((n) => [n.id, n.dataId.visit]));
    const live = nodes.filter(
      (n) =>
        n.label === 'assemble' &&
        !n.upstream.some((u) => failedIds.has(u)) &&
        n.upstream.some((u) => visitOf.get(u) !== noWorkVisit),
    );
    expect(s.perTask.assemble!.succeeded).toBe(live.length);
    expect(s.perTask.assemble!['no-work']).toBe(
      nodes.filter((n) => n.label === 'assemble').length - blockedAssemble.length - live.length,
    );
    // the surviving coadds were made without the no-work visit; the failed one never reached them
    const contents = await runContents(repo, 'out/fail');
    for (const [k, v] of contents) {
      if (k.startsWith('testCoadd')) {
        expect((v as { visits: number[] }).visits).not.toContain(noWorkVisit);
        expect((v as { visits: number[] }).visits).not.toContain(failVisit);
      }
    }
    await reader.close();
    const rep = await reportGraph(g.path);
    expect(rep.perTask.makeWarp!.failed).toBe(failedIds.size);
    expect(rep.failures[0]!.error!.message).toMatch(
      new RegExp(`visit ${failVisit} is configured to fail`),
    );
    expect(await leftovers(repo)).toEqual({ orphans: 0, temp: 0, missing: 0 });
  }, 120_000);

  it('executes quantum-backed over two disjoint subsets, then aggregate-graph registers the same contents', async () => {
    const g = await saveTestGraph(repo, graphIn(dir, 'qbb'), { run: 'out/qbb' });
    const reader = await QuantumGraphReader.open(g.path);
    const nodes = await reader.nodes();
    await reader.close();
    const first = nodes.filter((n) => n.label === 'makeWarp').map((n) => n.id);
    const rest = nodes.filter((n) => n.label !== 'makeWarp').map((n) => n.id);
    const spec = {
      repo,
      mode: 'qbb' as const,
      graphPath: g.path,
      outcomesDir: outcomeDirOf(g.path),
    };
    const s1 = await executeGraph(spec, { quantumIds: first });
    expect(s1.totals.succeeded).toBe(first.length);
    const s2 = await executeGraph(spec, { quantumIds: rest });
    expect(s2.totals.succeeded).toBe(rest.length);
    // nothing registered yet: the registry was never touched
    const b = await Butler.open(repo);
    expect(await b.registry.queryCollections({ pattern: 'out/qbb' } as never)).not.toContainEqual(
      expect.objectContaining({ name: 'out/qbb' }),
    );
    const agg = await aggregateGraph(b, g.path, { registerDatasetTypes: true });
    expect(agg.quanta).toBe(nodes.length);
    expect(agg.incomplete).toBe(0);
    const n1 = (await b.registry.queryDatasets('*', { collections: ['out/qbb'] })).length;
    // idempotent
    const again = await aggregateGraph(b, g.path);
    expect(again.datasets).toBe(agg.datasets);
    expect((await b.registry.queryDatasets('*', { collections: ['out/qbb'] })).length).toBe(n1);
    expect(n1).toBe(agg.datasets);
    await b.close();
    expect(await runContents(repo, 'out/qbb')).toEqual(reference);
    expect(await leftovers(repo)).toEqual({ orphans: 0, temp: 0, missing: 0 });
  }, 120_000);

  it('survives a kill mid-quantum: the re-run leaves no duplicates and no leftover files', async () => {
    const g = await saveTestGraph(repo, graphIn(dir, 'kill'), {
      run: 'out/kill',
      overrides: ['makeWarp:sleepMs=300'],
    });
    const spec = { repo, mode: 'butler', graphPath: g.path, outcomesDir: outcomeDirOf(g.path) };
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'test/pipe/exec/run-graph.ts'),
        JSON.stringify({ spec, jobs: 1 }),
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    const outcomes = outcomeDirOf(g.path);
    // kill once a few quanta have finished, while the next one sleeps inside run()
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        const n = existsSync(outcomes)
          ? readdirSync(outcomes).filter((f) => f.endsWith('.json')).length
          : 0;
        if (n >= 3) {
          clearInterval(t);
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 150);
        }
      }, 20);
      child.once('exit', () => {
        clearInterval(t);
        reject(new Error('the child finished before it was killed'));
      });
    });
    await new Promise((r) => child.once('exit', r));
    const partial = await countRun(repo, 'out/kill');
    expect(partial).toBeGreaterThan(0);
    const s = await executeGraph(
      { ...spec, mode: 'butler', skipExistingIn: ['out/kill'], clobberOutputs: true },
      { jobs: 1 },
    );
    expect(s.totals.failed).toBe(0);
    expect(s.totals.skipped).toBeGreaterThanOrEqual(3);
    expect(s.totals.skipped + s.totals.succeeded).toBe(g.quanta);
    expect(await runContents(repo, 'out/kill')).toEqual(reference);
    // every quantum: outputs + metadata + log; plus one config per task
    expect(await countRun(repo, 'out/kill')).toBe(g.quanta * 3 + 3);
    expect(await leftovers(repo)).toEqual({ orphans: 0, temp: 0, missing: 0 });
  }, 120_000);
});
