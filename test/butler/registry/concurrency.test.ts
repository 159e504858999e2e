/**
 * Concurrent writers: two processes ingesting into one registry at once (nothing lost or
 * duplicated), and SQLite's busy timeout surfacing as RegistryBusyError. Run per database.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { Registry, RegistryBusyError } from '../../../src/butler/registry/index.ts';
import { describeEachDatabase } from './databases.ts';

const WORKER = fileURLToPath(new URL('./fixtures/ingest-worker.ts', import.meta.url));

function runWorker(args: readonly string[]): Promise<{ inserted: number; ids: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`worker ${args.join(' ')} exited ${code}: ${err}`));
      else
        resolve(JSON.parse(out.trim().split('\n').pop()!) as { inserted: number; ids: string[] });
    });
  });
}

describeEachDatabase('registry concurrency', (ctx) => {
  it('takes two processes ingesting into one run at once without losing or duplicating rows', async () => {
    const url = await ctx.newUrl();
    const reg = ctx.track(await Registry.open(url, { create: true }));
    await reg.registerDatasetType({
      name: 'calexp',
      dimensions: ['instrument', 'visit', 'detector'],
      storageClass: 'ExposureF',
    });
    const visits = 30;
    // Both workers insert the same run, instrument, filter and visits; detectors differ.
    const [a, b] = await Promise.all([
      runWorker([url, 'shared/run', '0', '4', String(visits), '7']),
      runWorker([url, 'shared/run', '5', '9', String(visits), '11']),
    ]);
    expect(a.inserted).toBe(visits * 5);
    expect(b.inserted).toBe(visits * 5);
    const refs = await reg.queryDatasets('calexp', { collections: 'shared/run' });
    expect(refs).toHaveLength(visits * 10);
    expect(new Set(refs.map((r) => r.id))).toEqual(new Set([...a.ids, ...b.ids]));
    expect(new Set(refs.map((r) => `${r.dataId.visit}/${r.dataId.detector}`)).size).toBe(
      visits * 10,
    );
    expect(await reg.queryDimensionRecords('visit')).toHaveLength(visits);
  }, 120_000);

  it.runIf(ctx.db.name === 'sqlite')(
    'reports a writer that waits beyond the busy timeout',
    async () => {
      const url = await ctx.newUrl();
      const holder = ctx.track(await Registry.open(url, { create: true }));
      const waiter = ctx.track(await Registry.open(url, { busyTimeoutMs: 200 }));
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let started!: () => void;
      const inTx = new Promise<void>((r) => {
        started = r;
      });
      const tx = holder.transaction(async (t) => {
        await t.registerRun('held');
        started();
        await gate;
      });
      await inTx;
      const t0 = performance.now();
      const err = await waiter.registerRun('blocked').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryBusyError);
      expect((err as RegistryBusyError).code).toBe('REGISTRY_BUSY');
      expect((err as Error).message).toMatch(/busyTimeoutMs/);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
      release();
      await tx;
      expect(await waiter.registerRun('blocked')).toBe(true);
      expect((await waiter.queryCollections()).map((c) => c.name)).toEqual(['blocked', 'held']);
    },
  );
});
