/**
 * `pipetask` (qgraph, run -j 2, run-qbb, report), `butler aggregate-graph` and `gpu-job` on the
 * tiny fixture repository with the test pipeline: exit codes, the output CHAINED collection,
 * registry contents equal across the three ways of executing, JSON-line logs and job reports.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Butler } from '../../src/butler/butler.ts';
import { butlerCli } from '../../src/cli/butler.ts';
import { gpuJobCli, jobExitCode, selectQuanta } from '../../src/cli/gpu-job.ts';
import { defaultOutputRun, pipetaskCli } from '../../src/cli/pipetask.ts';
import { QuantumGraphReader } from '../../src/pipe/graph/index.ts';
import { runInProcess } from '../helpers/cli.ts';
import { runContents } from '../pipe/exec/harness.ts';
import { makeFixtureRepo, TEST_PIPELINE } from '../pipe/graph/repo.ts';

/** Runs a CLI in process; returns its exit code and output. */
async function cli(
  fn: (argv: string[]) => Promise<void>,
  argv: string[],
): Promise<{ code: number; out: string; err: string }> {
  const r = await runInProcess(fn, argv);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('pipetask, aggregate-graph and gpu-job', () => {
  let dir: string;
  let repo: string;
  let reference: Map<string, unknown>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpu-drp-pipetask-'));
    repo = join(dir, 'repo');
    await makeFixtureRepo(repo);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the default output run OUTPUT/<UTC timestamp>', () => {
    expect(defaultOutputRun('u/me/coadd', new Date('2025-01-02T03:04:05.678Z'))).toBe(
      'u/me/coadd/20250102T030405Z',
    );
  });

  it('qgraph saves a graph; a malformed -d is a usage error (exit 2)', async () => {
    const file = join(dir, 'q.qg');
    const r = await cli(pipetaskCli, [
      'qgraph',
      ...['-b', repo, '-i', 'run/in', '--output-run', 'out/q', '-p', TEST_PIPELINE],
      ...['-d', 'visit IN (1000, 1001)', '--save-qgraph', file],
    ]);
    expect(r.code).toBe(0);
    const reader = await QuantumGraphReader.open(file);
    const nodes = await reader.nodes();
    await reader.close();
    expect(new Set(nodes.filter((n) => n.label === 'makeWarp').map((n) => n.dataId.visit))).toEqual(
      new Set([1000, 1001]),
    );
    const bad = await cli(pipetaskCli, [
      'qgraph',
      ...['-b', repo, '-i', 'run/in', '--output-run', 'out/q2', '-p', TEST_PIPELINE],
      ...['-d', 'visit IN (', '--save-qgraph', join(dir, 'bad.qg')],
    ]);
    expect(bad.code).toBe(2);
    expect((await cli(pipetaskCli, ['frobnicate'])).code).toBe(2);
  });

  it('run -j 2 executes, chains OUTPUT -> [run, inputs]; report counts; re-run needs --extend-run', async () => {
    const file = join(dir, 'run.qg');
    const r = await cli(pipetaskCli, [
      'run',
      ...['-b', repo, '-i', 'run/in', '-o', 'u/test', '-p', TEST_PIPELINE],
      ...['-j', '2', '--register-dataset-types', '--save-qgraph', file],
    ]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const b = await Butler.open(repo);
    const chain = await b.registry.getCollectionChain('u/test');
    await b.close();
    expect(chain[0]).toMatch(/^u\/test\/\d{8}T\d{6}Z$/);
    expect(chain[1]).toBe('run/in');
    reference = await runContents(repo, chain[0]!);
    expect(reference.size).toBeGreaterThan(10);
    const rep = await cli(pipetaskCli, ['report', repo, file, '--json']);
    expect(rep.code).toBe(0);
    const report = JSON.parse(rep.out) as { perTask: Record<string, { succeeded: number }> };
    const reader = await QuantumGraphReader.open(file);
    const nodes = await reader.nodes();
    await reader.close();
    expect(report.perTask.makeWarp!.succeeded).toBe(
      nodes.filter((n) => n.label === 'makeWarp').length,
    );
    // the same run again: outputs exist
    const again = await cli(pipetaskCli, [
      'run',
      ...['-b', repo, '-i', 'run/in', '--output-run', chain[0]!, '-p', TEST_PIPELINE],
    ]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/--extend-run/);
    const extended = await cli(pipetaskCli, [
      'run',
      ...['-b', repo, '-i', 'run/in', '-o', 'u/test', '--extend-run', '-p', TEST_PIPELINE],
      ...['--skip-existing-in', chain[0]!],
    ]);
    expect(extended.code).toBe(0);
    expect(extended.out).toMatch(/skipped/);
  }, 120_000);

  it('run-qbb then butler aggregate-graph gives the same registry contents', async () => {
    const file = join(dir, 'qbb.qg');
    expect(
      (
        await cli(pipetaskCli, [
          'qgraph',
          ...['-b', repo, '-i', 'run/in', '--output-run', 'out/qbb', '-p', TEST_PIPELINE],
          ...['--save-qgraph', file],
        ])
      ).code,
    ).toBe(0);
    expect((await cli(pipetaskCli, ['run-qbb', repo, file])).code).toBe(0);
    const agg = await cli(butlerCli, ['aggregate-graph', repo, file, '--register-dataset-types']);
    expect(agg.code).toBe(0);
    expect(await runContents(repo, 'out/qbb')).toEqual(reference);
  }, 120_000);

  it('gpu-job runs two disjoint subsets with one backend; logs JSON lines and writes a report', async () => {
    const file = join(dir, 'job.qg');
    await cli(pipetaskCli, [
      'qgraph',
      ...['-b', repo, '-i', 'run/in', '--output-run', 'out/job', '-p', TEST_PIPELINE],
      ...['--save-qgraph', file],
    ]);
    const report = join(dir, 'job1.json');
    const j1 = await cli(gpuJobCli, [
      file,
      ...['--repo', repo, '--cluster', 'makeWarp', '--backend', 'cpu', '--report', report],
    ]);
    expect(j1.code).toBe(0);
    const lines = j1.err
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; backend?: string; status?: string });
    expect(lines[0]).toMatchObject({ event: 'job-start', backend: 'cpu' });
    expect(
      lines.filter((l) => l.event === 'quantum-end').every((l) => l.status === 'succeeded'),
    ).toBe(true);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as {
      exitCode: number;
      quanta: { label: string; status: string }[];
    };
    expect(rep.exitCode).toBe(0);
    expect(rep.quanta.length).toBeGreaterThan(0);
    expect(rep.quanta.every((q) => q.label === 'makeWarp')).toBe(true);
    for (const label of ['assemble', 'detect']) {
      expect(
        (await cli(gpuJobCli, [file, '--repo', repo, '--cluster', label, '--backend', 'cpu'])).code,
      ).toBe(0);
    }
    expect(
      (await cli(butlerCli, ['aggregate-graph', repo, file, '--register-dataset-types'])).code,
    ).toBe(0);
    expect(await runContents(repo, 'out/job')).toEqual(reference);
    expect((await cli(gpuJobCli, [file, '--repo', repo, '--backend', 'cpu'])).code).toBe(2);
  }, 120_000);

  it('gpu-job exit codes: 1 for failures that repeat, 75 transient, 4 device lost', async () => {
    const file = join(dir, 'fail.qg');
    await cli(pipetaskCli, [
      'qgraph',
      ...['-b', repo, '-i', 'run/in', '--output-run', 'out/fail', '-p', TEST_PIPELINE],
      ...['-c', 'makeWarp:failVisits=[1000]', '--save-qgraph', file],
    ]);
    const j = await cli(gpuJobCli, [file, '--repo', repo, '--index', '0/1', '--backend', 'cpu']);
    expect(j.code).toBe(1);
    const base = {
      quantumId: 'x',
      label: 'l',
      dataId: {},
      startUtc: null,
      wallTime: 0,
      outputs: [],
    };
    const fail = (kind: 'device' | 'transient' | 'permanent') => ({
      ...base,
      status: 'failed' as const,
      error: { code: 'C', message: 'm', retryable: kind !== 'permanent', kind },
    });
    expect(jobExitCode([fail('permanent'), fail('transient')], false)).toBe(75);
    expect(jobExitCode([fail('transient'), fail('device')], false)).toBe(4);
    expect(jobExitCode([{ ...base, status: 'succeeded' }], true)).toBe(130);
    const nodes = Array.from({ length: 10 }, (_, i) => ({
      id: `q${i}`,
      label: i < 5 ? 'a' : 'b',
      dataId: { visit: 100 + i },
      upstream: [],
    }));
    expect(selectQuanta(nodes, { index: '1/3' })).toEqual(['q4', 'q5', 'q6', 'q7']);
    expect(selectQuanta(nodes, { cluster: 'b:visit=10[6-7]' })).toEqual([]);
    expect(selectQuanta(nodes, { cluster: 'b:visit=10?' })).toEqual(['q5', 'q6', 'q7', 'q8', 'q9']);
    expect(selectQuanta(nodes, { cluster: '*:visit=*3' })).toEqual(['q3']);
  }, 120_000);
});
