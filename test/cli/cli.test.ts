/** The command-line entry points, run as a user runs them (separate processes). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
