import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/compute/cpu/cpu-backend.ts';
import { BackendDisposedError, ComputeError, WorkerError } from '../../src/compute/errors.ts';
import { createBackend, parseBackendChoice } from '../../src/compute/select.ts';
import { webgpuOrNull } from '../helpers/backends.ts';

describe('createBackend', () => {
  const saved = process.env.GPU_DRP_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.GPU_DRP_BACKEND;
    else process.env.GPU_DRP_BACKEND = saved;
  });

  it('cpu when asked', async () => {
    const { backend, reason } = await createBackend({ backend: 'cpu', threads: 3 });
    expect(backend.kind).toBe('cpu');
    expect((backend as CpuBackend).threads).toBe(3);
    expect(reason).toMatch(/CPU backend requested/);
    await backend.dispose();
  });

  it('auto takes the adapter when there is one and says which', async () => {
    const probe = await webgpuOrNull();
    const { backend, reason } = await createBackend({ backend: 'auto' });
    expect(backend.kind).toBe(probe ? 'webgpu' : 'cpu');
    expect(reason).toMatch(probe ? /WebGPU adapter: / : /CPU backend \(/);
    await backend.dispose();
  });

  it('reads GPU_DRP_BACKEND, and refuses unknown names with a typed error', async () => {
    process.env.GPU_DRP_BACKEND = 'cpu';
    const { backend } = await createBackend();
    expect(backend.kind).toBe('cpu');
    await backend.dispose();
    expect(parseBackendChoice('webgpu')).toBe('webgpu');
    expect(parseBackendChoice(undefined)).toBeUndefined();
    expect(() => parseBackendChoice('cuda')).toThrow(ComputeError);
    expect(() => parseBackendChoice('cuda')).toThrow(/use auto, webgpu or cpu/);
  });
});

describe('CPU worker pool', () => {
  const failing = new URL('./fixtures/failing-kernel.ts', import.meta.url);

  it('runs row bands on workers and reports a kernel failure as WorkerError', async () => {
    const cpu = new CpuBackend({ threads: 2 });
    const out = new Int32Array(new SharedArrayBuffer(4 * 1000));
    await cpu.parallelRows(failing, 'markRows', { out }, 1000, { pixelsPerRow: 1000 });
    // Every row written exactly once, by workers (marks carry the worker's thread id > 0).
    expect(out.every((v) => v > 0)).toBe(true);
    await expect(
      cpu.parallelRows(failing, 'explode', {}, 1000, { pixelsPerRow: 1000 }),
    ).rejects.toBeInstanceOf(WorkerError);
    await cpu.dispose();
    await expect(cpu.parallelRows(failing, 'markRows', { out }, 10)).rejects.toBeInstanceOf(
      BackendDisposedError,
    );
  });
});

describe('process lifetime', () => {
  it('idle workers of an undisposed CPU backend do not keep the process alive', () => {
    const script = fileURLToPath(new URL('./fixtures/undisposed.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('marked 2000');
  });
});
