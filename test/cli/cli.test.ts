/** The command-line entry points, run as a user runs them (separate processes). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { webgpuOrNull } from '../helpers/backends.ts';

const root = new URL('../../', import.meta.url).pathname;

function run(
  bin: 'gpu-coadd' | 'gpu-bench' | 'gpu-sim',
  args: string[],
  env: Record<string, string> = {},
) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `src/cli/bin/${bin}.ts`, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'gpu-drp-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('gpu-coadd info', () => {
  it('--json reports both backends and what auto picks', async () => {
    const probe = await webgpuOrNull();
    const r = run('gpu-coadd', ['info', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.backends.cpu).toEqual({ usable: true, threads: expect.any(Number) });
    expect(j.backends.webgpu.usable).toBe(probe !== null);
    expect(j.auto).toBe(probe ? 'webgpu' : 'cpu');
    if (probe) {
      expect(j.backends.webgpu.adapter.vendor).toBe(probe.adapter.vendor);
      expect(j.backends.webgpu.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(
        128 << 20,
      );
      expect(j.backends.webgpu.features.length).toBeGreaterThan(0);
    }
  });

  it('exits 0 with a clear line when only the CPU backend is available', () => {
    // Point the Vulkan loader at a driver list that does not exist: no adapter.
    const r = run('gpu-coadd', ['info'], {
      VK_DRIVER_FILES: '/nonexistent/icd.json',
      VK_ICD_FILENAMES: '/nonexistent/icd.json',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/webgpu {2}not usable: no WebGPU adapter found/);
    expect(r.stdout).toMatch(/Only the CPU backend is available here/);
  });

  it('rejects unknown commands with exit code 2', () => {
    const r = run('gpu-coadd', ['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: frobnicate/);
  });
});

describe('gpu-bench convolve', () => {
  it('--json prints the records and saves them with --out', () => {
    const out = join(tmp, 'bench.json');
    const r = run('gpu-bench', [
      'convolve',
      '--backend',
      'cpu',
      '--sizes',
      '96',
      '--widths',
      '5',
      '--kinds',
      'separable,general',
      '--repeats',
      '3',
      '--json',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout);
    expect(records).toHaveLength(2);
    for (const rec of records) {
      expect(rec).toMatchObject({
        op: 'convolve',
        backend: 'cpu',
        adapter: null,
        width: 96,
        height: 96,
      });
      expect(rec.params.kernel_width).toBe(5);
      expect(rec.median_ms).toBeGreaterThan(0);
      expect(rec.mpix_per_s).toBeCloseTo((96 * 96) / rec.median_ms / 1e3, 6);
      expect(rec.git_rev).toMatch(/^[0-9a-f]{7,}|unknown/);
    }
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(records);
  });

  it('refuses even kernel widths with exit code 2', () => {
    const r = run('gpu-bench', ['convolve', '--widths', '4', '--no-save']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--widths must be odd/);
  });
});

describe('gpu-sim', () => {
  it('writes the tiny preset deterministically and reports it', () => {
    const out = join(tmp, 'sim');
    const r = run('gpu-sim', ['--out', out, '--preset', 'tiny', '--seed', '3', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ preset: 'tiny', seed: 3, calexps: 8 });
    expect(existsSync(join(out, j.files.truth))).toBe(true);
    expect(existsSync(join(out, j.files.skymap))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, j.files.manifest), 'utf8'));
    expect(JSON.stringify(manifest)).toContain('calexp');
  });

  it('refuses an unknown preset with exit code 2 and a bad config file with 2', () => {
    const r = run('gpu-sim', ['--out', join(tmp, 'x'), '--preset', 'huge']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/preset.*Choices: "tiny", "small", "medium", "lsst"/s);
    const c = run('gpu-sim', ['--out', join(tmp, 'y'), '--config', join(tmp, 'missing.json')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/cannot read .*missing\.json as JSON/);
  });
});

describe('gpu-coadd run and demo', () => {
  it('demo: simulates a field and writes a coadd, catalogs and summaries per patch; a re-run skips finished patches', () => {
    const out = join(tmp, 'demo');
    const r = run('gpu-coadd', ['demo', '--out', out, '--backend', 'cpu', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.backend.kind).toBe('cpu');
    expect(s.inputs).toHaveLength(8);
    expect(s.units).toHaveLength(9);
    const centre = s.units.find((u: { target: string }) => u.target === 'tract0/patch1,1');
    expect(centre.visits).toHaveLength(4);
    expect(centre.sources).toBeGreaterThan(50);
    expect(centre.coveredPixels).toBeGreaterThan(100000);
    for (const f of [
      'coadd.fits',
      'coverage.fits',
      'sources.parquet',
      'sources.fits',
      'summary.json',
    ]) {
      expect(existsSync(join(out, 'coadd', 'tract0', 'patch1,1', 'r', f))).toBe(true);
    }
    const again = run('gpu-coadd', ['demo', '--out', out, '--backend', 'cpu', '--json']);
    expect(again.code).toBe(0);
    expect(
      JSON.parse(again.stdout).units.every((u: { skipped?: boolean }) => u.skipped === true),
    ).toBe(true);
  });

  it('run: a corrupt file among the inputs is skipped with its reason; an explicit .head grid works', () => {
    const demo = join(tmp, 'demo', 'sim');
    const bad = join(tmp, 'bad.fits');
    writeFileSync(bad, 'SIMPLE  =                    T / not really FITS');
    const head = join(tmp, 'grid.head');
    writeFileSync(
      head,
      [
        'NAXIS1  = 300',
        'NAXIS2  = 300',
        "CTYPE1  = 'RA---TAN'",
        "CTYPE2  = 'DEC--TAN'",
        'CRVAL1  = 150.0',
        'CRVAL2  = 2.2',
        'CRPIX1  = 150.5',
        'CRPIX2  = 150.5',
        'CD1_1   = -5.5555555555556E-05',
        'CD1_2   = 0.0',
        'CD2_1   = 0.0',
        'CD2_2   = 5.5555555555556E-05',
      ].join('\n'),
    );
    const out = join(tmp, 'grid-out');
    const r = run('gpu-coadd', [
      'run',
      join(demo, 'calexp'),
      bad,
      '--grid',
      head,
      '--out',
      out,
      '--backend',
      'cpu',
      '--statistic',
      'MEAN',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.skipped).toEqual([{ path: bad, reason: expect.any(String) }]);
    expect(s.units).toHaveLength(1);
    expect(s.units[0]).toMatchObject({
      target: 'grid',
      band: 'r',
      statistic: 'MEAN',
      bbox: { width: 300, height: 300 },
    });
    expect(s.units[0].sources).toBeGreaterThan(20);
  });

  it('bad usage and inputs: no target, nothing usable, nothing overlapping', () => {
    const demo = join(tmp, 'demo', 'sim');
    const noTarget = run('gpu-coadd', ['run', join(demo, 'calexp')]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/exactly one of --skymap .* or --grid/);
    const nothing = run('gpu-coadd', [
      'run',
      join(tmp, 'no-such-dir'),
      '--skymap',
      join(demo, 'skymap.json'),
      '--backend',
      'cpu',
    ]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/NO_INPUTS/);
    const far = join(tmp, 'far.head');
    writeFileSync(
      far,
      "NAXIS1 = 100\nNAXIS2 = 100\nCTYPE1 = 'RA---TAN'\nCTYPE2 = 'DEC--TAN'\nCRVAL1 = 10.0\nCRVAL2 = -40.0\nCRPIX1 = 50\nCRPIX2 = 50\nCD1_1 = -5.6E-05\nCD2_2 = 5.6E-05\n",
    );
    const none = run('gpu-coadd', ['run', join(demo, 'calexp'), '--grid', far, '--backend', 'cpu']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/NO_OVERLAP/);
    const threads = run('gpu-coadd', [
      'run',
      join(demo, 'calexp'),
      '--skymap',
      join(demo, 'skymap.json'),
      '--read-threads',
      '-1',
    ]);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toMatch(/--read-threads must be an integer from 0/);
  });
});
