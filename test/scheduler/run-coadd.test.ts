/**
 * The scheduler end to end on the committed `tiny` simulated dataset: planning from WCSs,
 * results that do not depend on the backend, and the fallback to the CPU when the GPU
 * device is lost mid-run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebGpuBackend } from '../../src/compute/webgpu/webgpu-backend.ts';
import { DiscreteSkyMap } from '../../src/geom/skymap.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import { scanInputs } from '../../src/scheduler/inputs.ts';
import { planCoadds, skymapTargets } from '../../src/scheduler/plan.ts';
import { type CoaddEvent, runCoadd } from '../../src/scheduler/run-coadd.ts';
import { cpuBackend, disposeBackends, webgpuOrNull } from '../helpers/backends.ts';

const fixtures = new URL('../../fixtures/sim/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-sched-'));
afterAll(async () => {
  await disposeBackends();
  rmSync(dir, { recursive: true, force: true });
});

async function plan() {
  const cfg = JSON.parse(readFileSync(join(fixtures, 'skymap.json'), 'utf8'));
  const { kind: _k, name: _n, ...rest } = cfg;
  const skymap = new DiscreteSkyMap(rest);
  const { inputs, skipped } = await scanInputs([join(fixtures, 'calexp')]);
  return { inputs, skipped, units: planCoadds(inputs, skymapTargets(skymap)) };
}

describe('scheduler', () => {
  it('plans one warp per visit and one stack per patch and band, from headers alone', async () => {
    const { inputs, skipped, units } = await plan();
    expect(skipped).toEqual([]);
    expect(inputs).toHaveLength(8);
    expect(new Set(inputs.map((i) => i.visit))).toEqual(new Set([1000, 1001, 1002, 1003]));
    expect(units).toHaveLength(9);
    const centre = units.find((u) => u.target.key === 'tract0/patch1,1')!;
    expect(centre.band).toBe('r');
    expect(centre.visits.map((v) => v.visit)).toEqual([1000, 1001, 1002, 1003]);
    expect(centre.visits.every((v) => v.inputs.length === 2)).toBe(true);
  });

  it('a lost GPU device mid-run: the unit is redone on the CPU with the same result', async () => {
    const { units } = await plan();
    const centre = units.filter((u) => u.target.key === 'tract0/patch1,1');
    const cpuOut = join(dir, 'cpu');
    await runCoadd(centre, {
      backend: cpuBackend(),
      outDir: cpuOut,
      statistic: 'MEANCLIP',
      kernel: 'lanczos3',
      threshold: 5,
      clobber: false,
    });
    const probe = await webgpuOrNull();
    if (!probe) return expect(process.env.CI).not.toBe('true');
    const gpu = await WebGpuBackend.create();
    gpu.device.destroy();
    const events: CoaddEvent[] = [];
    const gpuOut = join(dir, 'gpu');
    await runCoadd(centre, {
      backend: gpu,
      outDir: gpuOut,
      statistic: 'MEANCLIP',
      kernel: 'lanczos3',
      threshold: 5,
      clobber: false,
      onEvent: (e) => events.push(e),
    });
    await gpu.dispose();
    expect(
      events.some((e) => e.type === 'fallback' && /device lost|disposed/i.test(e.reason)),
    ).toBe(true);
    const a = await readExposure(join(cpuOut, 'tract0/patch1,1/r/coadd.fits'));
    const b = await readExposure(join(gpuOut, 'tract0/patch1,1/r/coadd.fits'));
    expect(b.image.data).toEqual(a.image.data);
    expect(b.mask.data).toEqual(a.mask.data);
  });
});
